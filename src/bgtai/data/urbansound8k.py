"""UrbanSound8K in its official layout: `metadata/UrbanSound8K.csv`, `audio/fold<n>/<slice_file_name>`."""

from __future__ import annotations

from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table

FOLDER = "urbansound8k"
COLUMNS = ("slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class")


def load_urbansound8k(root: Path | None = None, on_missing: OnMissing = "error") -> Dataset:
    """Every slice listed in the metadata; label = class, group = fsID (the source recording), fold.

    Classes are ordered by the official `classID`.
    """
    base = dataset_root(root, FOLDER)
    metadata = base / "metadata" / "UrbanSound8K.csv"
    missing = MissingFiles(metadata, on_missing)
    items: list[Item] = []
    class_ids: dict[int, str] = {}
    for row in read_table(metadata, COLUMNS).rows:
        v = row.values
        fold = int(v["fold"])
        audio, keep = missing.audio(base / "audio" / f"fold{fold}" / v["slice_file_name"], row.line)
        class_ids[int(v["classID"])] = v["class"]
        if not keep:
            continue
        items.append(
            Item(
                id=Path(v["slice_file_name"]).stem,
                audio=audio,
                label=v["class"],
                group=v["fsID"],
                fold=fold,
                meta={name: v[name] for name in ("classID", "start", "end", "salience", "slice_file_name")},
            )
        )
    missing.warn()
    classes = [class_ids[c] for c in sorted(class_ids)]
    return Dataset("urbansound8k", base, items, classes, missing.reports)
