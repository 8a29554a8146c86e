"""Vector search at 10k, 100k and 1M vectors: FAISS (exact, HNSW, IVF) against NumPy brute force.

Run:  .venv/bin/python benchmarks/search.py [--sizes 10000 100000 1000000] [--queries 200] [--threads 1]

Synthetic 384-d unit vectors (the width of the bridge space), drawn around 2,000 random
centres with noise, so that neighbourhoods exist as in real embeddings (uniform random
vectors in 384-d have no near neighbours and are the worst case of every approximate index).
Queries are drawn the same way and are not in the collection. Per size and method: the build
time, the growth of the process's resident memory while building (the index, plus for NumPy
the matrix itself), the latency of one query at a time (as the service asks; median and p99
over the queries) and recall@10 against the exact top 10 of NumPy brute force. HNSW is left
out above `--hnsw-max` (its build is single-insert and slow on a shared 2-core machine); IVF
(1,024 lists, trained on 50k vectors) is measured at every size.
"""

from __future__ import annotations

import argparse
import os
import time


def _set_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32])
    args = parser.parse_args()
    _set_threads(args.threads)
    import faiss
    import numpy as np

    faiss.omp_set_num_threads(args.threads)
    print(
        f"dim {args.dim}, {args.queries} single queries per method, {args.threads} thread(s), faiss {faiss.__version__}"
    )
    print("| vectors | method | build s | memory MB | median ms/query | p99 ms/query | speed-up vs NumPy | recall@10 |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        rng = np.random.default_rng(size)
        centres = rng.standard_normal((2000, args.dim)).astype(np.float32)
        rss = _rss_mb()
        data = _clustered(rng, centres, size, args.dim)
        numpy_mb = _rss_mb() - rss
        queries = _clustered(rng, centres, args.queries, args.dim)
        exact, numpy_ms = _numpy_search(data, queries)
        _row(size, "NumPy brute force", 0.0, numpy_mb, numpy_ms, numpy_ms, exact, exact)
        # Each build is called in this iteration, before `del data` below (so no stale or deleted `data`).
        # Binding data as a default argument would keep it alive past the `del` and inflate the next
        # size's measured memory, so the closures read the loop variable on purpose.
        methods = [("FAISS exact (IndexFlatIP)", lambda: _flat(faiss, data), None)]  # noqa: B023, F821
        if size <= args.hnsw_max:
            methods.append(("FAISS HNSW (M 32, efC 80, efS 128)", lambda: _hnsw(faiss, data), None))  # noqa: B023, F821
        for nprobe in args.nprobe:
            ivf = f"FAISS IVF1024,Flat nprobe {nprobe}"
            methods.append((ivf, lambda nprobe=nprobe: _ivf(faiss, data, rng, nprobe), None))  # noqa: B023, F821
        ivf_cache: dict[str, object] = {}
        for name, build, _ in methods:
            rss = _rss_mb()
            started = time.perf_counter()
            if name.startswith("FAISS IVF") and "index" in ivf_cache:  # one IVF build, several nprobe
                index = ivf_cache["index"]
                index.nprobe = int(name.rsplit(" ", 1)[1])  # type: ignore[attr-defined]
                built_s, grew = ivf_cache["build_s"], ivf_cache["mb"]
            else:
                index = build()
                built_s, grew = time.perf_counter() - started, _rss_mb() - rss
                if name.startswith("FAISS IVF"):
                    ivf_cache.update(index=index, build_s=built_s, mb=grew)
            found, ms = _faiss_search(index, queries)
            _row(size, name, built_s, grew, ms, numpy_ms, found, exact)
            if not name.startswith("FAISS IVF"):
                del index
        del data, ivf_cache


def _clustered(rng, centres, count: int, dim: int):  # -> np.ndarray
    import numpy as np

    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        picked = centres[rng.integers(0, len(centres), n)]
        block = picked + 0.6 * rng.standard_normal((n, dim), dtype=np.float32)
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _numpy_search(data, queries, k: int = 10):  # -> (ids (Q, k), ms per query)
    import numpy as np

    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        scores = data @ query
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top])]
        times.append((time.perf_counter() - started) * 1000)
        found.append(top)
    return np.stack(found), np.asarray(times)


def _faiss_search(index, queries, k: int = 10):  # -> (ids (Q, k), ms per query)
    import numpy as np

    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query[None, :], k)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    return np.stack(found), np.asarray(times)


def _flat(faiss, data):
    index = faiss.IndexFlatIP(data.shape[1])
    index.add(data)
    return index


def _hnsw(faiss, data):
    index = faiss.IndexHNSWFlat(data.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = 128
    index.add(data)
    return index


def _ivf(faiss, data, rng, nprobe: int):
    quantizer = faiss.IndexFlatIP(data.shape[1])
    index = faiss.IndexIVFFlat(quantizer, data.shape[1], 1024, faiss.METRIC_INNER_PRODUCT)
    sample = data[rng.choice(len(data), min(len(data), 50_000), replace=False)]
    index.train(sample)
    index.add(data)
    index.nprobe = nprobe
    return index


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _row(size: int, name: str, build_s: float, mb: float, ms, numpy_ms, found, exact) -> None:
    import numpy as np

    recall = np.mean([len(set(f.tolist()) & set(e.tolist())) / len(e) for f, e in zip(found, exact)])
    median = float(np.median(ms))
    print(
        f"| {size:,} | {name} | {build_s:.1f} | {mb:.0f} | {median:.3f} | {np.percentile(ms, 99):.3f} | "
        f"{float(np.median(numpy_ms)) / median:.0f}x | {recall:.3f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
