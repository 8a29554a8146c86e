"""The public embedding API: inputs in, one vector (or one feature sequence) per input out.

    >>> import bgtai
    >>> vectors = bgtai.encode("text", ["a dog barks", "rain on a roof"], encoder="tiny-text")
    >>> vectors.shape
    (2, 16)

Pipeline, per call: each input is named by its content and looked up in the feature cache;
only the misses are decoded (`encoder.prepare`, in a thread pool for audio and images, one
batch ahead of the model) and run through `encoder.encode_prepared` in batches of
`batch_size`; new sequences go to the cache. The pooled vector is `encoder.pool(sequence)`,
L2-normalised unless `normalize=False`. Rows are always in input order, whatever mix of
cache hits and misses, and do not depend on `batch_size`.

Bad inputs: every input is tried, then one `BadItemsError` lists each bad one (index,
source, problem). With `skip_bad=True`, `encode` returns the full (N, D) matrix with a row
of NaN for every bad input (and warns, naming them): row i is always input i, and a bad row
can never pass for a vector. `encode_with_report` returns the same matrix with an `ok`
mask and the bad-item list, for callers that want to drop or report them.

Sharding: `shard=(i, n)` embeds only inputs i, i+n, i+2n, ... (round-robin, so each shard
gets a similar mix when files are sorted by folder or length). Rows come back in input
order within the shard, bad-item indices are positions in the full input list, and
`merge_shards` interleaves the n shard outputs back into input order.

The per-call pipeline (cache, decoding threads, model batches, output checks) is
`bgtai.embed_pipeline.EmbedRun`; this module turns inputs into a list and pools.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgtai.cache import FeatureCache
from bgtai.embed_pipeline import PROGRESS_THRESHOLD, EmbedRun, is_array  # noqa: F401 - PROGRESS_THRESHOLD re-exported
from bgtai.encoders.base import MODALITIES, Encoder, Modality  # noqa: F401 - MODALITIES re-exported (its one home)
from bgtai.errors import BadInputError, BadItem, BadItemsError

__all__ = [
    "BadItem",
    "BadItemsError",
    "EmbedResult",
    "SequenceBatch",
    "encode",
    "encode_sequence",
    "encode_with_report",
    "merge_shards",
    "shard_indices",
]


@dataclass
class EmbedResult:
    """Pooled vectors for every input (NaN rows where `ok` is False) and what went wrong."""

    vectors: np.ndarray
    ok: np.ndarray
    bad: list[BadItem]
    encoder: str
    settings: dict[str, Any]
    indices: np.ndarray  # position of each row in the full input list (all of them unless sharded)
    from_cache: int = 0
    computed: int = 0


@dataclass
class SequenceBatch:
    """One (T_i, D) float32 feature sequence per input; bad inputs (skip_bad) have T_i = 0."""

    features: list[np.ndarray]
    lengths: np.ndarray
    ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    bad: list[BadItem] = field(default_factory=list)
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.features)

    def padded(self, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(N, Tmax, D) float32 with `fill` after each sequence, and the (N, Tmax) mask of real positions."""
        dim = self.features[0].shape[1] if self.features else 0
        t_max = int(self.lengths.max()) if len(self.lengths) else 0
        array = np.full((len(self.features), t_max, dim), fill, dtype=np.float32)
        mask = np.zeros((len(self.features), t_max), dtype=bool)
        for row, sequence in enumerate(self.features):
            array[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = True
        return array, mask


# ---------------------------------------------------------------------------------------------
# public functions


def encode(
    modality: Modality,
    inputs: Any,
    encoder: str | Encoder | None = None,
    batch_size: int = 32,
    normalize: bool = True,
    sample_rate: int | None = None,
    cache: bool | FeatureCache = True,
    skip_bad: bool = False,
    progress: bool | None = None,
    shard: tuple[int, int] | None = None,
    workers: int | None = None,
) -> np.ndarray:
    """(N, D) float32 pooled embeddings, row i for input i (the shard's inputs when sharded).

    `inputs`: a list of paths, strings, arrays/tensors (audio with `sample_rate`, or
    `(array, sr)` tuples; images HxW[xC] arrays, CxHxW tensors or PIL images); a single
    input is a batch of one; an audio or image folder stands for its files, recursively,
    sorted by path (one row each, as `bgtai embed` does). `encoder`: a registered name, an `Encoder`, or None for the
    modality's default. Bad inputs raise one `BadItemsError` listing all of them, unless
    `skip_bad=True`: then their rows are NaN and a warning names them.
    """
    result = encode_with_report(
        modality,
        inputs,
        encoder=encoder,
        batch_size=batch_size,
        normalize=normalize,
        sample_rate=sample_rate,
        cache=cache,
        progress=progress,
        shard=shard,
        workers=workers,
    )
    if result.bad:
        if not skip_bad:
            raise BadItemsError(result.bad)
        warnings.warn(str(BadItemsError(result.bad)) + "\n(their rows are NaN)", stacklevel=2)
    return result.vectors


def encode_with_report(
    modality: Modality,
    inputs: Any,
    encoder: str | Encoder | None = None,
    batch_size: int = 32,
    normalize: bool = True,
    sample_rate: int | None = None,
    cache: bool | FeatureCache = True,
    progress: bool | None = None,
    shard: tuple[int, int] | None = None,
    workers: int | None = None,
) -> EmbedResult:
    """Like `encode`, never raising for bad inputs: NaN rows, an `ok` mask and the bad-item list."""
    run = EmbedRun(modality, encoder, batch_size, sample_rate, cache, progress, workers)
    items, indices = _select(_as_list(inputs, modality), shard)
    sequences, bad = run.sequences(items, indices)
    vectors = np.full((len(items), run.encoder.dim), np.nan, dtype=np.float32)
    ok = np.zeros(len(items), dtype=bool)
    for row, sequence in enumerate(sequences):
        if sequence is None:
            continue
        vector = np.asarray(run.encoder.pool(sequence), dtype=np.float32)
        vectors[row] = _unit(vector) if normalize else vector
        ok[row] = True
    return EmbedResult(
        vectors, ok, bad, run.encoder.name, run.encoder.settings(), indices, run.from_cache, run.computed
    )


def encode_sequence(
    modality: Modality,
    inputs: Any,
    encoder: str | Encoder | None = None,
    batch_size: int = 32,
    sample_rate: int | None = None,
    cache: bool | FeatureCache = True,
    skip_bad: bool = False,
    progress: bool | None = None,
    shard: tuple[int, int] | None = None,
    workers: int | None = None,
) -> SequenceBatch:
    """The un-pooled (T_i, D) feature sequences, in input order (same inputs and rules as `encode`).

    With `skip_bad=True` a bad input gets an empty (0, D) sequence (length 0, all-False mask
    row in `padded()`), `ok[i]` is False and `bad` says why.
    """
    run = EmbedRun(modality, encoder, batch_size, sample_rate, cache, progress, workers)
    items, indices = _select(_as_list(inputs, modality), shard)
    sequences, bad = run.sequences(items, indices)
    if bad and not skip_bad:
        raise BadItemsError(bad)
    empty = np.zeros((0, run.encoder.dim), dtype=np.float32)
    features = [empty if s is None else s for s in sequences]
    return SequenceBatch(
        features=features,
        lengths=np.array([len(f) for f in features], dtype=np.int64),
        ok=np.array([s is not None for s in sequences], dtype=bool),
        bad=bad,
        indices=indices,
    )


def shard_indices(n_items: int, shard: tuple[int, int] | None) -> np.ndarray:
    """Positions of the inputs in shard (i, n): i, i+n, i+2n, ... (all of them when `shard` is None)."""
    if shard is None:
        return np.arange(n_items, dtype=np.int64)
    index, count = (int(v) for v in shard)
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be (i, n) with 0 <= i < n, got {shard}")
    return np.arange(index, n_items, count, dtype=np.int64)


def merge_shards(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The full (N, ...) array from the outputs of shards 0..n-1 (n = len(parts)), in input order."""
    if not parts:
        raise ValueError("no shard outputs to merge")
    count = len(parts)
    total = sum(len(p) for p in parts)
    for index, part in enumerate(parts):
        expected = len(shard_indices(total, (index, count)))
        if len(part) != expected:
            raise ValueError(
                f"shard {index}/{count} has {len(part)} rows; {total} inputs in {count} shards give it {expected}"
            )
    merged = np.empty((total,) + parts[0].shape[1:], dtype=np.result_type(*parts))
    for index, part in enumerate(parts):
        merged[index::count] = part
    return merged


def _is_single(item: Any, modality: Modality) -> bool:
    """True when `inputs` is one input rather than a list of them."""
    if modality == "text":
        return isinstance(item, str)  # a list, tuple or array of strings is a batch
    if isinstance(item, (str, bytes, os.PathLike)) or is_array(item):
        return True
    if modality == "audio" and isinstance(item, tuple) and len(item) == 2:
        # (array, sample_rate) is one clip; a tuple of two paths is a list
        return is_array(item[0]) and isinstance(item[1], (int, np.integer)) and not isinstance(item[1], bool)
    return hasattr(item, "mode") and hasattr(item, "size") and hasattr(item, "tobytes")  # PIL image


def _as_list(inputs: Any, modality: Modality) -> list[Any]:
    """The inputs as a list, each audio/image folder replaced by its files (the CLI's rule, `bgtai.io.media_files`)."""
    from bgtai.io.media_files import expand_folders

    if _is_single(inputs, modality):
        return expand_folders(modality, [inputs])
    try:
        items = list(inputs)
    except TypeError as error:
        problem = f"expected an input or a list of inputs, got {type(inputs).__name__}"
        raise BadInputError(repr(inputs)[:80], problem) from error
    return expand_folders(modality, items)


def _select(items: list[Any], shard: tuple[int, int] | None) -> tuple[list[Any], np.ndarray]:
    indices = shard_indices(len(items), shard)
    return [items[i] for i in indices], indices


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector.astype(np.float64)))
    return (vector / norm).astype(np.float32) if norm > 0 else vector
