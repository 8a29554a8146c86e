"""The classification sets the probes and zero-shot runs use, as plain arrays, from `bgtai.data`.

Which datasets are classification sets, which items they hold and how they are split is the
`ClassificationProtocol` of each dataset's registry entry (`bgtai.data.registry`); this module
runs it. The built-in ones:
- `esc50`: the 400 clips of ESC-50 fold 4; groups are `src_file` (the source recording);
- `urbansound8k`: every slice present (folds 1, 2, 10 complete, fold 3 partial); groups are
  `fsID` (the source recording), folds are the official ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.data.registry import classification_sets, dataset_entry
from bgtai.eval.probe import Split, fold_splits, grouped_splits
from bgtai.eval.protocols import ClassificationProtocol

NO_FOLD = -1  # the fold of an item that has none (a made-up dataset's protocol may not use folds)


@dataclass(frozen=True)
class ClassificationSet:
    name: str
    protocol: str
    inputs: list[Any]  # audio paths
    labels: np.ndarray
    groups: np.ndarray
    folds: np.ndarray

    def splits(self, seed: int = 0) -> list[Split]:
        """The probe's splits under the dataset's protocol: its test folds in turn, else grouped stratified CV."""
        protocol = classification_protocol(self.name)
        if protocol.probe_test_folds:
            return fold_splits(self.folds, protocol.probe_test_folds)
        return grouped_splits(self.labels, self.groups, n_splits=protocol.grouped_cv, seed=seed)


def classification_protocol(name: str) -> ClassificationProtocol:
    """The protocol of registered dataset `name`; a dataset without one is an error listing those with one."""
    protocol = dataset_entry(name).protocol
    if protocol is None:
        raise ValueError(
            f"{name} has no classification protocol; classification sets: {', '.join(classification_sets())}"
        )
    return protocol


def protocol_for(name: str) -> str:
    return classification_protocol(name).name


def load_classification_set(name: str, root: Path | None = None) -> ClassificationSet:
    """The labelled items of `name` its protocol keeps (its `folds`), under the data root `root` (default: config)."""
    if name not in classification_sets():
        raise ValueError(f"unknown classification set {name!r}; known: {', '.join(classification_sets())}")
    protocol = classification_protocol(name)
    items = list(dataset_entry(name).load(root))
    if protocol.folds:
        items = [item for item in items if item.fold is not None and int(item.fold) in protocol.folds]
    if not items:
        raise FileNotFoundError(f"{name}: no items found under the data root")
    inputs = [item.audio if protocol.modality == "audio" else item.image for item in items]
    return ClassificationSet(
        name,
        protocol.name,
        inputs,
        np.array([str(protocol.label(item)) for item in items]),
        np.array([str(item.group if item.group is not None else item.id) for item in items]),
        np.array([int(item.fold) if item.fold is not None else NO_FOLD for item in items]),
    )


def load_zeroshot_set(name: str, root: Path | None = None) -> ClassificationSet:
    """The items a zero-shot evaluation of `name` scores: the classification set, less training folds."""
    data = load_classification_set(name, root)
    folds = classification_protocol(name).zeroshot_folds
    if not folds:
        return data
    keep = np.flatnonzero(np.isin(data.folds, folds))
    return replace(
        data,
        inputs=[data.inputs[i] for i in keep],
        labels=data.labels[keep],
        groups=data.groups[keep],
        folds=data.folds[keep],
    )


def zeroshot_key(name: str) -> str:
    """The dataset key zero-shot results of `name` are written under (the report's column)."""
    return classification_protocol(name).zeroshot_key or name


def zeroshot_display(name: str) -> str:
    protocol = classification_protocol(name)
    return protocol.zeroshot_display or protocol.display
