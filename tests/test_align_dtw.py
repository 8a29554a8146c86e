"""DTW against a brute-force enumeration of every monotone path, and its path's invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgtai.align.dtw import (
    dtw,
    dtw_batch,
    dtw_from_cost,
    interpolate_sequence,
    pairwise_cost,
)


def _allowed(i: int, j: int, n: int, m: int, window: int | None) -> bool:
    if window is None:
        return True
    return -window - max(0, n - m) <= j - i <= window + max(0, m - n)


def brute_force(cost: np.ndarray, window: int | None = None) -> float:
    """Minimum over every path from (0,0) to (n-1,m-1) with steps (1,0),(0,1),(1,1), enumerated."""
    n, m = cost.shape
    best = np.inf

    def walk(i: int, j: int, total: float) -> None:
        nonlocal best
        if not _allowed(i, j, n, m, window):
            return
        total += cost[i, j]
        if (i, j) == (n - 1, m - 1):
            best = min(best, total)
            return
        for di, dj in ((1, 0), (0, 1), (1, 1)):
            if i + di < n and j + dj < m:
                walk(i + di, j + dj, total)

    walk(0, 0, 0.0)
    return best


def check_path(path: np.ndarray, n: int, m: int) -> None:
    assert tuple(path[0]) == (0, 0)
    assert tuple(path[-1]) == (n - 1, m - 1)
    steps = np.diff(path, axis=0)
    assert set(map(tuple, steps)) <= {(1, 0), (0, 1), (1, 1)}  # monotonic and continuous


sequences = st.integers(1, 5).flatmap(
    lambda n: st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=n, max_size=n)
)


@settings(max_examples=60, deadline=None)
@given(
    x=sequences,
    y=sequences,
    metric=st.sampled_from(["sqeuclidean", "euclidean", "cosine"]),
    window=st.one_of(st.none(), st.integers(0, 3)),
)
def test_dtw_matches_brute_force(x: list, y: list, metric: str, window: int | None) -> None:
    xa, ya = np.array(x), np.array(y)
    result = dtw(xa, ya, metric=metric, window=window)
    n, m = len(xa), len(ya)
    check_path(result.path, n, m)
    cost = pairwise_cost(xa, ya, metric)
    assert result.cost == pytest.approx(brute_force(cost, window), abs=1e-9)
    # the path's own cost is the reported cost, and it stays inside the window
    assert cost[result.path[:, 0], result.path[:, 1]].sum() == pytest.approx(result.cost, abs=1e-9)
    assert all(_allowed(i, j, n, m, window) for i, j in result.path)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), m=st.integers(1, 6), seed=st.integers(0, 1000))
def test_dtw_from_cost_matches_brute_force(n: int, m: int, seed: int) -> None:
    cost = np.random.default_rng(seed).random((n, m))
    result = dtw_from_cost(cost)
    check_path(result.path, n, m)
    assert result.cost == pytest.approx(brute_force(cost))


def test_window_forces_a_worse_path() -> None:
    # the cheap cells lie far off the diagonal: a narrow band must pay more
    cost = np.ones((6, 6))
    cost[0, :] = 0.0
    cost[:, 5] = 0.0
    free, banded = dtw_from_cost(cost), dtw_from_cost(cost, window=1)
    assert free.cost == 0.0
    assert banded.cost > 0.0
    assert np.all(np.abs(banded.path[:, 0] - banded.path[:, 1]) <= 1)


def test_batch_equals_single_pairs() -> None:
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(rng.integers(1, 9), 4)) for _ in range(20)]
    ys = [rng.normal(size=(rng.integers(1, 9), 4)) for _ in range(20)]
    for metric in ("euclidean", "cosine"):
        batch = dtw_batch(xs, ys, metric=metric, window=2)
        for x, y, result in zip(xs, ys, batch):
            single = dtw(x, y, metric=metric, window=2)
            assert result.cost == pytest.approx(single.cost)
            np.testing.assert_array_equal(result.path, single.path)


def test_long_wide_sequences_use_the_same_costs() -> None:
    # wide vectors take the BLAS route; the cost must equal the per-cell route's
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(120, 64)), rng.normal(size=(300, 64))
    wide = dtw(x, y, metric="euclidean")
    per_cell = dtw_batch([x], [y], metric="euclidean")[0]
    assert wide.cost == pytest.approx(per_cell.cost, rel=1e-9)


def test_identical_sequences_align_on_the_diagonal() -> None:
    x = np.random.default_rng(3).normal(size=(10, 3))
    result = dtw(x, x)
    assert result.cost == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(result.path, np.stack([np.arange(10)] * 2, axis=1))


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="width"):
        dtw(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        dtw(np.array([[np.nan]]), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="metric"):
        dtw(np.zeros(3), np.zeros(3), metric="manhattan")  # type: ignore[arg-type]


def test_interpolate_sequence_is_linear_and_keeps_the_ends() -> None:
    x = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 0.0]])
    out = interpolate_sequence(x, 5)
    np.testing.assert_allclose(out, [[0, 10], [1, 15], [2, 20], [3, 10], [4, 0]])
    np.testing.assert_allclose(interpolate_sequence(x, 3), x)
    np.testing.assert_allclose(interpolate_sequence(x[:1], 4), np.repeat(x[:1], 4, axis=0))
    np.testing.assert_allclose(interpolate_sequence(np.arange(5.0), 2), [0.0, 4.0])
