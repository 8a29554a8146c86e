"""Held-out-topic evaluation of summary-to-article alignment: DS-Net against simple aligners.

Each pair is an article (T sentence vectors) and its summary (Q sentence vectors, in article
order, see `bgtai.align.bbc`); the gold path gives the article index of each summary
sentence. Every method predicts one article index per summary sentence and a set of
selected (q, t) cells:

- `uniform`: t_q = floor((q + 1/2) T / Q), no look at the content;
- `greedy`: the most cosine-similar article sentence, per summary sentence (not monotonic);
- `dtw`: cosine DTW between the two sequences; its selected cells are the whole DTW path,
  and each q's index is the lowest-cost cell of its run;
- `bridge-greedy`, `bridge-dtw` (when the two sides come from different encoders): the same
  after a ridge map from summary space to article space fitted on the training topics;
- `dsnet`: DS-Net trained on the training topics (Result Filter CE on the gold path +
  SP-Loss), strictly increasing decode (summary sentences are distinct article sentences).

Metrics: `path_accuracy` (the whole path right), `sentence_accuracy` (per summary sentence),
`f1` of selected cells against gold cells (micro over pairs; for one cell per row precision
equals recall equals sentence accuracy, DTW selects more), `sp` (SP distance of paths), and in
`extra["within_1"]` the share of target steps placed at most one source step from gold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bgtai.align.dsnet import DSNet, decode, path_indices
from bgtai.align.dtw import dtw, pairwise_cost
from bgtai.losses.alignment import path_sp_distance

Prediction = tuple[np.ndarray, np.ndarray]  # (index per q, selected (q, t) cells as a binary matrix)


@dataclass
class AlignmentSet:
    """Vectors of each pair: article (T, Da), summary (Q, Ds), gold (Q,) and the pair's topic."""

    article: list[np.ndarray]
    summary: list[np.ndarray]
    gold: list[np.ndarray]
    topics: list[str]

    def subset(self, mask: np.ndarray) -> AlignmentSet:
        rows = np.flatnonzero(mask)
        return AlignmentSet(
            [self.article[i] for i in rows],
            [self.summary[i] for i in rows],
            [self.gold[i] for i in rows],
            [self.topics[i] for i in rows],
        )

    def __len__(self) -> int:
        return len(self.gold)


@dataclass
class Scores:
    path_accuracy: float
    sentence_accuracy: float
    f1: float
    sp: float
    pairs: int
    extra: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# aligners


def uniform(article: np.ndarray, summary: np.ndarray) -> Prediction:
    t_len, q_len = len(article), len(summary)
    index = np.minimum(((np.arange(q_len) + 0.5) * t_len / q_len).astype(np.int64), t_len - 1)
    return index, cells_of(index, t_len)


def greedy(article: np.ndarray, summary: np.ndarray) -> Prediction:
    index = pairwise_cost(summary, article, "cosine").argmin(axis=1)
    return index, cells_of(index, len(article))


def dtw_aligner(article: np.ndarray, summary: np.ndarray) -> Prediction:
    result = dtw(article, summary, metric="cosine")
    cost = pairwise_cost(article, summary, "cosine")
    index = np.zeros(len(summary), dtype=np.int64)
    best = np.full(len(summary), np.inf)
    for t, q in result.path:
        if cost[t, q] < best[q]:
            best[q], index[q] = cost[t, q], t
    cells = result.matrix(len(article), len(summary)).T
    return index, cells


def bridged(aligner: Callable[[np.ndarray, np.ndarray], Prediction], mapping: np.ndarray) -> Callable[..., Prediction]:
    def run(article: np.ndarray, summary: np.ndarray) -> Prediction:
        return aligner(article, _affine(summary) @ mapping)

    return run


def fit_bridge(train: AlignmentSet, alpha: float = 1.0) -> np.ndarray:
    """Ridge map (Ds+1, Da) from summary vectors to their gold article vectors (training pairs only)."""
    x = np.concatenate([_affine(s) for s in train.summary])
    y = np.concatenate([a[g] for a, g in zip(train.article, train.gold)])
    gram = x.T @ x + alpha * np.eye(x.shape[1])
    return np.linalg.solve(gram, x.T @ y)


def dsnet_aligner(model: DSNet) -> Callable[[np.ndarray, np.ndarray], Prediction]:
    def run(article: np.ndarray, summary: np.ndarray) -> Prediction:
        strict = len(article) >= len(summary)
        a_hat, _ = model.align(article, summary, strict=strict)
        return path_indices(a_hat), a_hat

    return run


# ---------------------------------------------------------------------------------------------
# scoring (DS-Net is trained by `bgtai.train.dsnet`)


def score(aligner: Callable[[np.ndarray, np.ndarray], Prediction], data: AlignmentSet) -> Scores:
    exact, correct, near, sentences, hits, selected, sp = 0, 0, 0, 0, 0, 0, []
    for article, summary, gold in zip(data.article, data.summary, data.gold):
        index, cells = aligner(article, summary)
        exact += int(np.array_equal(index, gold))
        correct += int((index == gold).sum())
        near += int((np.abs(index - gold) <= 1).sum())
        sentences += len(gold)
        hits += int(cells[np.arange(len(gold)), gold].sum())
        selected += int(cells.sum())
        sp.append(path_sp_distance(index, gold, len(article)))
    precision, recall = hits / max(selected, 1), hits / max(sentences, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        exact / len(data),
        correct / sentences,
        f1,
        float(np.mean(sp)),
        len(data),
        {"precision": precision, "recall": recall, "within_1": near / max(sentences, 1)},
    )


def cells_of(index: np.ndarray, t_len: int) -> np.ndarray:
    """One selected cell per target step: the binary (Q, T) matrix of a path given as indices."""
    out = np.zeros((len(index), t_len), dtype=np.uint8)
    out[np.arange(len(index)), index] = 1
    return out


def _affine(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((len(x), 1), dtype=x.dtype)], axis=1)


__all__ = [
    "AlignmentSet",
    "Scores",
    "bridged",
    "cells_of",
    "decode",
    "dsnet_aligner",
    "dtw_aligner",
    "fit_bridge",
    "greedy",
    "score",
    "uniform",
]
