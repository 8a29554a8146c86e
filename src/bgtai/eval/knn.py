"""Nearest-neighbour classification that never matches an item with its own group.

A quick, parameter-free check of frozen features: clips cut from one recording (ESC-50
`src_file`, UrbanSound8K `fsID`) are never each other's neighbour, and, when folds are
given, neighbours come only from other folds (the official UrbanSound8K rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NearestNeighbourResult:
    accuracy: float
    predictions: np.ndarray
    evaluated: int


def nearest_neighbour_accuracy(
    features: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: np.ndarray | None = None,
    evaluate: np.ndarray | None = None,
) -> NearestNeighbourResult:
    """1-NN by cosine similarity; an item's own group (and fold, when given) is excluded.

    `evaluate` marks the items scored as queries (all by default); every item can be a neighbour.
    """
    features = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(features)):
        raise ValueError("features contain zero or non-finite rows")
    unit = features / norms
    labels, groups = np.asarray(labels), np.asarray(groups)
    queries = np.arange(len(unit)) if evaluate is None else np.flatnonzero(evaluate)
    similarity = unit[queries] @ unit.T
    excluded = groups[queries][:, None] == groups[None, :]
    if folds is not None:
        folds = np.asarray(folds)
        excluded |= folds[queries][:, None] == folds[None, :]
    similarity[excluded] = -np.inf
    if np.any(np.all(excluded, axis=1)):
        raise ValueError("a query has no admissible neighbour (every item shares its group or fold)")
    predictions = labels[np.argmax(similarity, axis=1)]
    accuracy = float(np.mean(predictions == labels[queries]))
    return NearestNeighbourResult(accuracy, predictions, len(queries))
