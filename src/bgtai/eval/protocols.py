"""Evaluation protocols: how `bgtai eval probe` and `bgtai eval zeroshot` score a dataset's labelled items.

A dataset's registry entry (`bgtai.data.registry.DatasetEntry.protocol`) carries its protocol, so a
new dataset is one entry; what the fields mean, and the code that runs them (`bgtai.eval.datasets`,
`bgtai.eval.probe`, `bgtai.eval.zeroshot`), live here in `bgtai.eval`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bgtai.data.item import Item


@dataclass(frozen=True)
class ClassificationProtocol:
    """How `bgtai eval probe` and `bgtai eval zeroshot` score the dataset's labelled items (`bgtai.eval.datasets`).

    The set holds the items whose fold is in `folds` (all when empty); the class of an item is `label(item)`
    (default: its `label`), its group `item.group` (never split across a probe's sides), its fold `item.fold`.
    The probe tests on each of `probe_test_folds` in turn (training on every other fold present) or, when
    that is empty, on `grouped_cv` stratified folds that keep each group on one side. Zero-shot scores the
    items of the set whose fold is in `zeroshot_folds` (all when empty), under the result key `zeroshot_key`.
    """

    name: str  # the probe protocol, written into every result
    display: str  # e.g. "ESC-50 fold 4": results' column header and printed summaries
    zeroshot_name: str
    zeroshot_key: str = ""  # result key of zero-shot results (default: the dataset's name)
    zeroshot_display: str = ""  # default: `display`
    folds: tuple[int, ...] = ()
    probe_test_folds: tuple[int, ...] = ()
    grouped_cv: int = 4
    zeroshot_folds: tuple[int, ...] = ()
    modality: str = "audio"  # what the items' inputs are: "audio" (item.audio) or "image" (item.image)
    label: Callable[[Item], str | None] = field(default=lambda item: item.label)


__all__ = ["ClassificationProtocol"]
