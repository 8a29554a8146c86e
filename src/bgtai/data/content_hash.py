"""Content hashes of dataset files and texts: what makes two items "the same content" for the test split.

- audio: sha256 of the decoded samples (`bgtai.io.audio.read_audio_file`: mono, the file's own rate)
  rounded to 16-bit PCM, and the rate. Rounding to 16 bits is what lets the same sound in two
  containers hash alike: an Ogg Vorbis file's decoded samples written to a 16-bit FLAC read back
  exactly, but not to 32-bit float precision;
- image file: sha256 of the file's bytes; image pixels: sha256 of the decoded RGB pixels
  (`bgtai.io.image.load_image`, what every image encoder sees) and their size, so the same
  picture re-saved losslessly (another PNG compression, PNG -> BMP) hashes alike;
- text: NFKC, case-folded, whitespace collapsed (not hashed: the normalised text is its own key).

Decoding is the slow part, so file hashes are kept by (kind, resolved path, size, mtime) in
memory for the process and in one JSON file under the feature-cache root
(`<cache root>/content-hashes/v1.json`), rewritten atomically. A changed file (new size or
mtime) is a miss; a damaged cache file is ignored and rewritten; two processes writing at once
each write a complete file (the later one may drop entries the other added: they are recomputed).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from bgtai.atomic import write_text
from bgtai.config import cache_dir
from bgtai.errors import BadInputError

Kind = Literal["audio", "file", "pixels"]
CACHE_VERSION = 1
_CHUNK = 1 << 20
_memory: dict[str, str] = {}
_loaded_from: set[Path] = set()


def normalise_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _audio_digest(path: Path) -> str:
    from bgtai.io.audio import read_audio_file

    audio = read_audio_file(path)
    pcm = np.clip(np.round(audio.samples.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    digest = hashlib.sha256(f"audio\0{audio.sample_rate}\0".encode())
    digest.update(pcm.tobytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256(b"file\0")
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    except OSError as error:
        raise BadInputError(str(path), f"cannot read ({error})") from error
    return digest.hexdigest()


def _pixels_digest(path: Path) -> str:
    from bgtai.io.image import load_image

    pixels = np.ascontiguousarray(np.asarray(load_image(path), dtype=np.uint8))
    digest = hashlib.sha256(f"pixels\0{pixels.shape}\0".encode())
    digest.update(pixels.tobytes())
    return digest.hexdigest()


_DIGESTS: dict[str, Callable[[Path], str]] = {"audio": _audio_digest, "file": _file_digest, "pixels": _pixels_digest}


def _cache_file() -> Path:
    return cache_dir() / "content-hashes" / f"v{CACHE_VERSION}.json"


def _read_cache(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # absent or damaged: every entry is a miss and the file is rewritten
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items() if isinstance(value, str)}


def _key(kind: str, path: Path) -> str:
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except OSError as error:
        raise BadInputError(str(path), f"cannot read ({error})") from error
    return f"{kind}\0{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}"


def file_hashes(kind: Kind, paths: Sequence[Path | str]) -> list[str]:
    """The `kind` hash of each file, in order; decoded once per (path, size, mtime) and then cached."""
    if kind not in _DIGESTS:
        raise ValueError(f"unknown content hash kind {kind!r}; use one of {', '.join(_DIGESTS)}")
    cache_path = _cache_file()
    if cache_path not in _loaded_from:
        _memory.update(_read_cache(cache_path))
        _loaded_from.add(cache_path)
    keys = [_key(kind, Path(path)) for path in paths]
    computed: dict[str, str] = {}
    for path, key in zip(paths, keys):
        if key not in _memory and key not in computed:
            computed[key] = _DIGESTS[kind](Path(path))
    if computed:
        _memory.update(computed)
        stored = _read_cache(cache_path)  # merge with what other processes wrote meanwhile
        stored.update(computed)
        write_text(cache_path, json.dumps(stored, sort_keys=True))
    return [_memory[key] for key in keys]
