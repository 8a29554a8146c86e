"""Tiny deterministic encoders (16-d, no weights) for fast tests of everything downstream.

They follow the same input rules as the real encoders (decoding, down-mixing, resampling,
resizing all go through `bgtai.io`) and respond to content, so a pipeline test can tell two
different inputs apart, but they carry no learned knowledge.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from bgtai.encoders.base import Encoder
from bgtai.errors import BadInputError
from bgtai.io.audio import fixed_windows, load_audio
from bgtai.io.image import load_image, resize_center_crop

TINY_DIM = 16
_SEED = 20240611  # fixed: the projections must be the same in every process


def _projection(rows: int, salt: int) -> np.ndarray:
    """A fixed Gaussian (rows, TINY_DIM) matrix, scaled so outputs stay near unit size."""
    rng = np.random.default_rng(_SEED + salt)
    return (rng.standard_normal((rows, TINY_DIM)) / np.sqrt(rows)).astype(np.float32)


def check_text(item: Any) -> str:
    """A non-blank string, else a `BadInputError` naming the input."""
    if not isinstance(item, str):
        raise BadInputError(repr(item)[:80], f"expected a text string, got {type(item).__name__}")
    if not item.strip():
        raise BadInputError(repr(item), "empty or whitespace-only text")
    return item


class TinyTextEncoder(Encoder):
    """One vector per whitespace token: its hashed character trigrams through a fixed projection."""

    name = "tiny-text"
    modality = "text"
    description = "test encoder: hashed character trigrams per token (16-d, no weights)"
    _BUCKETS = 4096

    def __init__(self) -> None:
        self.dim = TINY_DIM
        self._table = _projection(self._BUCKETS, salt=1)

    def weights_present(self) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, "version": 1, "dim": self.dim, "ngram": 3, "buckets": self._BUCKETS}

    def prepare(self, item: Any) -> list[str]:
        return check_text(item).lower().split()

    def _bucket(self, gram: str) -> int:
        # blake2b, not hash(): Python's string hash changes between processes
        digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest()
        return int.from_bytes(digest, "little") % self._BUCKETS

    def _token_vector(self, token: str) -> np.ndarray:
        padded = f"<{token}>"
        grams = [padded[i : i + 3] for i in range(max(1, len(padded) - 2))]
        rows = self._table[[self._bucket(g) for g in grams]]
        return rows.sum(axis=0) / np.sqrt(len(grams))

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        return [np.stack([self._token_vector(t) for t in tokens]).astype(np.float32) for tokens in batch]


class TinyAudioEncoder(Encoder):
    """One vector per 0.1 s frame at 16 kHz: log band energies through a fixed projection."""

    name = "tiny-audio"
    modality = "audio"
    description = "test encoder: log band energies of 0.1 s frames at 16 kHz (16-d, no weights)"
    sample_rate = 16000
    _FRAME = 1600
    _BANDS = 32

    def __init__(self) -> None:
        self.dim = TINY_DIM
        self._proj = _projection(self._BANDS, salt=2)
        self._window = np.hanning(self._FRAME).astype(np.float32)

    def weights_present(self) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "version": 1,
            "dim": self.dim,
            "sample_rate": self.sample_rate,
            "frame": self._FRAME,
            "bands": self._BANDS,
        }

    def prepare(self, item: Any) -> np.ndarray:
        audio = load_audio(item, target_sr=self.sample_rate)
        return fixed_windows(audio.samples, self._FRAME)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        out = []
        for frames in batch:
            power = np.abs(np.fft.rfft(frames * self._window, axis=1)) ** 2
            bands = np.array_split(power, self._BANDS, axis=1)
            energies = np.log1p(np.stack([b.mean(axis=1) for b in bands], axis=1) * 1e3)
            out.append((energies @ self._proj).astype(np.float32))
        return out


class TinyImageEncoder(Encoder):
    """One vector per 4x4 patch of a 32 px centre crop: raw pixels through a fixed projection."""

    name = "tiny-image"
    modality = "image"
    description = "test encoder: 4x4 pixel patches of a 32 px crop (16-d, no weights)"
    image_size = 32
    _PATCH = 4

    def __init__(self) -> None:
        self.dim = TINY_DIM
        self._proj = _projection(3 * self._PATCH * self._PATCH, salt=3)

    def weights_present(self) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, "version": 1, "dim": self.dim, "image_size": self.image_size, "patch": self._PATCH}

    def prepare(self, item: Any) -> np.ndarray:
        return resize_center_crop(load_image(item), self.image_size)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        p, n = self._PATCH, self.image_size // self._PATCH
        out = []
        for pixels in batch:
            # (3, n*p, n*p) -> (n, n, 3, p, p): patches in row-major order
            patches = pixels.reshape(3, n, p, n, p).transpose(1, 3, 0, 2, 4).reshape(n * n, -1)
            out.append(((patches - 0.5) @ self._proj).astype(np.float32))
        return out
