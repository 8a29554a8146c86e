"""ESC-50 in its official layout: `meta/esc50.csv` and `audio/<filename>` (any audio suffix)."""

from __future__ import annotations

from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import class_caption_pairs
from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table
from bgtai.eval.protocols import ClassificationProtocol

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


# ESC-50 trains pairs only when a recipe takes it out of `hold_out` (by default zero-shot stays zero-shot),
# and never from `esc50_exclude_folds`; probes and zero-shot score the 400 clips of fold 4
ENTRY = DatasetEntry(
    name="esc50",
    folder=FOLDER,
    display="ESC-50",
    loader=load_esc50,
    protocol=ClassificationProtocol(
        name="esc50-fold4-grouped-4cv",
        display="ESC-50 fold 4",
        zeroshot_name="esc50-fold4-zeroshot-50way",
        folds=(4,),
        grouped_cv=4,
    ),
    pairs={
        "esc50": class_caption_pairs("esc50", lambda options, item: item.fold not in set(options.esc50_exclude_folds))
    },
)
