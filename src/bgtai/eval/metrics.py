"""Retrieval and classification metrics, computed a block of queries at a time.

Retrieval: every query is scored against the whole gallery (dot product; pass L2-normalised
embeddings for cosine similarity), but only `chunk_size` rows of the similarity matrix
exist at once, so a 100k x 100k evaluation needs memory for `chunk_size` x 100k floats.

Ties are broken *pessimistically*: among items with the same score, every incorrect item
is ranked before every correct one. A model that gives every item the same score
therefore gets the worst possible ranks, never a lucky R@1. The chunked code and the
full-matrix reference (`retrieval_metrics_reference`) apply this same rule, so they agree
exactly whenever they see the same similarity values.

Definitions (queries with no correct item in the gallery have no rank: they are left
out of every metric and counted in `RetrievalResult.skipped`):
- first rank: the 1-based position of the best-placed correct item;
- R@K: the fraction of queries with at least one correct item in the top K;
- MRR: the mean of 1 / first rank;
- mAP@10: the mean over queries of AP@10 = (sum over the top-10 positions k that hold a
  correct item of precision@k) / min(number of correct items, 10);
- mean rank, median rank: of the first rank.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)
MAP_DEPTH = 10


@dataclass(frozen=True)
class Relevance:
    """Which gallery items are correct for each query: explicit index sets, or equal labels.

    `sets[q]` holds the gallery indices correct for query q (several are allowed: 5 captions
    per clip); with `query_labels`/`gallery_labels`, query q matches every gallery item with
    its label (class-level pairs).
    """

    sets: Sequence[Collection[int]] | None = None
    query_labels: np.ndarray | None = None
    gallery_labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        has_sets = self.sets is not None
        has_labels = self.query_labels is not None and self.gallery_labels is not None
        if has_sets == has_labels:
            raise ValueError("give either relevance sets or both query and gallery labels")

    @classmethod
    def from_labels(cls, query_labels: Sequence | np.ndarray, gallery_labels: Sequence | np.ndarray) -> Relevance:
        return cls(query_labels=np.asarray(query_labels), gallery_labels=np.asarray(gallery_labels))

    @property
    def n_queries(self) -> int:
        return len(self.sets) if self.sets is not None else len(self.query_labels)  # type: ignore[arg-type]

    def mask(self, start: int, stop: int, n_gallery: int) -> np.ndarray:
        """Boolean (stop - start, n_gallery): True where the gallery item is correct for the query."""
        if self.sets is not None:
            mask = np.zeros((stop - start, n_gallery), dtype=bool)
            for row, q in enumerate(range(start, stop)):
                indices = np.fromiter(self.sets[q], dtype=np.int64)
                if indices.size and (indices.min() < 0 or indices.max() >= n_gallery):
                    raise ValueError(f"relevance of query {q} names gallery items outside 0..{n_gallery - 1}")
                mask[row, indices] = True
            return mask
        assert self.query_labels is not None and self.gallery_labels is not None
        if len(self.gallery_labels) != n_gallery:
            raise ValueError(f"{len(self.gallery_labels)} gallery labels for {n_gallery} gallery items")
        return self.query_labels[start:stop, None] == self.gallery_labels[None, :]


@dataclass(frozen=True)
class RetrievalResult:
    metrics: dict[str, float]
    first_ranks: np.ndarray  # 1-based, one per scored query (queries with no correct item left out)
    scored: int
    skipped: int
    ks: tuple[int, ...] = field(default=DEFAULT_KS)


def _chunk_stats(similarity: np.ndarray, relevant: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First rank, AP@`MAP_DEPTH` and the number of correct items, per row of one chunk.

    Rows without a correct item get first rank 0 (the caller drops them).
    """
    n_rows, n_gallery = similarity.shape
    n_relevant = relevant.sum(axis=1)
    best = np.where(relevant, similarity, -np.inf).max(axis=1, initial=-np.inf)
    above = (similarity > best[:, None]).sum(axis=1)
    tied_wrong = ((similarity == best[:, None]) & ~relevant).sum(axis=1)
    first_rank = np.where(n_relevant > 0, above + tied_wrong + 1, 0)

    ap = np.zeros(n_rows)
    depth = min(depth, n_gallery)
    for row in np.flatnonzero((n_relevant > 0) & (first_rank <= depth)):
        ap[row] = _average_precision_at(similarity[row], relevant[row], depth)
    return first_rank, ap, n_relevant


def _average_precision_at(scores: np.ndarray, relevant: np.ndarray, depth: int) -> float:
    """AP@depth of one row under the pessimistic order, sorting only the items that can reach the top."""
    # The depth-th largest score bounds the top `depth`; everything tied with it is a candidate.
    threshold = np.partition(scores, len(scores) - depth)[len(scores) - depth]
    candidates = np.flatnonzero(scores >= threshold)
    # lexsort: last key first -> score descending, then incorrect (False) before correct (True)
    order = candidates[np.lexsort((relevant[candidates], -scores[candidates]))][:depth]
    hits = relevant[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(np.sum(precision * hits) / min(int(relevant.sum()), depth))


def _summarise(first_ranks: np.ndarray, ap: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    if len(first_ranks) == 0:
        raise ValueError("no query has a correct item in the gallery: nothing to score")
    metrics = {f"R@{k}": float(np.mean(first_ranks <= k)) for k in ks}
    metrics[f"mAP@{MAP_DEPTH}"] = float(np.mean(ap))
    metrics["MRR"] = float(np.mean(1.0 / first_ranks))
    metrics["mean_rank"] = float(np.mean(first_ranks))
    metrics["median_rank"] = float(np.median(first_ranks))
    return metrics


def retrieval_metrics(
    queries: np.ndarray,
    gallery: np.ndarray,
    relevance: Relevance,
    ks: Sequence[int] = DEFAULT_KS,
    chunk_size: int = 256,
) -> RetrievalResult:
    """R@K, mAP@10, MRR, mean and median rank of `queries` (N, D) against `gallery` (M, D).

    Similarity is the dot product, computed `chunk_size` queries at a time.
    """
    queries, gallery = np.asarray(queries), np.asarray(gallery)
    if queries.ndim != 2 or gallery.ndim != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"queries {queries.shape} and gallery {gallery.shape} must be (N, D) and (M, D)")
    if not (np.all(np.isfinite(queries)) and np.all(np.isfinite(gallery))):
        raise ValueError("embeddings contain NaN or infinite values: ranks would be meaningless")
    if relevance.n_queries != len(queries):
        raise ValueError(f"relevance covers {relevance.n_queries} queries, got {len(queries)}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    ranks, aps = [], []
    for start in range(0, len(queries), chunk_size):
        stop = min(start + chunk_size, len(queries))
        similarity = queries[start:stop] @ gallery.T
        first_rank, ap, _ = _chunk_stats(similarity, relevance.mask(start, stop, len(gallery)), MAP_DEPTH)
        keep = first_rank > 0
        ranks.append(first_rank[keep])
        aps.append(ap[keep])
    first_ranks = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    metrics = _summarise(first_ranks, np.concatenate(aps) if aps else np.zeros(0), ks)
    return RetrievalResult(metrics, first_ranks, len(first_ranks), len(queries) - len(first_ranks), tuple(ks))


def retrieval_metrics_reference(
    similarity: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = DEFAULT_KS
) -> RetrievalResult:
    """The same metrics from a full (N, M) similarity matrix by sorting every row: the check for the chunked code."""
    similarity, relevant = np.asarray(similarity), np.asarray(relevant, dtype=bool)
    ranks, aps = [], []
    for scores, correct in zip(similarity, relevant):
        if not correct.any():
            continue
        order = np.lexsort((correct, -scores))
        hits = correct[order]
        ranks.append(int(np.argmax(hits)) + 1)
        top = hits[:MAP_DEPTH]
        precision = np.cumsum(top) / np.arange(1, len(top) + 1)
        aps.append(float(np.sum(precision * top) / min(int(correct.sum()), MAP_DEPTH)))
    first_ranks = np.asarray(ranks, dtype=np.int64)
    metrics = _summarise(first_ranks, np.asarray(aps), ks)
    return RetrievalResult(metrics, first_ranks, len(first_ranks), len(similarity) - len(first_ranks), tuple(ks))


# --- classification -------------------------------------------------------------------


def accuracy(y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need equal, non-empty label arrays, got {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def per_class_accuracy(
    y_true: Sequence | np.ndarray, y_pred: Sequence | np.ndarray, classes: Sequence | None = None
) -> dict[str, float]:
    """Accuracy within each true class (its recall). A class with no item gets NaN, not 0 or 1."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = sorted(set(y_true.tolist())) if classes is None else list(classes)
    result: dict[str, float] = {}
    for name in classes:
        members = y_true == name
        result[str(name)] = float(np.mean(y_pred[members] == name)) if members.any() else float("nan")
    return result


def top_k_accuracy(scores: np.ndarray, y_true: Sequence | np.ndarray, k: int, classes: Sequence | None = None) -> float:
    """Fraction of rows whose true class is among the k best scores; ties count against it (pessimistic).

    `scores` is (N, C); `y_true` holds class indices, or class names when `classes` names the columns.
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y_true)
    if classes is not None:
        position = {c: i for i, c in enumerate(classes)}
        y = np.array([position[c] for c in y.tolist()])
    if scores.ndim != 2 or len(scores) != len(y):
        raise ValueError(f"scores {scores.shape} do not match {len(y)} labels")
    true_score = scores[np.arange(len(y)), y]
    ahead = (scores > true_score[:, None]).sum(axis=1) + (scores == true_score[:, None]).sum(axis=1) - 1
    return float(np.mean(ahead < k))


def chance_recall_at_k(n_gallery: int, n_relevant: Sequence[int] | np.ndarray, k: int) -> float:
    """Expected R@K of a random ranking: mean over queries of 1 - C(M - r, K) / C(M, K) (queries with r > 0)."""
    counts = np.asarray(n_relevant, dtype=np.int64)
    counts = counts[counts > 0]
    if counts.size == 0:
        raise ValueError("no query has a correct item")
    k = min(k, n_gallery)
    # C(M - r, K) / C(M, K) = prod_{i<K} (M - r - i) / (M - i), computed as a running product
    i = np.arange(k)[None, :]
    miss = np.prod(np.clip(n_gallery - counts[:, None] - i, 0, None) / (n_gallery - i), axis=1)
    return float(np.mean(1.0 - miss))
