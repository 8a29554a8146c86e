"""The FAISS index of one modality's vectors: exact inner product when small, HNSW when large.

Vectors are unit-norm, so inner product is cosine similarity. Below `EXACT_LIMIT` vectors an
exact `IndexFlatIP` answers a query in well under a few milliseconds and is always right;
above it an HNSW graph answers in about a millisecond whatever the size (measured in
BENCHMARKS.md, "Search": `benchmarks/search.py`). Each index is wrapped in an `IndexIDMap`
so a search returns the metadata table's ids directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# measured (benchmarks/search.py, BENCHMARKS.md): exact search at 100k 384-d vectors takes
# ~10 ms a query on one core; HNSW stays ~0.2 ms. Below this size exact is fast enough and exact.
EXACT_LIMIT = 50_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def kind_for(count: int) -> str:
    return "flat" if count < EXACT_LIMIT else "hnsw"


def build(ids: np.ndarray, vectors: np.ndarray, kind: str | None = None):  # -> faiss.Index
    """An id-mapped FAISS index of `vectors` (N, d) unit float32 under `ids` (N,) int64."""
    import faiss

    dim = int(vectors.shape[1])
    kind = kind or kind_for(len(vectors))
    if kind == "flat":
        inner = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        raise ValueError(f"unknown index kind {kind!r} (flat or hnsw)")
    index = faiss.IndexIDMap(inner)
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
    return index


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # index: faiss.Index
    """(scores (k',), ids (k',)) of the `k` nearest vectors, best first; fewer when the index is smaller."""
    k = min(int(k), int(index.ntotal))
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def save(index, path: Path) -> None:  # index: faiss.Index
    """Write atomically: a temporary file beside `path`, then a rename."""
    import faiss

    from bgtai.atomic import atomic_path

    with atomic_path(path) as temporary:
        faiss.write_index(index, str(temporary))


def load(path: Path):  # -> faiss.Index
    import faiss

    index = faiss.read_index(str(path))
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else None
    if inner is not None and hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = HNSW_EF_SEARCH  # not saved in the file
    return index
