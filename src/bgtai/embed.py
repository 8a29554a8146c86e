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
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from bgtai.cache import FeatureCache
from bgtai.encoders.base import Encoder, Modality
from bgtai.encoders.registry import get_encoder
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

MODALITIES: tuple[Modality, ...] = ("text", "audio", "image")
PROGRESS_THRESHOLD = 50  # more inputs than this show a progress bar unless progress=False


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
    run = _Run(modality, encoder, batch_size, sample_rate, cache, progress, workers)
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
    run = _Run(modality, encoder, batch_size, sample_rate, cache, progress, workers)
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


# ---------------------------------------------------------------------------------------------
# the pipeline


class _Run:
    """One call's encoder, cache and counters."""

    def __init__(
        self,
        modality: Modality,
        encoder: str | Encoder | None,
        batch_size: int,
        sample_rate: int | None,
        cache: bool | FeatureCache,
        progress: bool | None,
        workers: int | None,
    ) -> None:
        if modality not in MODALITIES:
            raise ValueError(f"unknown modality {modality!r}: use one of {', '.join(MODALITIES)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.encoder = _resolve_encoder(encoder, modality)
        self.modality = modality
        self.batch_size = batch_size
        self.sample_rate = sample_rate
        self.cache = FeatureCache() if cache is True else (cache or None)
        self.progress = progress
        # Decoding audio and images releases the GIL (libsndfile, soxr, Pillow); text preparation is cheap.
        default_workers = 0 if modality == "text" else min(4, os.cpu_count() or 1)
        self.workers = default_workers if workers is None else max(0, workers)
        self.from_cache = 0
        self.computed = 0
        self._warned_write = False

    def sequences(self, items: list[Any], indices: np.ndarray) -> tuple[list[np.ndarray | None], list[BadItem]]:
        """One (T, D) sequence per item (None for bad ones) and the bad items, by global index."""
        items = [self._with_rate(item) for item in items]
        out: list[np.ndarray | None] = [None] * len(items)
        problems: dict[int, str] = {}
        show = self.progress if self.progress is not None else len(items) > PROGRESS_THRESHOLD
        with tqdm(total=len(items), desc=self.encoder.name, unit="item", disable=not show) as bar:
            keys = [self._lookup(item, row, out) for row, item in enumerate(items)]
            bar.update(self.from_cache)
            misses = [row for row in range(len(items)) if out[row] is None]
            for rows, prepared in self._prepared_batches(items, misses):
                for row in rows:
                    if isinstance(prepared[row], BadInputError):
                        problems[row] = prepared[row].problem
                good = [row for row in rows if row not in problems]
                for row, sequence in zip(good, self._run_model([prepared[row] for row in good])):
                    problem = self._problem(sequence)
                    if problem:
                        problems[row] = problem
                        continue
                    out[row] = sequence
                    self.computed += 1
                    self._store(keys[row], sequence)
                bar.update(len(rows))
        bad = [BadItem(int(indices[r]), _source(items[r], int(indices[r])), problems[r]) for r in sorted(problems)]
        return out, bad

    def _lookup(self, item: Any, row: int, out: list[np.ndarray | None]) -> str | None:
        """The item's cache key (None: not cached); a usable cached sequence goes into `out[row]`."""
        if self.cache is None:
            return None
        key = self.cache.key_for(self.encoder, item)
        cached = self.cache.get(key) if key is not None else None
        if cached is not None and self._valid(cached):
            out[row] = cached
            self.from_cache += 1
        return key

    def _run_model(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        results = self.encoder.encode_prepared(batch)
        if len(results) != len(batch):
            name, count = self.encoder.name, len(results)
            raise RuntimeError(f"encoder {name!r} returned {count} sequences for {len(batch)} inputs")
        return [np.ascontiguousarray(sequence, dtype=np.float32) for sequence in results]

    def _prepared_batches(self, items: list[Any], rows: list[int]) -> Iterator[tuple[list[int], dict[int, Any]]]:
        """Batches of (rows, prepared item or its BadInputError); the next batch decodes while this one runs."""
        batches = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        if self.workers == 0:
            for batch in batches:
                yield batch, {row: _prepare_one(self.encoder, items[row]) for row in batch}
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:

            def submit(batch: list[int]) -> dict[int, Future[Any]]:
                return {row: pool.submit(_prepare_one, self.encoder, items[row]) for row in batch}

            pending = submit(batches[0]) if batches else {}
            for number, batch in enumerate(batches):
                current = pending
                if number + 1 < len(batches):
                    pending = submit(batches[number + 1])
                yield batch, {row: future.result() for row, future in current.items()}

    def _with_rate(self, item: Any) -> Any:
        """An audio array given with `sample_rate=` becomes an (array, rate) pair, which the cache can key."""
        if self.modality == "audio" and self.sample_rate is not None and _is_array(item):
            return (item, int(self.sample_rate))
        return item

    def _valid(self, sequence: np.ndarray) -> bool:
        return sequence.shape[0] >= 1 and sequence.shape[1] == self.encoder.dim

    def _problem(self, sequence: np.ndarray) -> str | None:
        """Why a model output cannot be used (never pass on a wrong vector), or None."""
        if sequence.ndim != 2 or sequence.shape[0] < 1 or sequence.shape[1] != self.encoder.dim:
            expected = f"(T>=1, {self.encoder.dim})"
            return f"encoder {self.encoder.name!r} produced features of shape {sequence.shape}, expected {expected}"
        if not np.all(np.isfinite(sequence)):
            return f"encoder {self.encoder.name!r} produced NaN or infinite features"
        return None

    def _store(self, key: str | None, sequence: np.ndarray) -> None:
        if self.cache is None or key is None:
            return
        try:
            self.cache.put(key, sequence)
        except OSError as error:
            # A read-only or full cache must not stop the embedding itself.
            if not self._warned_write:
                message = f"feature cache {self.cache.root} not written ({error}); continuing without it"
                warnings.warn(message, stacklevel=3)
                self._warned_write = True


def _prepare_one(encoder: Encoder, item: Any) -> Any:
    try:
        return encoder.prepare(item)
    except BadInputError as error:
        return error


def _resolve_encoder(encoder: str | Encoder | None, modality: Modality) -> Encoder:
    resolved = encoder if isinstance(encoder, Encoder) else get_encoder(encoder, modality)
    # checked here too: the registry returns an already-built encoder without comparing modalities
    if resolved.modality != modality:
        raise ValueError(f"encoder {resolved.name!r} embeds {resolved.modality}, not {modality}")
    return resolved


def _is_array(item: Any) -> bool:
    return isinstance(item, np.ndarray) or (hasattr(item, "detach") and hasattr(item, "shape"))


def _is_single(item: Any, modality: Modality) -> bool:
    """True when `inputs` is one input rather than a list of them."""
    if modality == "text":
        return isinstance(item, str)  # a list, tuple or array of strings is a batch
    if isinstance(item, (str, bytes, os.PathLike)) or _is_array(item):
        return True
    if modality == "audio" and isinstance(item, tuple) and len(item) == 2:
        # (array, sample_rate) is one clip; a tuple of two paths is a list
        return _is_array(item[0]) and isinstance(item[1], (int, np.integer)) and not isinstance(item[1], bool)
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


def _source(item: Any, index: int) -> str:
    """A short name for an input in error messages."""
    if isinstance(item, os.PathLike):
        return str(item)
    if isinstance(item, str):
        return item if len(item) <= 80 else item[:77] + "..."
    if isinstance(item, tuple) and len(item) == 2 and _is_array(item[0]):
        return f"<audio array #{index}, shape {tuple(item[0].shape)}, {item[1]} Hz>"
    if _is_array(item):
        return f"<array #{index}, shape {tuple(item.shape)}>"
    return f"<{type(item).__name__} #{index}>"


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector.astype(np.float64)))
    return (vector / norm).astype(np.float32) if norm > 0 else vector
