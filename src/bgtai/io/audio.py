"""Audio decoding, down-mixing, explicit resampling and deterministic windows.

Rules every encoder relies on:
- any format libsndfile reads (wav, flac, ogg/vorbis, opus, mp3);
- mono by averaging channels (never concatenating them);
- resampling with soxr's very-high-quality filter to the rate the caller asks for;
- arrays given in memory are (samples,) or (channels, samples), with their sample rate.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from bgtai.errors import BadInputError

# Formats tried, in order, when metadata names a file that is stored under another extension.
AUDIO_SUFFIXES = (".wav", ".flac", ".opus", ".ogg", ".mp3", ".aiff", ".aif")

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples with their sample rate and a name for error messages."""

    samples: np.ndarray
    sample_rate: int
    source: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def resolve_audio_path(path: PathLike) -> Path:
    """The file itself if it exists, else a file with the same stem and another audio suffix.

    Dataset metadata often names `x.wav` while the file is stored as `x.flac` or `x.opus`.
    """
    path = Path(path)
    if path.exists():
        return path
    for suffix in AUDIO_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    raise BadInputError(
        str(path), "file not found (also looked for " + ", ".join(AUDIO_SUFFIXES) + " with the same stem)"
    )


def _check_samples(samples: np.ndarray, source: str) -> np.ndarray:
    if samples.size == 0:
        raise BadInputError(source, "no audio samples (zero length)")
    if not np.all(np.isfinite(samples)):
        raise BadInputError(source, "contains NaN or infinite samples")
    return samples


def read_audio_file(path: PathLike) -> Audio:
    """Decode a file to mono float32 at its own sample rate."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise BadInputError(source, "file not found")
    if path.is_dir():
        raise BadInputError(source, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise BadInputError(source, "empty file (0 bytes)")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise BadInputError(source, f"cannot decode audio ({error})") from error
    mono = data.mean(axis=1, dtype=np.float64).astype(np.float32) if data.shape[1] > 1 else data[:, 0]
    return Audio(_check_samples(np.ascontiguousarray(mono), source), int(rate), source)


def audio_from_array(array: object, sample_rate: int, source: str = "<array>") -> Audio:
    """Wrap an in-memory waveform: shape (samples,) or (channels, samples); channels are averaged."""
    if hasattr(array, "detach"):  # torch.Tensor, without importing torch here
        array = array.detach().cpu().numpy()  # type: ignore[attr-defined]
    samples = np.asarray(array)
    if not (np.issubdtype(samples.dtype, np.floating) or np.issubdtype(samples.dtype, np.integer)):
        raise BadInputError(source, f"audio array has dtype {samples.dtype}, expected numbers")
    if np.issubdtype(samples.dtype, np.integer):
        # integer PCM: scale to [-1, 1) by the type's range, as soundfile does
        samples = samples.astype(np.float64) / float(-np.iinfo(samples.dtype).min)
    if samples.ndim == 2:
        if samples.shape[0] > 16:
            raise BadInputError(source, f"audio array of shape {samples.shape}: 2-D arrays must be (channels, samples)")
        samples = samples.mean(axis=0)
    elif samples.ndim != 1:
        raise BadInputError(source, f"audio array of shape {samples.shape}: expected (samples,) or (channels, samples)")
    if sample_rate is None or int(sample_rate) <= 0:
        raise BadInputError(source, "an audio array needs a positive sample rate")
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    return Audio(_check_samples(samples, source), int(sample_rate), source)


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, very high quality); a no-op at equal rates."""
    if orig_sr == target_sr:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples.astype(np.float32, copy=False), orig_sr, target_sr, quality="VHQ").astype(np.float32)


def load_audio(source: object, target_sr: int | None = None, sample_rate: int | None = None) -> Audio:
    """Decode `source` (a path, an `Audio`, or an array with `sample_rate`) to mono, resampled to `target_sr`."""
    if isinstance(source, Audio):
        audio = source
    elif isinstance(source, (str, os.PathLike)):
        audio = read_audio_file(source)
    elif isinstance(source, tuple) and len(source) == 2:
        audio = audio_from_array(source[0], int(source[1]))
    else:
        if sample_rate is None:
            raise BadInputError("<array>", "an audio array needs its sample rate (pass sample_rate=...)")
        audio = audio_from_array(source, sample_rate)
    if target_sr is None or target_sr == audio.sample_rate:
        return audio
    return Audio(resample(audio.samples, audio.sample_rate, target_sr), int(target_sr), audio.source)


def fixed_windows(samples: np.ndarray, window: int, hop: int | None = None, min_fill: float = 0.5) -> np.ndarray:
    """Cut `samples` into (n, window) frames, deterministically.

    Short input is zero-padded to one window. A trailing window is kept only when at least
    `min_fill` of it is real signal, so the padding of a long clip does not dilute its pooled
    embedding; the first window is always kept.
    """
    hop = hop or window
    n = len(samples)
    if n <= window:
        out = np.zeros((1, window), dtype=np.float32)
        out[0, :n] = samples
        return out
    count = 1 + math.ceil((n - window) / hop)
    starts = [i * hop for i in range(count)]
    starts = [s for i, s in enumerate(starts) if i == 0 or (min(n, s + window) - s) >= min_fill * window]
    out = np.zeros((len(starts), window), dtype=np.float32)
    for row, start in enumerate(starts):
        chunk = samples[start : start + window]
        out[row, : len(chunk)] = chunk
    return out
