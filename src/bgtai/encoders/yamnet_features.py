"""YAMNet's front end (`yamnet/features.py`) in numpy: 16 kHz audio to 0.96 s log-mel patches.

- zero padding at the end so the clip holds a whole number of patches, at least one
  (`pad_waveform`: 15600 samples for the first patch, then whole hops of 7680 samples);
- magnitude STFT: 400-sample (25 ms) periodic Hann window, hop 160 (10 ms), FFT 512, no centring;
- 64 mel bands over 125-7500 Hz with TensorFlow's `linear_to_mel_weight_matrix` (HTK mel
  scale, triangles linear in mel, the DC bin weighted 0, no normalisation);
- log(mel + 0.001);
- patches of 96 frames (0.96 s), hop 48 frames (0.48 s).

The encoders are in `bgtai.encoders.yamnet`, which re-exports every name here.
"""

from __future__ import annotations

import functools
import math

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
N_FFT = 512  # 2 ** ceil(log2(WINDOW)), as YAMNet computes it
N_MELS = 64
F_MIN, F_MAX = 125.0, 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96  # 0.96 s
PATCH_HOP_FRAMES = 48  # 0.48 s
# YAMNet's `pad_waveform`: one patch needs 0.96 + 0.025 - 0.010 s; each further patch one hop more
MIN_SAMPLES = PATCH_FRAMES * HOP + WINDOW - HOP  # 15600
PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * HOP  # 7680


def padded_length(n_samples: int) -> int:
    """Samples after YAMNet's `pad_waveform`: at least one patch, then whole patch hops."""
    if n_samples <= MIN_SAMPLES:
        return MIN_SAMPLES
    return MIN_SAMPLES + PATCH_HOP_SAMPLES * math.ceil((n_samples - MIN_SAMPLES) / PATCH_HOP_SAMPLES)


def patch_count(n_samples: int) -> int:
    """Patches YAMNet makes from a clip of `n_samples` at 16 kHz (at least one)."""
    return 1 + (padded_length(n_samples) - MIN_SAMPLES) // PATCH_HOP_SAMPLES


def pad_waveform(samples: np.ndarray) -> np.ndarray:
    out = np.zeros(padded_length(len(samples)), dtype=np.float32)
    out[: len(samples)] = samples
    return out


@functools.lru_cache(maxsize=1)
def hann_window() -> np.ndarray:
    """Periodic Hann window of WINDOW samples (tf.signal.stft's default)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(WINDOW) / WINDOW)).astype(np.float32)


def stft_magnitude(samples: np.ndarray) -> np.ndarray:
    """(frames, N_FFT // 2 + 1) magnitudes; frames start at 0 and hop HOP, no centring or end padding."""
    n_frames = 1 + (len(samples) - WINDOW) // HOP
    if n_frames < 1:
        raise ValueError(f"need at least {WINDOW} samples for one STFT frame, got {len(samples)}")
    frames = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float32, copy=False), WINDOW)[::HOP]
    return np.abs(np.fft.rfft(frames * hann_window(), n=N_FFT, axis=-1)).astype(np.float32)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """The HTK mel scale, as TensorFlow writes it: 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


@functools.lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) weights, as `tf.signal.linear_to_mel_weight_matrix` builds them.

    Triangles are linear in mel (not in Hz, as librosa's are), edges spaced evenly in mel from
    F_MIN to F_MAX, peak weight 1, and the DC bin weighted 0.
    """
    n_bins = N_FFT // 2 + 1
    bin_mel = hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2.0, n_bins)[1:])[:, None]
    edges = np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    rising = (bin_mel - lower) / (center - lower)
    falling = (upper - bin_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.concatenate([np.zeros((1, N_MELS)), weights]).astype(np.float32)


def log_mel(samples: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) log(mel + 0.001) of a 16 kHz waveform (no padding added here)."""
    return np.log(stft_magnitude(samples) @ mel_matrix() + LOG_OFFSET).astype(np.float32)


def patches_of(samples: np.ndarray) -> np.ndarray:
    """(n, PATCH_FRAMES, N_MELS) log-mel patches of a 16 kHz clip, padded the way YAMNet pads it."""
    spectrogram = log_mel(pad_waveform(samples))
    windows = np.lib.stride_tricks.sliding_window_view(spectrogram, PATCH_FRAMES, axis=0)[::PATCH_HOP_FRAMES]
    patches = np.ascontiguousarray(windows.transpose(0, 2, 1))  # (n, mels, frames) -> (n, frames, mels)
    assert patches.shape[0] == patch_count(len(samples))
    return patches
