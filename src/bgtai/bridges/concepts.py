"""A bridge vector from class scores: the score-weighted mean of the best-scoring class names."""

from __future__ import annotations

import numpy as np


def concept_mix(scores: np.ndarray, label_vectors: np.ndarray, top_k: int = 10) -> np.ndarray:
    """(N, D) unit vectors: for each row of `scores` (N, L), its `top_k` classes' label vectors (L, D),
    weighted by their scores.

    Only the top classes take part: the long tail of small scores is noise that, summed over
    hundreds of classes, would pull every item towards the same average label vector.
    A row whose top scores are all zero gets the plain mean of its top labels.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(label_vectors, dtype=np.float64)
    if scores.ndim != 2 or labels.ndim != 2 or scores.shape[1] != labels.shape[0]:
        raise ValueError(f"scores {scores.shape} do not match label vectors {labels.shape}")
    if not 1 <= top_k:
        raise ValueError(f"top_k must be at least 1, not {top_k}")
    k = min(top_k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    weights = np.clip(np.take_along_axis(scores, top, axis=1), 0.0, None)
    empty = weights.sum(axis=1) == 0
    weights[empty] = 1.0
    mixed = np.einsum("nk,nkd->nd", weights, labels[top])
    norms = np.linalg.norm(mixed, axis=1, keepdims=True)
    return (mixed / np.maximum(norms, 1e-12)).astype(np.float32)
