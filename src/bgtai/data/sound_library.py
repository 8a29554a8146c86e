"""The captioned sound library: `manifest.csv` (audio, caption, source, license, origin, duration)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import folder
from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table

FOLDER = "sound_library"
COLUMNS = ("audio", "caption", "source", "license", "origin", "duration")
# `origin` ends with " [segment 0-10s]" when a clip is a cut of a longer file
_SEGMENT = re.compile(r"\s*\[segment [^\]]*\]\s*$")

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions


def source_file(origin: str) -> str:
    """The file a clip was cut from: its origin without the segment note."""
    return _SEGMENT.sub("", origin)


def load_sound_library(root: Path | None = None, on_missing: OnMissing = "error") -> Dataset:
    """One item per clip; text and label = caption, group = the origin's source file (cuts of one
    file stay together in grouped splits)."""
    base = dataset_root(root, FOLDER)
    metadata = base / "manifest.csv"
    missing = MissingFiles(metadata, on_missing)
    items: list[Item] = []
    for row in read_table(metadata, COLUMNS).rows:
        v = row.values
        audio, keep = missing.audio(base / v["audio"], row.line)
        if not keep:
            continue
        caption = v["caption"].strip()
        items.append(
            Item(
                id=Path(v["audio"]).stem,
                audio=audio,
                texts=(caption,),
                label=caption,
                group=source_file(v["origin"]),
                meta={name: v[name] for name in ("source", "license", "origin", "duration")},
            )
        )
    missing.warn()
    return Dataset(
        "sound_library", base, items, classes=sorted({str(item.label) for item in items}), missing=missing.reports
    )


def sound_library_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """Each sound effect with its caption (weak label = the caption): the breadth of sound concepts zero-shot needs."""
    from bgtai.data.pairs import Pair

    for item in load_sound_library(folder(root, "sound_library")):
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


ENTRY = DatasetEntry(
    name="sound_library",
    folder=FOLDER,
    display="sound library",
    loader=load_sound_library,
    pairs={"sound_library": sound_library_pairs},
)
