"""DTW with path: bgtai.align.dtw against tslearn `dtw_path` and dtaidistance's warping path.

Same inputs for all three, squared-Euclidean local cost (the one tslearn and dtaidistance
use), no window. Each row is timed as the best of `--repeats` runs after one warm-up run
(numba compiles on first use); the paths are checked to be identical to tslearn's.

    .venv/bin/python benchmarks/dtw.py            # prints a markdown table

Rows: one pair of 1-D series of length 100, 1000, 5000; one pair of 16-d sequences of
length 1000; a batch of 1000 pairs of 1-D series of lengths 20-60 (ours: one `dtw_batch`
call; the others: a loop, they have no batched path function).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np


def best_time(function: Callable[[], object], repeats: int) -> tuple[float, object]:
    result = function()  # warm-up (and compilation)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import dtaidistance
    import tslearn
    from dtaidistance import dtw as dtai
    from dtaidistance import dtw_ndim as dtai_ndim
    from tslearn.metrics import dtw_path

    from bgtai.align.dtw import dtw, dtw_batch

    rng = np.random.default_rng(args.seed)

    def walk(length: int, dim: int = 1) -> np.ndarray:
        return np.cumsum(rng.normal(size=(length, dim)), axis=0)

    cases: list[tuple[str, list[np.ndarray], list[np.ndarray]]] = []
    for length in (100, 1000, 5000):
        cases.append((f"1 pair, 1-d, length {length}", [walk(length)], [walk(length)]))
    cases.append(("1 pair, 16-d, length 1000", [walk(1000, 16)], [walk(1000, 16)]))
    lengths = rng.integers(20, 61, size=(1000, 2))
    cases.append(("1000 pairs, 1-d, lengths 20-60", [walk(a) for a, _ in lengths], [walk(b) for _, b in lengths]))

    def ours(xs: list[np.ndarray], ys: list[np.ndarray]) -> list[np.ndarray]:
        if len(xs) == 1:
            return [dtw(xs[0], ys[0], metric="sqeuclidean").path]
        return [r.path for r in dtw_batch(xs, ys, metric="sqeuclidean")]

    def with_tslearn(xs: list[np.ndarray], ys: list[np.ndarray]) -> list[np.ndarray]:
        return [np.array(dtw_path(x, y)[0]) for x, y in zip(xs, ys)]

    def with_dtaidistance(xs: list[np.ndarray], ys: list[np.ndarray]) -> list[np.ndarray]:
        if xs[0].shape[1] == 1:
            return [np.array(dtai.warping_path_fast(x[:, 0].copy(), y[:, 0].copy())) for x, y in zip(xs, ys)]
        return [np.array(dtai_ndim.warping_path(x, y, use_c=True)) for x, y in zip(xs, ys)]

    print(
        f"numpy {np.__version__}, tslearn {tslearn.__version__}, dtaidistance {dtaidistance.__version__}, "
        f"python {platform.python_version()}, {platform.machine()}; best of {args.repeats} after a warm-up\n"
    )
    print("| case | ours (s) | tslearn (s) | dtaidistance (s) | tslearn / ours | dtaidistance / ours | same paths |")
    print("|---|---|---|---|---|---|---|")
    for name, xs, ys in cases:
        repeats = 1 if "5000" in name else args.repeats
        # each lambda is called here, within this iteration, so reading the loop's xs, ys is meant
        t_ours, p_ours = best_time(lambda: ours(xs, ys), repeats)  # noqa: B023
        t_tsl, p_tsl = best_time(lambda: with_tslearn(xs, ys), repeats)  # noqa: B023
        t_dtai, p_dtai = best_time(lambda: with_dtaidistance(xs, ys), repeats)  # noqa: B023
        same_tsl = all(np.array_equal(a, b) for a, b in zip(p_ours, p_tsl))
        same_dtai = all(np.array_equal(a, b) for a, b in zip(p_ours, p_dtai))
        print(
            f"| {name} | {t_ours:.4f} | {t_tsl:.4f} | {t_dtai:.4f} | {t_tsl / t_ours:.2f} | {t_dtai / t_ours:.2f} | "
            f"tslearn {'yes' if same_tsl else 'no'}, dtaidistance {'yes' if same_dtai else 'no'} |"
        )


if __name__ == "__main__":
    main()
