"""Which datasets a data root holds and how many items each has (metadata and file checks only)."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bgtai.config import data_root
from bgtai.data import (
    asterisk,
    bbc_summary,
    clotho,
    coco,
    esc50,
    fsdd,
    parallel_text,
    sound_library,
    tuxpaint,
    urbansound8k,
)
from bgtai.data.item import Dataset
from bgtai.errors import BadInputError

# name -> loader taking the dataset's folder
DATASETS: dict[str, Callable[..., Dataset]] = {
    "esc50": esc50.load_esc50,
    "urbansound8k": urbansound8k.load_urbansound8k,
    "clotho": clotho.load_clotho,
    "coco": coco.load_coco,
    "tuxpaint": tuxpaint.load_tuxpaint,
    "fsdd": fsdd.load_fsdd,
    "asterisk": asterisk.load_asterisk,
    "sound_library": sound_library.load_sound_library,
}
FOLDERS: dict[str, str] = {
    "esc50": esc50.FOLDER,
    "urbansound8k": urbansound8k.FOLDER,
    "clotho": clotho.FOLDER,
    "coco": coco.FOLDER,
    "tuxpaint": tuxpaint.FOLDER,
    "fsdd": fsdd.FOLDER,
    "asterisk": asterisk.FOLDER,
    "sound_library": sound_library.FOLDER,
    "gloss": parallel_text.GLOSS_FOLDER,
    "bbc_summary": bbc_summary.FOLDER,
}


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    folder: str
    present: bool
    items: int
    with_audio: int
    with_image: int
    with_text: int
    note: str


def list_datasets(root: Path | None = None) -> list[DatasetSummary]:
    """One summary per known dataset under `root` (default: the data root); nothing is decoded."""
    base = root if root is not None else data_root()
    summaries: list[DatasetSummary] = []
    for name, folder_name in FOLDERS.items():
        folder = base / folder_name if base is not None else Path(folder_name)
        if base is None or not folder.is_dir():
            summaries.append(DatasetSummary(name, str(folder), False, 0, 0, 0, 0, "not found"))
            continue
        try:
            summaries.append(_summarise(name, folder))
        except (BadInputError, ValueError, OSError) as error:
            summaries.append(DatasetSummary(name, str(folder), True, 0, 0, 0, 0, f"unreadable: {error}"))
    return summaries


def _summarise(name: str, folder: Path) -> DatasetSummary:
    if name == "gloss":
        return _summarise_gloss(folder)
    if name == "bbc_summary":
        pairs = bbc_summary.count_pairs(folder)
        topics = sorted(p.name for p in (folder / "News Articles").iterdir() if p.is_dir())
        return DatasetSummary(
            name, str(folder), True, pairs, 0, 0, pairs, f"article/summary pairs; topics: {', '.join(topics)}"
        )
    loader = DATASETS[name]
    # a listing reports missing files instead of failing on them
    takes_policy = "on_missing" in inspect.signature(loader).parameters
    dataset = loader(folder, on_missing="keep") if takes_policy else loader(folder)
    items = dataset.items
    return DatasetSummary(
        name,
        str(folder),
        True,
        len(items),
        sum(item.audio is not None for item in items),
        sum(item.image is not None for item in items),
        sum(bool(item.texts) for item in items),
        _note(dataset),
    )


def _note(dataset: Dataset) -> str:
    parts: list[str] = []
    if dataset.classes is not None:
        parts.append(f"{len(dataset.classes)} classes")
    folds = Counter(item.fold for item in dataset.items if item.fold is not None)
    if folds:
        parts.append("folds " + ", ".join(f"{fold}: {count}" for fold, count in sorted(folds.items())))
    splits = Counter(item.split for item in dataset.items if item.split is not None)
    if splits:
        parts.append("splits " + ", ".join(f"{split}: {count}" for split, count in sorted(splits.items())))
    spoken = sum("speech" in item.meta for item in dataset.items)
    if spoken:
        parts.append(f"{spoken} spoken descriptions")
    groups = {item.group for item in dataset.items if item.group is not None}
    if groups:
        parts.append(f"{len(groups)} groups")
    if dataset.missing:
        parts.append(f"{len(dataset.missing)} listed files missing")
    return "; ".join(parts)


def _summarise_gloss(folder: Path) -> DatasetSummary:
    counts: list[str] = []
    total = 0
    for corpus, (_, _, _, splits) in parallel_text.GLOSS_CORPORA.items():
        for split in splits:
            source, target = parallel_text.gloss_files(corpus, split, folder)
            if source.is_file() and target.is_file():
                pairs = len(parallel_text.load_parallel_text(source, target))
                total += pairs
                counts.append(f"{corpus} {split}: {pairs}")
    return DatasetSummary("gloss", str(folder), True, total, 0, 0, total, "sentence/gloss pairs; " + ", ".join(counts))
