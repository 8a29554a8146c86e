"""Training pairs for the joint space, built from the real datasets, each tagged with how it was made.

Sources (`PairOptions.sources`):
- `sound_library`: each sound effect with its caption (weak label = the caption): the breadth
  of sound concepts that zero-shot classification needs;
- `urbansound8k`: clips with a caption made from their class name, at most `per_class` clips
  a class (its 10 classes would otherwise crowd out the rest), from `urbansound8k_folds`;
- `tuxpaint`: each stamp with picture, sound and description as one trimodal pair; stamps
  without a sound give picture-description pairs; spoken descriptions give speech-text pairs;
- `coco`: COCO-mini images of `coco_splits`, one pair per caption (label = the image, so its
  other captions are not negatives);
- `fsdd`, `asterisk`: speech with its transcript;
- `class_pairs`: class-level audio-picture pairs: UrbanSound8K clips of a class with Tux Paint
  or COCO pictures whose description names the class, with the audio caption (class), the
  visual caption (the picture's description) and an audio-visual caption joining both;
- `esc50`: ESC-50 clips with class captions, only when `esc50` is not in `hold_out` (by
  default it is, so ESC-50 zero-shot stays zero-shot), and never from `esc50_exclude_folds`.

Your own pairs: `PairOptions.manifests` lists CSV manifests (`bgtai.data.manifest_pairs`:
audio,caption / image,caption / audio,image / speech,transcript), each checked row by row
before any pair is made; a recipe's `data` section names them as
`"manifests": [{"path": "my/pairs.csv", "kind": "audio,caption"}]` (`kind` may be left out).

With `exclude_test` (the default) the test items of `bgtai.data.splits` (Tux Paint and
Asterisk content groups hashed 30 %, FSDD indices 0-4, COCO val2017) never become training
pairs, nor does any item sharing a sound, picture or caption with one of them, so the
retrieval figures of `bgtai eval retrieval` are measured on unseen content. The split is
decided over each dataset's whole item list, so COCO is loaded with both splits and then
cut to `coco_splits`.

Every choice (which clips a class keeps, which caption template) depends only on the
inputs and `seed`, so the same options always give the same pairs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bgtai.data.manifest_pairs import ManifestSource, manifest_pairs
from bgtai.data.splits import check_fold, ids_for_training
from bgtai.gloss.view import gloss_view
from bgtai.strict_fields import require_known_fields

SOURCES: tuple[str, ...] = (
    "sound_library",
    "urbansound8k",
    "tuxpaint",
    "coco",
    "fsdd",
    "asterisk",
    "class_pairs",
    "esc50",
)
CLASS_TEMPLATES: tuple[str, ...] = ("{}", "the sound of {}", "a recording of {}", "{} can be heard")

# UrbanSound8K class -> words that name it in a picture's description or caption
PICTURE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "air_conditioner": ("air conditioner", "fan"),
    "car_horn": ("car", "taxi"),
    "children_playing": ("children", "child", "kids", "playground"),
    "dog_bark": ("dog", "puppy"),
    "drilling": ("drill",),
    "engine_idling": ("truck", "bus", "engine", "tractor"),
    "gun_shot": ("gun", "cannon", "rifle"),
    "jackhammer": ("jackhammer", "construction"),
    "siren": ("ambulance", "police", "fire engine", "fire truck"),
    "street_music": ("guitar", "drum", "trumpet", "saxophone", "violin"),
}


@dataclass(frozen=True)
class Pair:
    """One training example: whichever of audio, image and caption(s) it has, and how it was made."""

    how: str  # e.g. "sound-library caption", "tuxpaint object", "class-level audio-picture"
    source: str
    group: str  # pairs sharing a group stay on one side of the train/validation split
    audio: Path | None = None
    image: Path | None = None
    caption: str | None = None  # describes the whole pair (an audio-visual caption)
    audio_caption: str | None = None
    visual_caption: str | None = None
    label: str | None = None  # pairs with equal labels are not each other's negatives


@dataclass
class PairOptions:
    sources: list[str] = field(
        default_factory=lambda: ["sound_library", "urbansound8k", "tuxpaint", "coco", "fsdd", "asterisk", "class_pairs"]
    )
    # CSV manifests of your own pairs (`ManifestSource`, or in a recipe {"path": ..., "kind": ...} or a bare path)
    manifests: list[ManifestSource] = field(default_factory=list)
    hold_out: list[str] = field(default_factory=lambda: ["esc50"])
    per_class: int = 80  # UrbanSound8K and ESC-50 clips kept per class
    urbansound8k_folds: list[int] = field(default_factory=lambda: [1, 2, 3])
    coco_splits: list[str] = field(default_factory=lambda: ["train"])
    fsdd_max: int = 300
    class_pairs_per_class: int = 40
    esc50_exclude_folds: list[int] = field(default_factory=lambda: [4])
    max_per_source: dict[str, int] = field(default_factory=dict)
    exclude_test: bool = True  # leave out the test items of `bgtai.data.splits` (what eval retrieval scores)
    # which test fold of the hashed datasets (Tux Paint, Asterisk) is left out: 0 is the default split, 1 and 2
    # let three runs cross-validate; `bgtai eval retrieval` reads it from the model and scores that fold
    test_fold: int = 0
    gloss_view: bool = False  # also pair each COCO picture with the gloss of each caption (bgtai.gloss.view)
    # training audio cut to its first N front-end frames (0: whole clips); BGTAI Table 4's audio-duration rows.
    # Applied by the trainer to the frozen features, so evaluation still embeds whole clips
    max_audio_frames: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        check_fold(self.test_fold)
        unknown = sorted(set(self.sources) - set(SOURCES))
        if unknown:
            raise ValueError(f"unknown pair sources {unknown}; known: {', '.join(SOURCES)}")
        self.manifests = [ManifestSource.parse(m) for m in self.manifests]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairOptions:
        require_known_fields(cls, data, "pair options")
        return cls(**data)


def class_phrase(name: str) -> str:
    """'dog_bark' -> 'dog bark', 'Crackling-fire' -> 'crackling fire'."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", name)).strip().lower()


def _rank(key: str, seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest(), "little")


def _pick(items: Sequence[Any], count: int, seed: int, key: Any = str) -> list[Any]:
    """`count` items chosen by a seeded hash of `key(item)`: stable whatever the input order."""
    ranked = sorted(items, key=lambda item: _rank(key(item), seed))
    return ranked[: max(0, count)]


def _template(key: str, seed: int) -> str:
    return CLASS_TEMPLATES[_rank("template:" + key, seed) % len(CLASS_TEMPLATES)]


def build_pairs(options: PairOptions | None = None, root: Path | None = None) -> list[Pair]:
    """Every pair of the chosen sources, then of the manifests; `root`: the data root (default `data_root()`)."""
    options = options or PairOptions()
    # the manifests first: a bad row fails before the (slower) built-in sources are read
    own = [pair for manifest in options.manifests for pair in manifest_pairs(manifest)]
    builders = {
        "sound_library": _sound_library,
        "urbansound8k": _urbansound8k,
        "tuxpaint": _tuxpaint,
        "coco": _coco,
        "fsdd": _fsdd,
        "asterisk": _asterisk,
        "class_pairs": _class_pairs,
        "esc50": _esc50,
    }
    pairs: list[Pair] = []
    for source in options.sources:
        if source in options.hold_out:
            continue
        made = list(builders[source](options, root))
        cap = options.max_per_source.get(source)
        if cap is not None:
            made = _pick(made, cap, options.seed, key=lambda p: f"{p.group}|{p.audio}|{p.image}|{p.caption}")
        pairs.extend(made)
    return pairs + own


def summarise(pairs: Iterable[Pair]) -> dict[str, int]:
    """How many pairs each way of making them gave."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.how] = counts.get(pair.how, 0) + 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------------------------------------
# one builder per source


def _root(root: Path | None, folder: str) -> Path | None:
    return None if root is None else Path(root) / folder


def _trainable(options: PairOptions, dataset: str, items: Iterable[Any]) -> list[Any]:
    """The items training may use; `items` must be the dataset's whole list (the split groups shared content)."""
    items = list(items)
    if not options.exclude_test:
        return items
    allowed = ids_for_training(dataset, items, options.test_fold)
    return [item for item in items if str(item.id) in allowed]


def _coco_items(options: PairOptions, root: Path | None) -> list[Any]:
    """COCO items of `coco_splits` that training may use: split over both official splits, then cut."""
    from bgtai.data import load_coco

    everything = load_coco(_root(root, "coco_mini"))
    return [item for item in _trainable(options, "coco", everything) if item.split in options.coco_splits]


def _sound_library(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_sound_library

    for item in load_sound_library(_root(root, "sound_library")):
        if item.audio is None or not item.texts:
            continue
        caption = item.texts[0]
        yield Pair(
            "sound-library caption",
            "sound_library",
            f"sound_library:{item.group or item.id}",
            audio=item.audio,
            caption=caption,
            audio_caption=caption,
            label=caption,
        )


def _class_clips(items: Iterable[Any], per_class: int, seed: int) -> list[Any]:
    by_class: dict[str, list[Any]] = {}
    for item in items:
        if item.audio is not None and item.label is not None:
            by_class.setdefault(str(item.label), []).append(item)
    return [clip for label in sorted(by_class) for clip in _pick(by_class[label], per_class, seed, key=lambda i: i.id)]


def _urbansound8k(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_urbansound8k

    items = [i for i in load_urbansound8k(_root(root, "urbansound8k")) if i.fold in set(options.urbansound8k_folds)]
    for item in _class_clips(items, options.per_class, options.seed):
        caption = _template(item.id, options.seed).format(class_phrase(item.label))
        yield Pair(
            "class caption",
            "urbansound8k",
            f"urbansound8k:{item.group}",
            audio=item.audio,
            caption=caption,
            audio_caption=caption,
            label=f"class:{item.label}",
        )


def _esc50(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_esc50

    items = [i for i in load_esc50(_root(root, "esc50")) if i.fold not in set(options.esc50_exclude_folds)]
    for item in _class_clips(items, options.per_class, options.seed):
        caption = _template(item.id, options.seed).format(class_phrase(item.label))
        yield Pair(
            "class caption",
            "esc50",
            f"esc50:{item.group}",
            audio=item.audio,
            caption=caption,
            audio_caption=caption,
            label=f"class:{item.label}",
        )


def _tuxpaint(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_tuxpaint

    for item in _trainable(options, "tuxpaint", load_tuxpaint(_root(root, "tuxpaint"))):
        description = item.texts[0] if item.texts else None
        group = f"tuxpaint:{item.id}"
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
                label=f"tuxpaint:{item.id}",
            )
        elif item.image is not None and description:
            yield Pair(
                "tuxpaint picture description",
                "tuxpaint",
                group,
                image=item.image,
                caption=description,
                visual_caption=description,
                label=f"tuxpaint:{item.id}",
            )
        elif item.audio is not None and description:
            yield Pair(
                "tuxpaint sound description",
                "tuxpaint",
                group,
                audio=item.audio,
                caption=description,
                audio_caption=description,
                label=f"tuxpaint:{item.id}",
            )
        speech = item.meta.get("speech")
        if speech and description:
            yield Pair(
                "tuxpaint spoken description",
                "tuxpaint",
                group,
                audio=Path(speech),
                caption=description,
                label=f"tuxpaint:{item.id}",
            )


def _coco(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    for item in _coco_items(options, root):
        for caption in item.texts:
            yield Pair(
                "coco caption",
                "coco",
                f"coco:{item.id}",
                image=item.image,
                caption=caption,
                visual_caption=caption,
                label=f"coco:{item.id}",
            )
            if options.gloss_view:
                gloss = gloss_view(caption)
                yield Pair(
                    "coco caption gloss",
                    "coco",
                    f"coco:{item.id}",
                    image=item.image,
                    caption=gloss,
                    visual_caption=gloss,
                    label=f"coco:{item.id}",
                )


def _fsdd(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_fsdd

    items = [i for i in _trainable(options, "fsdd", load_fsdd(_root(root, "fsdd"))) if i.audio is not None and i.texts]
    for item in _pick(items, options.fsdd_max, options.seed, key=lambda i: i.id):
        yield Pair(
            "fsdd transcript",
            "fsdd",
            f"fsdd:{item.group}",
            audio=item.audio,
            caption=item.texts[0],
            label=f"word:{item.texts[0]}",
        )


def _asterisk(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    from bgtai.data import load_asterisk

    for item in _trainable(options, "asterisk", load_asterisk(_root(root, "asterisk_prompts"))):
        if item.audio is not None and item.texts:
            yield Pair(
                "asterisk transcript",
                "asterisk",
                f"asterisk:{item.id}",
                audio=item.audio,
                caption=item.texts[0],
                label=f"transcript:{item.texts[0].lower()}",
            )


def _class_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """UrbanSound8K clips of a class x pictures whose text names the class (class-level, not item-level)."""
    from bgtai.data import load_tuxpaint, load_urbansound8k

    pictures: list[tuple[str, Path, str]] = []  # (id, image, description)
    for item in _trainable(options, "tuxpaint", load_tuxpaint(_root(root, "tuxpaint"))):
        if item.image is not None and item.texts:
            pictures.append((f"tuxpaint:{item.id}", item.image, item.texts[0]))
    for item in _coco_items(options, root):
        if item.image is not None and item.texts:
            pictures.append((f"coco:{item.id}", item.image, item.texts[0]))
    items = [i for i in load_urbansound8k(_root(root, "urbansound8k")) if i.fold in set(options.urbansound8k_folds)]
    clips = _class_clips(items, options.class_pairs_per_class, options.seed + 1)
    for label in sorted({str(c.label) for c in clips}):
        words = PICTURE_KEYWORDS.get(label, (class_phrase(label),))
        matching = [p for p in pictures if any(re.search(rf"\b{re.escape(w)}s?\b", p[2].lower()) for w in words)]
        if not matching:
            continue
        for number, clip in enumerate(c for c in clips if c.label == label):
            picture_id, image, description = matching[number % len(matching)]
            audio_caption = _template(clip.id, options.seed).format(class_phrase(label))
            # the audio-visual caption describes both (SLAVA's AV captions): the sound's caption, then the picture's
            av_caption = f"{audio_caption}, with {description[:1].lower()}{description[1:]}"
            yield Pair(
                "class-level audio-picture",
                "class_pairs",
                f"urbansound8k:{clip.group}",
                audio=clip.audio,
                image=image,
                caption=av_caption,
                audio_caption=audio_caption,
                visual_caption=description,
                label=f"class:{label}",
            )
