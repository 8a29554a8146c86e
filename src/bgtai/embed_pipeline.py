"""One embedding call's pipeline: cache lookups, threaded decoding, batched model runs, checks.

`bgtai.embed` (the public API) turns the inputs into a list and pools the sequences; an
`EmbedRun` holds the call's encoder, cache and counters and gives one (T, D) sequence per
input, or the reason it is bad. Only cache misses are decoded (`encoder.prepare`, in a thread
pool for audio and images, one batch ahead of the model) and run through
`encoder.encode_prepared`; every model output is checked (shape, finite) before it is used
or cached.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from bgtai.cache import FeatureCache
from bgtai.encoders.base import Encoder, Modality, check_modality
from bgtai.encoders.registry import get_encoder, require_modality
from bgtai.errors import BadInputError, BadItem

PROGRESS_THRESHOLD = 50  # more inputs than this show a progress bar unless progress=False


class EmbedRun:
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
        check_modality(modality)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.encoder = resolve_encoder(encoder, modality)
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
        if self.modality == "audio" and self.sample_rate is not None and is_array(item):
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


def resolve_encoder(encoder: str | Encoder | None, modality: Modality) -> Encoder:
    """The call's encoder: one given built, or the registry's (a name, or the modality's default).

    Either way its modality is checked exactly once (`require_modality`; `get_encoder` runs it).
    """
    if isinstance(encoder, Encoder):
        return require_modality(encoder, modality)
    return get_encoder(encoder, modality)


def is_array(item: Any) -> bool:
    return isinstance(item, np.ndarray) or (hasattr(item, "detach") and hasattr(item, "shape"))


def _source(item: Any, index: int) -> str:
    """A short name for an input in error messages."""
    if isinstance(item, os.PathLike):
        return str(item)
    if isinstance(item, str):
        return item if len(item) <= 80 else item[:77] + "..."
    if isinstance(item, tuple) and len(item) == 2 and is_array(item[0]):
        return f"<audio array #{index}, shape {tuple(item[0].shape)}, {item[1]} Hz>"
    if is_array(item):
        return f"<array #{index}, shape {tuple(item.shape)}>"
    return f"<{type(item).__name__} #{index}>"
