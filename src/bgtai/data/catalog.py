"""Which datasets a data root holds and how many items each has (metadata and file checks only)."""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bgtai.config import data_root
from bgtai.data.item import Dataset
from bgtai.data.registry import dataset_entry, dataset_names
from bgtai.errors import BadInputError


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
    for name in dataset_names():
        folder_name = dataset_entry(name).folder
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
    entry = dataset_entry(name)
    if entry.count is not None:  # a text corpus: pairs of texts, no item list
        pairs, note = entry.count(folder)
        return DatasetSummary(name, str(folder), True, pairs, 0, 0, pairs, note)
    loader = entry.loader
    assert loader is not None  # DatasetEntry has a loader or a count
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


def __getattr__(name: str) -> object:
    """`DATASETS` (name -> loader) and `FOLDERS` (name -> folder): views of the registry, kept importable."""
    if name == "DATASETS":
        return {n: dataset_entry(n).loader for n in dataset_names() if dataset_entry(n).loader is not None}
    if name == "FOLDERS":
        return {n: dataset_entry(n).folder for n in dataset_names()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
