"""Tux Paint stamps: the same object as picture, sound effect, description and spoken description.

Layout under `stamps/<category>/.../`, one stamp per name:
- `<name>.png` picture; `<name>_mirror.png` a hand-drawn mirrored picture of the same stamp;
- `<name>.txt` descriptions: the first line English, then `<locale>.utf8=<text>` lines;
- `<name>.ogg` sound effect; `<name>_<locale>.ogg` a localised sound (the letters in
  `symbols/` say their name this way);
- `<name>_desc.ogg` spoken English description; `<name>_desc_<locale>.ogg` localised;
- `<name>.dat` flags, one a line (`colorable`, `nomirror`, `scale 30%`, ...).

Upstream also ships SVG-only stamps; a trimmed copy may keep their description or sound
without a picture, so a stamp is an item when it has a picture, a description, a sound or a
spoken description, with `image=None` when it has no PNG.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import folder, trainable
from bgtai.data.registry import DatasetEntry, SplitRule
from bgtai.data.splits import HASHED_TEST_FRACTION
from bgtai.data.tables import dataset_root
from bgtai.errors import BadInputError

FOLDER = "tuxpaint"
_LOCALE = re.compile(r"^[a-z]{2,3}(?:_[A-Za-z]{2})?(?:@[a-z]+)?$")
_LOCALISED_LINE = re.compile(r"^([A-Za-z_@]+)\.utf8=(.*)$")
_SHARED = "stamps sharing a sound, spoken description, picture or description"

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions


@dataclass
class _Stamp:
    picture: Path | None = None
    mirror: Path | None = None
    text: Path | None = None
    sound: Path | None = None
    speech: Path | None = None
    flags: Path | None = None
    localised: dict[str, str] = field(default_factory=dict)


def load_tuxpaint(root: Path | None = None) -> Dataset:
    """One item per stamp: image = PNG, audio = sound effect, texts = (English description,).

    label = the category path (e.g. `animals/mammals`); meta has `speech` (spoken English
    description), `mirror_image`, `flags`, `description.<locale>`, `sound.<locale>`,
    `speech.<locale>`, and `category` (the top folder).
    """
    base = dataset_root(root, FOLDER)
    stamps_dir = base / "stamps"
    if not stamps_dir.is_dir():
        raise BadInputError(str(stamps_dir), "no stamps/ folder")
    stamps: dict[Path, _Stamp] = {}
    oggs: list[Path] = []
    for path in sorted(p for p in stamps_dir.rglob("*") if p.is_file()):
        key = path.with_suffix("")
        suffix = path.suffix.lower()
        if suffix == ".png":
            if key.name.endswith("_mirror"):
                stamps.setdefault(key.with_name(key.name[: -len("_mirror")]), _Stamp()).mirror = path
            else:
                stamps.setdefault(key, _Stamp()).picture = path
        elif suffix == ".txt":
            stamps.setdefault(key, _Stamp()).text = path
        elif suffix == ".dat":
            stamps.setdefault(key, _Stamp()).flags = path
        elif suffix == ".ogg":
            oggs.append(path)
    # sounds last: whether `x_de.ogg` is a localised sound of `x` depends on `x` being a stamp
    for path in oggs:
        _attach_sound(stamps, path.with_suffix(""), path)
    # a flags file alone (upstream has an orphan `u_with_umlaut.dat`) is not a stamp
    items = [
        _item(stamps_dir, key, stamp)
        for key, stamp in sorted(stamps.items())
        if stamp.picture or stamp.text or stamp.sound or stamp.speech
    ]
    return Dataset("tuxpaint", base, items, classes=sorted({str(item.label) for item in items}))


def _attach_sound(stamps: dict[Path, _Stamp], key: Path, path: Path) -> None:
    name = key.name
    if name.endswith("_desc"):
        stamps.setdefault(key.with_name(name[: -len("_desc")]), _Stamp()).speech = path
        return
    head, locale = _split_locale(stamps, key)
    if head is not None and locale is not None:
        if head.name.endswith("_desc"):
            stamps.setdefault(head.with_name(head.name[: -len("_desc")]), _Stamp()).localised[f"speech.{locale}"] = str(
                path
            )
        else:
            stamps[head].localised[f"sound.{locale}"] = str(path)
        return
    stamps.setdefault(key, _Stamp()).sound = path


def _split_locale(stamps: dict[Path, _Stamp], key: Path) -> tuple[Path | None, str | None]:
    """(`x`, `de`) for `x_de` when `x` (or `x` without `_desc`) is a stamp and `de` looks like a locale."""
    parts = key.name.split("_")
    # try the longest locale first: `x_en_GB` before `x_en`... then `x_GB`
    for cut in range(max(1, len(parts) - 2), len(parts)):
        head, locale = "_".join(parts[:cut]), "_".join(parts[cut:])
        if not _LOCALE.match(locale):
            continue
        stem = head.removesuffix("_desc")
        if key.with_name(stem) in stamps:
            return key.with_name(head), locale
    return None, None


def _item(stamps_dir: Path, key: Path, stamp: _Stamp) -> Item:
    stamp_id = key.relative_to(stamps_dir).as_posix()
    category = key.parent.relative_to(stamps_dir).as_posix()
    meta: dict[str, str] = {"category": category.split("/")[0]}
    texts: tuple[str, ...] = ()
    if stamp.text is not None:
        english, localised = _read_descriptions(stamp.text)
        texts = (english,) if english else ()
        meta.update({f"description.{locale}": text for locale, text in localised.items()})
    if stamp.speech is not None:
        meta["speech"] = str(stamp.speech)
    if stamp.mirror is not None:
        meta["mirror_image"] = str(stamp.mirror)
    if stamp.flags is not None:
        lines = stamp.flags.read_text(encoding="utf-8", errors="replace").splitlines()
        meta["flags"] = ",".join(line.strip() for line in lines if line.strip())
    meta.update(stamp.localised)
    return Item(id=stamp_id, audio=stamp.sound, image=stamp.picture, texts=texts, label=category, meta=meta)


def _read_descriptions(path: Path) -> tuple[str, dict[str, str]]:
    """(English first line, {locale: text}) of a stamp's .txt file."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    english = ""
    localised: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _LOCALISED_LINE.match(line.strip())
        if match:
            localised[match.group(1)] = match.group(2).strip()
        elif index == 0:
            english = line.strip()
    return english, localised


# ---------------------------------------------------------------------------------------------
# training pairs and the registry entry


def tuxpaint_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """Each stamp with picture, sound and description as one trimodal pair; stamps without a sound give
    picture-description pairs, without a picture sound-description pairs; spoken descriptions give speech-text
    pairs. Every pair of a stamp has the stamp as label (not each other's negatives)."""
    from bgtai.data.pairs import Pair

    for item in trainable(options, "tuxpaint", load_tuxpaint(folder(root, "tuxpaint"))):
        description = item.texts[0] if item.texts else None
        group, label = f"tuxpaint:{item.id}", f"tuxpaint:{item.id}"
        if item.image is not None and item.audio is not None and description:
            yield Pair(
                "tuxpaint object",
                "tuxpaint",
                group,
                audio=item.audio,
                image=item.image,
                caption=description,
                audio_caption=description,
                visual_caption=description,
                label=label,
            )
        elif item.image is not None and description:
            yield Pair(
                "tuxpaint picture description",
                "tuxpaint",
                group,
                image=item.image,
                caption=description,
                visual_caption=description,
                label=label,
            )
        elif item.audio is not None and description:
            yield Pair(
                "tuxpaint sound description",
                "tuxpaint",
                group,
                audio=item.audio,
                caption=description,
                audio_caption=description,
                label=label,
            )
        speech = item.meta.get("speech")
        if speech and description:
            yield Pair(
                "tuxpaint spoken description", "tuxpaint", group, audio=Path(speech), caption=description, label=label
            )


ENTRY = DatasetEntry(
    name="tuxpaint",
    folder=FOLDER,
    display="Tux Paint",
    loader=load_tuxpaint,
    split=SplitRule(
        "hashed",
        f"content-grouped: {_SHARED} form one group; groups whose smallest id hashes "
        f"below {HASHED_TEST_FRACTION} are test (about {HASHED_TEST_FRACTION:.0%})",
        shared=_SHARED,
    ),
    pairs={"tuxpaint": tuxpaint_pairs},
)
