"""The feature cache: one (T, D) float32 sequence per (input content, encoder, encoder settings).

Entries are keyed by what the input *is*, not where it lives: a file by the sha256 of its
bytes (the same clip at two paths is one entry), an in-memory array by its bytes, dtype,
shape and sample rate, a text by its UTF-8 string. The encoder's name and a hash of its
`settings()` complete the key, so changing a model or its preprocessing never reads stale
features.

Layout: `<root>/<encoder>/<settings hash>/<2 hex>/<content hash>.npy`, plus one
`settings.json` per settings folder saying what the hash stands for.

Every write goes through `bgtai.atomic.write_bytes`: a temporary file in the entry's own folder,
flushed to disk, then renamed over the entry (`os.replace` is atomic on one filesystem). A run
killed mid-write leaves at most an orphan `.NAME.<random>.tmp` file (or `.tmp-*`, as older
versions named them; swept from a folder, once it is an hour old, by the next process that
writes there), never a half-written entry, and several processes writing the same entry each
rename a complete file. An entry that still fails to load
(damaged on disk, edited by hand) is a miss; the caller's next `put` replaces it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.atomic import write_bytes, write_text
from bgtai.config import cache_dir
from bgtai.encoders.base import Encoder

_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# what a killed writer leaves: `bgtai.atomic`'s temporaries, and the `.tmp-*` of older versions
_TEMP_PATTERNS = (".*.tmp", ".tmp-*")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0


def settings_hash(encoder: Encoder) -> str:
    """16 hex digits of sha256 over the encoder name and its settings (JSON, sorted keys)."""
    payload = json.dumps({"encoder": encoder.name, "settings": encoder.settings()}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _file_digest(path: Path) -> str | None:
    """sha256 of a regular file's bytes; None when it cannot be read (the encoder will say why)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256(b"file\0")
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _array_digest(array: np.ndarray, sample_rate: int | None) -> str:
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"array\0{array.dtype.str}\0{array.shape}\0{sample_rate}\0".encode())
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def _to_numpy(item: Any) -> np.ndarray | None:
    if isinstance(item, np.ndarray):
        return item
    if hasattr(item, "detach") and hasattr(item, "cpu"):  # torch.Tensor, without importing torch
        return item.detach().cpu().numpy()
    return None


def content_digest(item: Any, modality: str, sample_rate: int | None = None) -> str | None:
    """sha256 naming the content of one input, or None for inputs the cache cannot name."""
    if modality == "text":
        if isinstance(item, str):
            return hashlib.sha256(b"text\0" + item.encode("utf-8", errors="surrogatepass")).hexdigest()
        return None
    if isinstance(item, (str, os.PathLike)):
        return _file_digest(Path(item))
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (int, np.integer)):
        array = _to_numpy(item[0])
        return None if array is None else _array_digest(array, int(item[1]))
    array = _to_numpy(item)
    if array is not None:
        return _array_digest(array, sample_rate if modality == "audio" else None)
    if hasattr(item, "tobytes") and hasattr(item, "mode") and hasattr(item, "size"):  # PIL image
        digest = hashlib.sha256(f"pil\0{item.mode}\0{item.size}\0".encode())
        digest.update(item.tobytes())
        return digest.hexdigest()
    return None


# the names other modules imported before `bgtai.atomic` had them
write_bytes_atomic = write_bytes
write_text_atomic = write_text


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    """`np.save` that never leaves a partial file at `path`."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    write_bytes(path, buffer.getvalue())


def text_per_file(path: str | Path, folder: Path, suffix: str, compute: Callable[[], str]) -> str:
    """A text derived from one file (a transcript, word times), kept under `folder` by the sha256 of the
    file's bytes: read when there, else `compute()`d and written atomically."""
    stored = folder / f"{hashlib.sha256(Path(path).read_bytes()).hexdigest()}{suffix}"
    if stored.is_file():
        return stored.read_text(encoding="utf-8")
    text = compute()
    write_text(stored, text)
    return text


ORPHAN_AGE_S = 3600.0  # a temporary file this old belongs to a writer that was killed, not a slow one


def sweep_orphans(folder: Path, older_than_s: float = ORPHAN_AGE_S) -> int:
    """Delete the temporary files a killed writer left in `folder` (not its subfolders); returns how many."""
    now = time.time()
    removed = 0
    for temp in {found for pattern in _TEMP_PATTERNS for found in Path(folder).glob(pattern)}:
        try:
            if now - temp.stat().st_mtime > older_than_s:
                temp.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another process finished or removed it meanwhile
    return removed


class FeatureCache:
    """Sequences of features on disk, keyed by content + encoder + settings (see the module doc)."""

    def __init__(self, root: Path | None = None) -> None:
        # Read the environment now, not at import, so tests (and users) can point BGTAI_CACHE elsewhere.
        self.root = Path(root) if root is not None else cache_dir() / "features"
        self.stats = CacheStats()
        # settings.json text per settings folder, written with the folder's first entry
        self._descriptions: dict[str, str] = {}
        self._described: set[str] = set()
        self._swept: set[Path] = set()

    def key_for(self, encoder: Encoder, item: Any, sample_rate: int | None = None) -> str | None:
        """The entry key of `item` under `encoder`, or None when the item cannot be named (not cached)."""
        digest = content_digest(item, encoder.modality, sample_rate)
        if digest is None:
            return None
        name = _UNSAFE.sub("_", encoder.name).strip("._") or "encoder"
        folder = f"{name}/{settings_hash(encoder)}"
        if folder not in self._descriptions:
            description = {"encoder": encoder.name, "settings": encoder.settings()}
            self._descriptions[folder] = json.dumps(description, sort_keys=True, indent=2, default=str) + "\n"
        return f"{folder}/{digest[:2]}/{digest}"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The stored (T, D) float32 array, or None when absent or unreadable (counted as a miss)."""
        array = self._load(self.path(key))
        if array is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return array

    def put(self, key: str, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array, dtype=np.float32)
        if array.ndim != 2:
            raise ValueError(f"cache entries are (T, D) sequences, got shape {array.shape}")
        path = self.path(key)
        save_npy_atomic(path, array)
        if path.parent not in self._swept:
            self._swept.add(path.parent)
            sweep_orphans(path.parent)
        self.stats.writes += 1
        self._describe(key.rsplit("/", 2)[0])

    @staticmethod
    def _load(path: Path) -> np.ndarray | None:
        try:
            array = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (ValueError, OSError, EOFError):
            return None  # damaged entry: recompute and overwrite
        if not isinstance(array, np.ndarray) or array.ndim != 2 or array.dtype != np.float32:
            return None
        return array

    def _describe(self, folder: str) -> None:
        """Write `settings.json` beside the entries once, so a person can tell the folders apart."""
        if folder in self._described or folder not in self._descriptions:
            return
        target = self.root / folder / "settings.json"
        if not target.exists():
            write_text(target, self._descriptions[folder])
        self._described.add(folder)
