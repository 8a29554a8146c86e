"""Audio decoding rules: formats, mono down-mix, resampling, windows, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.errors import BadInputError
from bgtai.io.audio import (
    audio_from_array,
    fixed_windows,
    load_audio,
    resample,
    resolve_audio_path,
)


def _sine(freq: float, sr: int, seconds: float) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _dominant_frequency(samples: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sr)[np.argmax(spectrum)])


@pytest.mark.parametrize("orig_sr,target_sr", [(44100, 16000), (8000, 44100), (24000, 22050), (48000, 44100)])
def test_resampling_keeps_a_1khz_sine_at_1khz(orig_sr: int, target_sr: int) -> None:
    out = resample(_sine(1000.0, orig_sr, 1.0), orig_sr, target_sr)
    assert abs(len(out) - target_sr) <= 1
    assert abs(_dominant_frequency(out, target_sr) - 1000.0) < 2.0
    assert np.max(np.abs(out)) == pytest.approx(0.5, abs=0.02)  # no gain change


@pytest.mark.parametrize(
    "fmt,subtype,suffix",
    [
        ("WAV", "PCM_16", ".wav"),
        ("FLAC", "PCM_16", ".flac"),
        ("OGG", "VORBIS", ".ogg"),
        ("OGG", "OPUS", ".opus"),
        ("MP3", "MPEG_LAYER_III", ".mp3"),
    ],
)
def test_every_libsndfile_format_decodes_to_the_same_tone(tmp_path: Path, fmt: str, subtype: str, suffix: str) -> None:
    sr = 48000
    path = tmp_path / f"tone{suffix}"
    sf.write(path, _sine(440.0, sr, 1.0), sr, format=fmt, subtype=subtype)
    audio = load_audio(path, target_sr=16000)
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(_dominant_frequency(audio.samples, 16000) - 440.0) < 3.0


def test_stereo_file_is_the_mean_of_its_channels(tmp_path: Path) -> None:
    sr = 16000
    left, right = _sine(300.0, sr, 0.5), _sine(700.0, sr, 0.5) * 0.3
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio.samples, (left + right) / 2, atol=1e-6)


def test_arrays_are_channels_first_and_integers_are_scaled() -> None:
    stereo = np.stack([np.ones(100, np.float32), -np.ones(100, np.float32) * 0.5])
    assert np.allclose(audio_from_array(stereo, 8000).samples, 0.25)
    pcm = np.full(50, 16384, dtype=np.int16)
    assert np.allclose(audio_from_array(pcm, 8000).samples, 0.5)
    with pytest.raises(BadInputError, match="channels, samples"):
        audio_from_array(np.zeros((1000, 2), np.float32), 8000)


def test_same_file_twice_gives_identical_samples(tmp_path: Path) -> None:
    path = tmp_path / "a.flac"
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, 22050).astype(np.float32), 22050)
    a, b = load_audio(path, target_sr=44100), load_audio(path, target_sr=44100)
    assert np.array_equal(a.samples, b.samples)


def test_windows_pad_short_audio_and_cover_long_audio() -> None:
    short = fixed_windows(np.ones(80, np.float32), window=1000)  # a 10 ms clip at 8 kHz
    assert short.shape == (1, 1000) and short[0, :80].sum() == 80 and short[0, 80:].sum() == 0
    long = fixed_windows(np.arange(10_500, dtype=np.float32), window=1000)
    assert long.shape == (11, 1000)  # last window is half full: kept
    assert np.array_equal(long[3], np.arange(3000, 4000, dtype=np.float32))
    mostly_padding = fixed_windows(np.ones(10_200, np.float32), window=1000)
    assert mostly_padding.shape == (10, 1000)  # a 20%-full tail would dilute the pooled vector
    hopped = fixed_windows(np.ones(3000, np.float32), window=1000, hop=500)
    assert hopped.shape == (5, 1000)


def test_listed_wav_resolves_to_the_stored_flac(tmp_path: Path) -> None:
    sf.write(tmp_path / "clip.flac", np.zeros(100, np.float32), 8000)
    assert resolve_audio_path(tmp_path / "clip.wav") == tmp_path / "clip.flac"
    with pytest.raises(BadInputError, match="missing.wav"):
        resolve_audio_path(tmp_path / "missing.wav")


def test_bad_audio_inputs_name_the_file_and_the_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.flac"
    garbage.write_bytes(b"this is not audio at all" * 20)
    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros(0, np.float32), 8000)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.1, np.nan, 0.2], np.float32), 8000, subtype="FLOAT")
    cases = {
        tmp_path / "missing.wav": "not found",
        empty: "empty file",
        garbage: "cannot decode",
        zero: "zero length",
        nan: "NaN or infinite",
    }
    for path, problem in cases.items():
        with pytest.raises(BadInputError) as caught:
            load_audio(path)
        assert str(path) in str(caught.value) and problem in str(caught.value)
    with pytest.raises(BadInputError, match="sample rate"):
        load_audio(np.zeros(10, np.float32))
