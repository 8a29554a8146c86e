"""UrbanSound8K in its official layout: `metadata/UrbanSound8K.csv`, `audio/fold<n>/<slice_file_name>`."""

from __future__ import annotations

from pathlib import Path

from bgtai.data.class_pairs import class_pairs
from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import class_caption_pairs
from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table
from bgtai.eval.protocols import ClassificationProtocol

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


# the recipes train on folds 1-3 (`urbansound8k_folds`, at most `per_class` clips a class: its 10 classes would
# otherwise crowd out the rest), so zero-shot scores fold 10 only; probes test on the official folds 1, 2 and 10
ENTRY = DatasetEntry(
    name="urbansound8k",
    folder=FOLDER,
    display="UrbanSound8K",
    loader=load_urbansound8k,
    protocol=ClassificationProtocol(
        name="urbansound8k-folds-1-2-10",
        display="UrbanSound8K folds 1/2/10",
        # fold 10 is never trained on, but its classes are seen unless a recipe leaves urbansound8k out, so this
        # is zero-shot in clips, not in classes
        zeroshot_name="urbansound8k-fold10-zeroshot-10way (clips never trained on; classes seen when trained on "
        "folds 1-3)",
        zeroshot_key="urbansound8k-fold10",
        zeroshot_display="UrbanSound8K fold 10",
        probe_test_folds=(1, 2, 10),
        zeroshot_folds=(10,),
    ),
    pairs={
        "urbansound8k": class_caption_pairs(
            "urbansound8k", lambda options, item: item.fold in set(options.urbansound8k_folds)
        ),
        "class_pairs": class_pairs,
    },
)
