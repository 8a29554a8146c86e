"""ESC-50 in its official layout: `meta/esc50.csv` and `audio/<filename>` (any audio suffix)."""

from __future__ import annotations

from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table

FOLDER = "esc50"
COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def load_esc50(root: Path | None = None, on_missing: OnMissing = "error") -> Dataset:
    """Every clip listed in `meta/esc50.csv`; label = category, group = src_file, fold = official fold.

    Classes are ordered by the official `target` number.
    """
    base = dataset_root(root, FOLDER)
    metadata = base / "meta" / "esc50.csv"
    missing = MissingFiles(metadata, on_missing)
    items: list[Item] = []
    targets: dict[int, str] = {}
    for row in read_table(metadata, COLUMNS).rows:
        v = row.values
        audio, keep = missing.audio(base / "audio" / v["filename"], row.line)
        targets[int(v["target"])] = v["category"]
        if not keep:
            continue
        items.append(
            Item(
                id=Path(v["filename"]).stem,
                audio=audio,
                label=v["category"],
                group=v["src_file"],
                fold=int(v["fold"]),
                meta={"target": v["target"], "esc10": v["esc10"], "take": v["take"], "filename": v["filename"]},
            )
        )
    missing.warn()
    classes = [targets[t] for t in sorted(targets)]
    return Dataset("esc50", base, items, classes, missing.reports)
