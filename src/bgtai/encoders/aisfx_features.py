"""aiSFX's front end, re-expressed in torch: 44.1 kHz audio to normalised log-mel blocks.

- audio peak-normalised to max |y| = 1;
- power mel spectrogram: 2048-sample Hann frames, hop 1024, centred with zero padding,
  96 HTK mel bands over 0-22050 Hz, each filter scaled to unit sum (librosa `norm=1`);
- log10(10000 * mel + 1), then divided by 9.4578 (aiSFX's "original" min/max scaling);
- blocks of 100 frames (~2.3 s), hop 50 frames, an incomplete last block dropped unless it
  is the only one (aiSFX `blocking`, `drop_partial_block=True`).
`block_runs`/`block_positions` group overlapping blocks for `share_blocks` (one trunk pass per run).
The encoder is `bgtai.encoders.aisfx`, which re-exports every name here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

SAMPLE_RATE = 44100
N_FFT = 2048
HOP = 1024
N_MELS = 96
F_MIN, F_MAX = 0.0, 22050.0
LOG_SCALE = 10000.0
NORM_MAX = 9.457798957824707  # aiSFX `spectrogram_normalize(spec_norm="original")`
BLOCK_FRAMES = 100
BLOCK_HOP = 50
POOL_STRIDE = 8  # frames per final trunk position (three 2x2 max-pools)
BLOCK_POSITIONS = BLOCK_FRAMES // POOL_STRIDE  # 12 final positions per 100-frame block
_RUN_BLOCKS = 32  # blocks per shared pass (bounds memory on long files)


def block_runs(starts: list[int], per_run: int = _RUN_BLOCKS) -> list[list[int]]:
    """Consecutive block starts grouped into runs that share one trunk pass."""
    return [starts[i : i + per_run] for i in range(0, len(starts), per_run)]


def block_positions(start: int) -> tuple[int, int]:
    """Final-position range [a, a + 12) of a block starting `start` frames into its run."""
    first = start // POOL_STRIDE
    return first, first + BLOCK_POSITIONS


def htk_mel_filters(
    sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, f_min: float = F_MIN, f_max: float = F_MAX
) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32 triangular HTK-mel filters, each scaled to unit sum.

    The same arithmetic, in the same order and precision, as `librosa.filters.mel(...,
    htk=True, norm=1)` (aiSFX's call), written out so the default audio encoder needs no
    librosa at run time; a test checks it against librosa.
    """
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sample_rate)
    mel_edges = np.linspace(2595.0 * np.log10(1.0 + f_min / 700.0), 2595.0 * np.log10(1.0 + f_max / 700.0), n_mels + 2)
    hz_edges = 700.0 * (10.0 ** (mel_edges / 2595.0) - 1.0)
    widths = np.diff(hz_edges)
    ramps = np.subtract.outer(hz_edges, fft_freqs)
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    for i in range(n_mels):
        rising = -ramps[i] / widths[i]
        falling = ramps[i + 2] / widths[i + 1]
        weights[i] = np.maximum(0, np.minimum(rising, falling))
    sums = np.sum(np.abs(weights).astype(np.float64), axis=-1, keepdims=True)  # librosa sums in float64
    sums[sums < np.finfo(weights.dtype).tiny] = 1.0  # an empty filter stays zero
    return (weights / sums).astype(np.float32)


@functools.lru_cache(maxsize=1)
def mel_filterbank() -> torch.Tensor:
    """(N_MELS, N_FFT // 2 + 1) filters, exactly as aiSFX's librosa call builds them."""
    return torch.from_numpy(htk_mel_filters().astype(np.float32))


def block_starts(n_frames: int) -> list[int]:
    """First frame of every block, by aiSFX's `blocking` rule (partial last block dropped)."""
    count = math.ceil((n_frames - BLOCK_FRAMES) / BLOCK_HOP + 1)
    if (n_frames - BLOCK_FRAMES) % BLOCK_HOP != 0:
        count -= 1
    return [i * BLOCK_HOP for i in range(max(count, 1))]


def peak_normalise(samples: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(samples)))
    return samples / peak if peak > 0 else samples


def log_mel_batch(waveforms: list[np.ndarray], device: str = "cpu") -> list[torch.Tensor]:
    """Normalised log-mel (frames, N_MELS) per waveform, computed in one batched STFT.

    Zero-padding every waveform to the longest is exact: the STFT pads with zeros anyway
    (centred, constant mode) and only each clip's own frames are kept.
    """
    longest = max(len(w) for w in waveforms)
    padded = torch.zeros(len(waveforms), longest)
    for row, wave in enumerate(waveforms):
        padded[row, : len(wave)] = torch.from_numpy(wave)
    padded = padded.to(device)
    spectrum = torch.stft(
        padded,
        n_fft=N_FFT,
        hop_length=HOP,
        window=torch.hann_window(N_FFT, device=device),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    power = spectrum.real.square() + spectrum.imag.square()  # (batch, freq, frames)
    mel = torch.matmul(mel_filterbank().to(device), power)
    logmel = torch.log10(mel * LOG_SCALE + 1.0) / NORM_MAX
    return [logmel[row, :, : 1 + len(wave) // HOP].T for row, wave in enumerate(waveforms)]


def blocks_of(logmel: torch.Tensor) -> torch.Tensor:
    """(n_blocks, BLOCK_FRAMES, N_MELS), zero-padded at the end as aiSFX pads."""
    starts = block_starts(logmel.shape[0])
    out = torch.zeros(len(starts), BLOCK_FRAMES, N_MELS, device=logmel.device)
    for row, start in enumerate(starts):
        chunk = logmel[start : start + BLOCK_FRAMES]
        out[row, : chunk.shape[0]] = chunk
    return out
