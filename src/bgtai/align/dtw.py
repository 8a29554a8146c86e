"""Exact dynamic time warping with its path, for one pair or a batch of sequences of vectors.

Step pattern (symmetric, unit weights): from cell (i, j) a path may come from (i-1, j-1),
(i-1, j) or (i, j-1), so it starts at (0, 0), ends at (n-1, m-1), never goes back in
either sequence and never skips a position. The accumulated cost is

    D[i, j] = c(x_i, y_j) + min(D[i-1, j-1], D[i-1, j], D[i, j-1])

and the DTW cost is D[n-1, m-1] (the sum of the local costs along the best path; no
normalisation). Ties are broken diagonal first, then (i-1, j), then (i, j-1): the same
order as tslearn, so paths match it on the same inputs and metric.

Local cost `metric`: "sqeuclidean" (tslearn's and dtaidistance's local cost, they return
the square root of the total), "euclidean", or "cosine" (1 - cosine similarity; a zero
vector has similarity 0 with everything).

Sakoe-Chiba window `window=w`: cell (i, j) is allowed when
`-w - max(0, n-m) <= j - i <= w + max(0, m-n)`, i.e. a band of half-width w around the
diagonal, widened by the length difference so that a path always exists (w >= 0).

The recursion runs in numba-compiled code, keeping two rows of D and one byte per cell
for the backtrace (n*m bytes: 25 MB for 5000 x 5000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
from scipy.spatial.distance import cdist

Metric = Literal["sqeuclidean", "euclidean", "cosine"]
METRICS: tuple[str, ...] = ("sqeuclidean", "euclidean", "cosine")
_METRIC_CODE = {"sqeuclidean": 0, "euclidean": 1, "cosine": 2}
# Above this many multiply-adds per pair the local costs come from one BLAS product instead
# of the compiled per-cell loop (much faster for long sequences of wide vectors).
_BLAS_WORK = 2_000_000
_MIN_BLAS_DIM = 64

_ROWS = 32  # rows of local costs computed per block (32 x m float64)
_DIAG, _UP, _LEFT = 0, 1, 2  # backtrace codes: came from (i-1, j-1), (i-1, j), (i, j-1)


@dataclass(frozen=True)
class DTWResult:
    """The DTW cost and the optimal path as (K, 2) int64 rows (i, j), from (0, 0) to (n-1, m-1)."""

    cost: float
    path: np.ndarray

    def matrix(self, n: int, m: int) -> np.ndarray:
        """The path as a binary (n, m) matrix."""
        out = np.zeros((n, m), dtype=np.uint8)
        out[self.path[:, 0], self.path[:, 1]] = 1
        return out


# ---------------------------------------------------------------------------------------------
# compiled kernels


@numba.njit(cache=True)
def _local_row(x: np.ndarray, y_t: np.ndarray, i: int, lo: int, hi: int, metric: int, row: np.ndarray) -> None:
    """row[lo:hi+1] = local costs of x[i] against y[lo..hi], y given transposed (d, m).

    The loop over columns is innermost, so each column keeps its own accumulator and sums over
    dimensions in order 0..d-1 (no reassociation: the cost of a cell does not depend on the
    batch around it), and the column loop vectorises; a per-cell dot product cannot without
    reordering its sum. The loops run over slices from index 0: with a run-time start offset
    LLVM did not vectorise them.
    """
    out = row[lo : hi + 1]
    width = hi + 1 - lo
    for j in range(width):
        out[j] = 0.0
    if metric == 2:
        for k in range(x.shape[1]):
            value = x[i, k]
            column = y_t[k, lo : hi + 1]
            for j in range(width):
                out[j] += value * column[j]
        for j in range(width):
            out[j] = 1.0 - out[j]
        return
    for k in range(x.shape[1]):
        value = x[i, k]
        column = y_t[k, lo : hi + 1]
        for j in range(width):
            diff = value - column[j]
            out[j] += diff * diff
    if metric == 1:
        for j in range(width):
            out[j] = np.sqrt(out[j])


@numba.njit(cache=True)
def _fill_rows(
    x: np.ndarray, y_t: np.ndarray, first: int, last: int, n: int, m: int, window: int, metric: int, block: np.ndarray
) -> None:
    """Local costs of rows first..last-1 (within each row's band) into block[0..last-first-1].

    Filled a block of rows at a time, apart from the recursion: computed inside the recursion's
    row loop, the column loop stopped vectorising (benchmarks/dtw.py shows the difference at 16 dims).
    """
    for r in range(first, last):
        lo, hi = _band(r, n, m, window)
        _local_row(x, y_t, r, lo, hi, metric, block[r - first])


@numba.njit(cache=True, inline="always")
def _band(i: int, n: int, m: int, window: int) -> tuple[int, int]:
    """Allowed columns [lo, hi] of row i (window < 0: no window)."""
    if window < 0:
        return 0, m - 1
    lo = i - window - max(0, n - m)
    hi = i + window + max(0, m - n)
    return max(0, lo), min(m - 1, hi)


@numba.njit(cache=True)
def _backtrace(steps: np.ndarray, n: int, m: int, out: np.ndarray) -> int:
    """Writes the path into out[:K] (in order from (0, 0)) and returns K."""
    i, j = n - 1, m - 1
    k = 0
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        if i == 0 and j == 0:
            break
        step = steps[i, j]
        if step == 0:
            i -= 1
            j -= 1
        elif step == 1:
            i -= 1
        else:
            j -= 1
    # reverse in place
    for a in range(k // 2):
        b = k - 1 - a
        ti, tj = out[a, 0], out[a, 1]
        out[a, 0], out[a, 1] = out[b, 0], out[b, 1]
        out[b, 0], out[b, 1] = ti, tj
    return k


@numba.njit(cache=True)
def _dp(
    x: np.ndarray, y: np.ndarray, cmat: np.ndarray, use_matrix: bool, metric: int, window: int, out: np.ndarray
) -> tuple[float, int]:
    """Accumulated cost and path of one pair; local costs from `cmat` or computed a block of rows at a time."""
    n = cmat.shape[0] if use_matrix else x.shape[0]
    m = cmat.shape[1] if use_matrix else y.shape[0]
    inf = np.inf
    prev = np.full(m, inf)
    curr = np.full(m, inf)
    y_t = np.ascontiguousarray(y.T)
    block = np.empty((_ROWS if not use_matrix else 1, m))
    steps = np.zeros((n, m), dtype=np.uint8)
    for i in range(n):
        lo, hi = _band(i, n, m, window)
        if use_matrix:
            row = cmat[i]
        else:
            if i % _ROWS == 0:
                _fill_rows(x, y_t, i, min(n, i + _ROWS), n, m, window, metric, block)
            row = block[i % _ROWS]
        if window >= 0:  # cells outside the band must read as unreachable
            for j in range(max(0, lo - 1), min(m, hi + 2)):
                curr[j] = inf
        j = lo
        if j == 0:  # first column: only from above
            c = row[0]
            curr[0] = c if i == 0 else c + prev[0]
            steps[i, 0] = 1
            j = 1
        if i == 0:  # first row: only from the left
            for j in range(j, hi + 1):  # noqa: B020 - continues from the j above (range reads it once)
                curr[j] = row[j] + curr[j - 1]
                steps[0, j] = 2
        else:
            left = curr[j - 1] if j > 0 else inf
            for j in range(j, hi + 1):  # noqa: B020 - continues from the j above (range reads it once)
                c = row[j]
                best = prev[j - 1]
                step = 0
                up = prev[j]
                if up < best:
                    best = up
                    step = 1
                if left < best:
                    best = left
                    step = 2
                left = c + best
                curr[j] = left
                steps[i, j] = step
        prev, curr = curr, prev
    k = _backtrace(steps, n, m, out)
    return prev[m - 1], k


@numba.njit(cache=True)
def _batch(
    xs: np.ndarray,
    x_offsets: np.ndarray,
    ys: np.ndarray,
    y_offsets: np.ndarray,
    metric: int,
    window: int,
    costs: np.ndarray,
    paths: np.ndarray,
    path_offsets: np.ndarray,
    path_lengths: np.ndarray,
) -> None:
    dummy = np.zeros((1, 1))
    for b in range(costs.shape[0]):
        x = xs[x_offsets[b] : x_offsets[b + 1]]
        y = ys[y_offsets[b] : y_offsets[b + 1]]
        out = paths[path_offsets[b] : path_offsets[b + 1]]
        cost, k = _dp(x, y, dummy, False, metric, window, out)
        costs[b] = cost
        path_lengths[b] = k


# ---------------------------------------------------------------------------------------------
# public functions


def dtw(x: np.ndarray, y: np.ndarray, metric: Metric = "euclidean", window: int | None = None) -> DTWResult:
    """DTW cost and path between x (n, d) and y (m, d) (1-D inputs are read as d = 1)."""
    xa, ya = _prepare(x, "x", metric), _prepare(y, "y", metric)
    _check_pair(xa, ya)
    n, m, d = xa.shape[0], ya.shape[0], xa.shape[1]
    out = np.empty((n + m - 1, 2), dtype=np.int64)
    code, win = _METRIC_CODE[metric], _window(window)
    if n * m * d >= _BLAS_WORK and d >= _MIN_BLAS_DIM:
        cost_matrix = pairwise_cost(xa, ya, metric, prepared=True)
        cost, k = _dp(xa, ya, cost_matrix, True, code, win, out)
    else:
        cost, k = _dp(xa, ya, np.zeros((1, 1)), False, code, win, out)
    return DTWResult(float(cost), out[:k].copy())


def dtw_from_cost(cost_matrix: np.ndarray, window: int | None = None) -> DTWResult:
    """DTW over a given (n, m) local-cost matrix (any cost: higher is worse)."""
    matrix = np.ascontiguousarray(cost_matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] < 1:
        raise ValueError(f"cost matrix must be (n>=1, m>=1), got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("cost matrix has NaN or infinite entries")
    n, m = matrix.shape
    out = np.empty((n + m - 1, 2), dtype=np.int64)
    cost, k = _dp(np.zeros((1, 1)), np.zeros((1, 1)), matrix, True, 0, _window(window), out)
    return DTWResult(float(cost), out[:k].copy())


def dtw_batch(
    xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], metric: Metric = "euclidean", window: int | None = None
) -> list[DTWResult]:
    """DTW of every pair (xs[b], ys[b]) in one compiled call; all sequences share their width d."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} x sequences but {len(ys)} y sequences")
    if not len(xs):
        return []
    xa = [_prepare(x, f"xs[{b}]", metric) for b, x in enumerate(xs)]
    ya = [_prepare(y, f"ys[{b}]", metric) for b, y in enumerate(ys)]
    for a, b in zip(xa, ya):
        _check_pair(a, b)
    dims = {a.shape[1] for a in xa}
    if len(dims) != 1:
        raise ValueError(f"all sequences must have the same width, got {sorted(dims)}")
    x_offsets = np.concatenate([[0], np.cumsum([len(a) for a in xa])]).astype(np.int64)
    y_offsets = np.concatenate([[0], np.cumsum([len(b) for b in ya])]).astype(np.int64)
    path_offsets = np.concatenate([[0], np.cumsum([len(a) + len(b) - 1 for a, b in zip(xa, ya)])]).astype(np.int64)
    costs = np.empty(len(xa), dtype=np.float64)
    paths = np.empty((int(path_offsets[-1]), 2), dtype=np.int64)
    lengths = np.empty(len(xa), dtype=np.int64)
    _batch(
        np.concatenate(xa),
        x_offsets,
        np.concatenate(ya),
        y_offsets,
        _METRIC_CODE[metric],
        _window(window),
        costs,
        paths,
        path_offsets,
        lengths,
    )
    return [
        DTWResult(float(costs[b]), paths[path_offsets[b] : path_offsets[b] + lengths[b]].copy()) for b in range(len(xa))
    ]


def pairwise_cost(x: np.ndarray, y: np.ndarray, metric: Metric = "euclidean", prepared: bool = False) -> np.ndarray:
    """(n, m) float64 local costs, the ones DTW uses (rows already unit-normalised if `prepared`)."""
    xa = x if prepared else _prepare(x, "x", metric)
    ya = y if prepared else _prepare(y, "y", metric)
    if metric == "cosine":
        return 1.0 - xa @ ya.T
    # cdist sums squared differences directly: the |x|^2 + |y|^2 - 2xy expansion leaves rounding
    # residue where x == y (sqrt turns 1e-17 into 1e-9), so equal frames would not cost exactly 0
    return cdist(xa, ya, metric=metric)


def interpolate_sequence(x: np.ndarray, target_len: int) -> np.ndarray:
    """x (T, ...) resampled to `target_len` steps by linear interpolation along time (axis 0).

    Step k of the output sits at time k*(T-1)/(target_len-1) of the input, so the first and
    last steps are kept exactly; a length-1 input is repeated.
    """
    array = np.asarray(x)
    if array.ndim < 1 or array.shape[0] < 1:
        raise ValueError(f"need a sequence with at least one step, got shape {array.shape}")
    if target_len < 1:
        raise ValueError(f"target_len must be at least 1, got {target_len}")
    length = array.shape[0]
    values = array.astype(np.float64) if not np.issubdtype(array.dtype, np.floating) else array
    if length == 1:
        return np.repeat(values, target_len, axis=0)
    positions = np.linspace(0.0, length - 1, target_len) if target_len > 1 else np.zeros(1)
    left = np.minimum(np.floor(positions).astype(np.int64), length - 2)
    weight = (positions - left).reshape((-1,) + (1,) * (array.ndim - 1))
    return (1.0 - weight) * values[left] + weight * values[left + 1]


# ---------------------------------------------------------------------------------------------
# helpers


def _prepare(x: np.ndarray, name: str, metric: str) -> np.ndarray:
    if metric not in _METRIC_CODE:
        raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(METRICS)}")
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < 1:
        raise ValueError(f"{name} must be a non-empty (T, d) sequence, got shape {np.shape(x)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite values")
    if metric == "cosine":
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        array = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return np.ascontiguousarray(array)


def _check_pair(x: np.ndarray, y: np.ndarray) -> None:
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x has width {x.shape[1]} but y has width {y.shape[1]}")


def _window(window: int | None) -> int:
    if window is None:
        return -1
    if window < 0:
        raise ValueError(f"window must be >= 0 or None, got {window}")
    return int(window)
