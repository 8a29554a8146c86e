"""Retrieval and classification metrics: hand-computed cases and a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgtai.eval.metrics import (
    Relevance,
    accuracy,
    per_class_accuracy,
    retrieval_metrics,
    retrieval_metrics_reference,
    top_k_accuracy,
)


def _one_hot_gallery(n: int) -> np.ndarray:
    return np.eye(n)


def test_hand_computed_single_positive() -> None:
    # gallery = identity, so a query vector *is* its similarity row
    queries = np.array([[0.9, 0.1, 0.0], [0.5, 0.2, 0.7], [0.3, 0.2, 0.1]])
    relevance = Relevance(sets=[{0}, {1}, {2}])
    result = retrieval_metrics(queries, _one_hot_gallery(3), relevance, ks=(1, 2))
    # ranks: query 0 -> 1; query 1: 0.2 is below 0.7 and 0.5 -> 3; query 2: 0.1 is last -> 3
    assert result.first_ranks.tolist() == [1, 3, 3]
    assert result.metrics["R@1"] == pytest.approx(1 / 3)
    assert result.metrics["R@2"] == pytest.approx(1 / 3)
    assert result.metrics["MRR"] == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert result.metrics["mean_rank"] == pytest.approx(7 / 3)
    assert result.metrics["median_rank"] == 3
    assert result.metrics["mAP@10"] == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)


def test_ties_are_pessimistic() -> None:
    # all scores equal: every wrong item goes first, the correct one lands last
    queries = np.ones((1, 4))
    result = retrieval_metrics(queries, _one_hot_gallery(4), Relevance(sets=[{2}]))
    assert result.first_ranks.tolist() == [4]
    assert result.metrics["R@1"] == 0.0
    # a tie with only one wrong item: the correct item is second, not first
    tied = retrieval_metrics(np.array([[0.5, 0.5, 0.1]]), _one_hot_gallery(3), Relevance(sets=[{0}]))
    assert tied.first_ranks.tolist() == [2]


def test_several_positives_average_precision() -> None:
    # order by score: item 3 (wrong), item 0 (right), item 1 (wrong), item 2 (right), item 4 (wrong)
    scores = np.array([[0.8, 0.7, 0.6, 0.9, 0.1]])
    result = retrieval_metrics(scores, _one_hot_gallery(5), Relevance(sets=[{0, 2}]))
    assert result.first_ranks.tolist() == [2]
    # AP = (1/2 + 2/4) / 2
    assert result.metrics["mAP@10"] == pytest.approx(0.5)
    assert result.metrics["R@1"] == 0.0 and result.metrics["R@5"] == 1.0


def test_queries_without_a_correct_item_are_skipped_and_counted() -> None:
    labels_q = np.array(["a", "b", "z"])  # "z" has no gallery item (an empty class)
    labels_g = np.array(["a", "b", "a"])
    queries = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    result = retrieval_metrics(queries, _one_hot_gallery(3), Relevance.from_labels(labels_q, labels_g))
    assert result.scored == 2 and result.skipped == 1
    assert result.metrics["R@1"] == 1.0


def test_no_query_with_a_positive_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing to score"):
        retrieval_metrics(np.eye(2), np.eye(2), Relevance(sets=[set(), set()]))


def test_relevance_outside_gallery_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        retrieval_metrics(np.eye(2), np.eye(2), Relevance(sets=[{0}, {5}]))


@pytest.mark.parametrize("seed", range(6))
def test_chunked_equals_reference_for_every_chunk_size(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_q, n_g = 13, 17
    # small integers make many exact ties, the hard case for agreement
    queries = rng.integers(-2, 3, size=(n_q, 3)).astype(np.float64)
    gallery = rng.integers(-2, 3, size=(n_g, 3)).astype(np.float64)
    if seed % 2:
        relevance = Relevance.from_labels(rng.integers(0, 4, n_q), rng.integers(0, 4, n_g))
    else:
        relevance = Relevance(
            sets=[set(rng.choice(n_g, size=rng.integers(0, 5), replace=False).tolist()) for _ in range(n_q)]
        )
    similarity = queries @ gallery.T
    expected = retrieval_metrics_reference(similarity, relevance.mask(0, n_q, n_g), ks=(1, 3, 5, 10))
    for chunk in range(1, n_q + 1):
        got = retrieval_metrics(queries, gallery, relevance, ks=(1, 3, 5, 10), chunk_size=chunk)
        assert got.metrics == expected.metrics
        assert got.first_ranks.tolist() == expected.first_ranks.tolist()
        assert got.skipped == expected.skipped


def test_chunked_equals_reference_with_more_than_ten_positives() -> None:
    rng = np.random.default_rng(7)
    queries, gallery = rng.normal(size=(20, 8)), rng.normal(size=(60, 8))
    relevance = Relevance.from_labels(rng.integers(0, 3, 20), rng.integers(0, 3, 60))
    expected = retrieval_metrics_reference(queries @ gallery.T, relevance.mask(0, 20, 60))
    got = retrieval_metrics(queries, gallery, relevance, chunk_size=7)
    for name, value in expected.metrics.items():
        assert got.metrics[name] == pytest.approx(value, abs=1e-12)


def test_accuracy_and_per_class_with_an_empty_class() -> None:
    y_true = ["a", "a", "b", "b", "b"]
    y_pred = ["a", "b", "b", "b", "a"]
    assert accuracy(y_true, y_pred) == pytest.approx(3 / 5)
    per_class = per_class_accuracy(y_true, y_pred, classes=["a", "b", "c"])
    assert per_class["a"] == pytest.approx(0.5)
    assert per_class["b"] == pytest.approx(2 / 3)
    assert math.isnan(per_class["c"])


def test_top_k_counts_ties_against_the_true_class() -> None:
    scores = np.array([[0.1, 0.5, 0.5], [0.9, 0.2, 0.3], [0.3, 0.3, 0.3]])
    y = np.array([1, 0, 2])
    assert top_k_accuracy(scores, y, k=1) == pytest.approx(1 / 3)  # row 0 tied -> miss; row 2 tied -> miss
    assert top_k_accuracy(scores, y, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(scores, y, k=3) == 1.0
    assert top_k_accuracy(scores, ["y", "x", "z"], k=1, classes=["x", "y", "z"]) == pytest.approx(1 / 3)


def test_chance_recall_matches_counting() -> None:
    from bgtai.eval.metrics import chance_recall_at_k

    assert chance_recall_at_k(10, [1], 1) == pytest.approx(0.1)
    assert chance_recall_at_k(10, [1], 5) == pytest.approx(0.5)
    # 2 correct among 4, top 2: miss only when both top items are wrong = 1/6
    assert chance_recall_at_k(4, [2, 0], 2) == pytest.approx(5 / 6)
    assert chance_recall_at_k(4, [4], 1) == 1.0


def test_non_finite_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(np.array([[np.nan, 0.0]]), np.eye(2), Relevance(sets=[{0}]))
