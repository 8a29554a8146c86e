"""The classification sets the probes and zero-shot runs use, as plain arrays, from `bgtai.data`.

- `esc50`: the 400 clips of ESC-50 fold 4; groups are `src_file` (the source recording);
- `urbansound8k`: every slice present (folds 1, 2, 10 complete, fold 3 partial); groups are
  `fsID` (the source recording), folds are the official ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from bgtai.eval.probe import (
    ESC50_PROTOCOL,
    US8K_PROTOCOL,
    Split,
    esc50_splits,
    fold_splits,
)

CLASSIFICATION_SETS: tuple[str, ...] = ("esc50", "urbansound8k")


@dataclass(frozen=True)
class ClassificationSet:
    name: str
    protocol: str
    inputs: list[Any]  # audio paths
    labels: np.ndarray
    groups: np.ndarray
    folds: np.ndarray

    def splits(self, seed: int = 0) -> list[Split]:
        if self.name == "esc50":
            return esc50_splits(self.labels, self.groups, seed=seed)
        return fold_splits(self.folds)


def protocol_for(name: str) -> str:
    return {"esc50": ESC50_PROTOCOL, "urbansound8k": US8K_PROTOCOL}[name]


def load_classification_set(name: str) -> ClassificationSet:
    if name == "esc50":
        from bgtai.data import load_esc50

        items = [item for item in load_esc50() if int(item.fold) == 4]
    elif name == "urbansound8k":
        from bgtai.data import load_urbansound8k

        items = list(load_urbansound8k())
    else:
        raise ValueError(f"unknown classification set {name!r}; known: {', '.join(CLASSIFICATION_SETS)}")
    if not items:
        raise FileNotFoundError(f"{name}: no items found under the data root")
    return ClassificationSet(
        name,
        protocol_for(name),
        [item.audio for item in items],
        np.array([str(item.label) for item in items]),
        np.array([str(item.group) for item in items]),
        np.array([int(item.fold) for item in items]),
    )


# zero-shot scores UrbanSound8K on fold 10 only: the recipes train on folds 1-3 (see bgtai.cli.eval's protocols)
ZEROSHOT_FOLDS: dict[str, int] = {"urbansound8k": 10}


def load_zeroshot_set(name: str) -> ClassificationSet:
    """The items a zero-shot evaluation of `name` scores: the classification set, less training folds."""
    data = load_classification_set(name)
    if name not in ZEROSHOT_FOLDS:
        return data
    keep = np.flatnonzero(data.folds == ZEROSHOT_FOLDS[name])
    return replace(
        data,
        inputs=[data.inputs[i] for i in keep],
        labels=data.labels[keep],
        groups=data.groups[keep],
        folds=data.folds[keep],
    )
