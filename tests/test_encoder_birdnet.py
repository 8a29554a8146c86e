"""BirdNET V2.4 encoder: windowing and padding (no weights), then the real TFLite model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.encoders.birdnet import (
    EMBEDDING_DIM,
    SAMPLE_RATE,
    WINDOW,
    BirdNetEncoder,
    window_count,
    windows_of,
)
from bgtai.encoders.registry import DEFAULT_ENCODER, modality_of, names
from bgtai.errors import BadInputError

SR = SAMPLE_RATE


def _tone(seconds: float, freq: float = 3000.0, rate: int = SR, seed: int = 0) -> np.ndarray:
    """A chirpy tone with a little noise: something a bird model responds to, reproducibly."""
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    wave = 0.3 * np.sin(2 * np.pi * (freq + 800 * np.sin(2 * np.pi * 4 * t)) * t) + 0.02 * rng.standard_normal(t.size)
    return wave.astype(np.float32)


# --- without weights -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "count"),
    [(0.01, 1), (2.0, 1), (3.0, 1), (3.5, 1), (4.0, 2), (5.0, 2), (6.0, 2), (6.5, 2), (7.0, 3), (9.0, 3)],
)
def test_window_count_keeps_a_tail_of_at_least_one_second(seconds: float, count: int) -> None:
    n = round(seconds * SR)
    assert window_count(n) == count
    assert windows_of(np.ones(n, dtype=np.float32)).shape == (count, WINDOW)


def test_windows_are_consecutive_and_zero_padded() -> None:
    samples = np.arange(7 * SR, dtype=np.float32)
    windows = windows_of(samples)
    assert windows.shape == (3, WINDOW) and windows.dtype == np.float32
    np.testing.assert_array_equal(windows[1], samples[WINDOW : 2 * WINDOW])  # no overlap
    np.testing.assert_array_equal(windows[2, :SR], samples[2 * WINDOW :])  # the 1 s tail
    assert not windows[2, SR:].any()  # then zeros


def test_prepare_resamples_pads_and_downmixes(tmp_path: Path) -> None:
    encoder = BirdNetEncoder()
    short = encoder.prepare((_tone(1.0, rate=16000), 16000))  # 1 s at 16 kHz -> 48 kHz, one padded window
    assert short.shape == (1, WINDOW)
    assert np.abs(short[0, : SR - 100]).max() > 0.1 and not short[0, SR + 100 :].any()
    left, right = _tone(4.0, seed=1), _tone(4.0, freq=5000.0, seed=2)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="FLOAT")
    np.testing.assert_allclose(encoder.prepare(path), windows_of((left + right) / 2), atol=1e-6)


def test_bad_files_raise_naming_the_file(tmp_path: Path) -> None:
    encoder = BirdNetEncoder()
    garbage = tmp_path / "not-audio.wav"
    garbage.write_bytes(b"this is not a wav file at all" * 10)
    with pytest.raises(BadInputError, match="not-audio.wav"):
        encoder.prepare(garbage)
    with pytest.raises(BadInputError, match="missing.flac"):
        encoder.prepare(tmp_path / "missing.flac")
    with pytest.raises(BadInputError, match="zero length"):
        encoder.prepare((np.zeros(0, dtype=np.float32), SR))


def test_registered_never_default_and_labelled_non_commercial() -> None:
    assert "birdnet" in names("audio") and modality_of("birdnet") == "audio"
    assert "birdnet" not in DEFAULT_ENCODER.values()
    encoder = BirdNetEncoder()
    assert encoder.dim == EMBEDDING_DIM == 1024 and encoder.sample_rate == 48000
    for text in (encoder.description, encoder.settings()["weights_licence"], BirdNetEncoder.__doc__ or ""):
        assert "CC BY-NC-SA 4.0" in text
    assert "non-commercial" in encoder.description


# --- the real model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def birdnet() -> BirdNetEncoder:
    encoder = BirdNetEncoder(threads=1)
    if not encoder.weights_present():
        pytest.skip("birdnet: weights not installed (pip install 'bgtai[birdnet]')")
    return encoder


def _embed(encoder: BirdNetEncoder, item: object) -> np.ndarray:
    return encoder.encode_prepared([encoder.prepare(item)])[0]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.integration
def test_shape_dtype_and_determinism(birdnet: BirdNetEncoder) -> None:
    wave = _tone(5.0)
    seq = _embed(birdnet, (wave, SR))
    assert seq.shape == (2, 1024) and seq.dtype == np.float32
    assert np.isfinite(seq).all() and (seq >= 0).all()  # a ReLU, then a global average pool
    assert (seq > 0).mean() > 0.3  # not a dead tensor
    np.testing.assert_array_equal(seq, _embed(birdnet, (wave, SR)))
    np.testing.assert_array_equal(seq, BirdNetEncoder(threads=1).encode_prepared([birdnet.prepare((wave, SR))])[0])
    # a clip's vectors do not depend on what else is in the batch
    other = _tone(9.0, freq=1500.0, seed=3)
    together = birdnet.encode_prepared([birdnet.prepare((other, SR)), birdnet.prepare((wave, SR))])
    np.testing.assert_array_equal(together[1], seq)
    assert together[0].shape == (3, 1024)
    assert _cos(birdnet.pool(seq), birdnet.pool(together[0])) < 0.99  # different sounds differ
    np.testing.assert_allclose(birdnet.pool(seq), seq.mean(axis=0), rtol=1e-6)


@pytest.mark.integration
def test_embedding_is_the_input_of_the_species_classifier(birdnet: BirdNetEncoder) -> None:
    interpreter = birdnet.interpreter()
    tensors = {d["name"]: d["index"] for d in interpreter.get_tensor_details()}
    weight = interpreter.get_tensor(tensors["model/CLASS_DENSE_LAYER/MatMul"])  # (6522, 1024)
    bias = interpreter.get_tensor(tensors["model/CLASS_DENSE_LAYER/BiasAdd/ReadVariableOp/resource"])
    wave = _tone(4.0, seed=7)
    seq, logits = _embed(birdnet, (wave, SR)), birdnet.class_logits((wave, SR))
    assert logits.shape == (2, 6522) and weight.shape == (6522, 1024)
    np.testing.assert_allclose(logits, seq @ weight.T + bias, atol=1e-3)
    labels = birdnet.labels()
    assert len(labels) == 6522 and all("_" in label for label in labels[:10])


@pytest.mark.integration
def test_short_audio_is_zero_padded_to_one_window(birdnet: BirdNetEncoder) -> None:
    wave = _tone(1.2)
    padded = np.zeros(WINDOW, dtype=np.float32)
    padded[: wave.size] = wave
    seq = _embed(birdnet, (wave, SR))
    assert seq.shape == (1, 1024)
    np.testing.assert_array_equal(seq, _embed(birdnet, (padded, SR)))
    assert _cos(seq[0], _embed(birdnet, (np.tile(wave, 3)[:WINDOW], SR))[0]) < 0.999  # padding is not repetition


@pytest.mark.integration
def test_seven_seconds_give_three_windows_each_its_own(birdnet: BirdNetEncoder) -> None:
    wave = np.concatenate([_tone(3.0, freq=2000.0, seed=4), _tone(3.0, freq=6000.0, seed=5), _tone(1.0, seed=6)])
    seq = _embed(birdnet, (wave, SR))
    assert seq.shape == (3, 1024)
    for row in range(3):
        np.testing.assert_array_equal(seq[row], _embed(birdnet, (wave[row * WINDOW : (row + 1) * WINDOW], SR))[0])
    assert _embed(birdnet, (wave[: int(6.5 * SR)], SR)).shape == (2, 1024)  # a 0.5 s tail is dropped


@pytest.mark.integration
def test_bad_file_in_the_pipeline_is_reported_not_embedded(birdnet: BirdNetEncoder, tmp_path: Path) -> None:
    from bgtai import embed
    from bgtai.cache import FeatureCache
    from bgtai.errors import BadItemsError

    good = tmp_path / "good.wav"
    sf.write(good, _tone(4.0), SR, subtype="FLOAT")
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"fLaC but not really")
    with pytest.raises(BadItemsError, match=r"\[1\] .*broken.flac"):
        embed.encode_sequence("audio", [good, bad], encoder="birdnet")
    result = embed.encode_sequence("audio", [bad, good], encoder="birdnet", skip_bad=True)
    assert result.ok.tolist() == [False, True] and result.features[0].shape == (0, 1024)
    np.testing.assert_array_equal(result.features[1], _embed(birdnet, good))
    described = list(FeatureCache().root.glob("birdnet/*/settings.json"))
    assert described and "CC BY-NC-SA 4.0" in json.loads(described[0].read_text())["settings"]["weights_licence"]


@pytest.mark.integration
@pytest.mark.needs_data
def test_esc50_clip_has_two_windows() -> None:
    from bgtai.config import data_root
    from bgtai.io.audio import resolve_audio_path

    root = data_root()
    assert root is not None
    encoder = BirdNetEncoder(threads=1)
    if not encoder.weights_present():
        pytest.skip("birdnet: weights not installed")
    clip = resolve_audio_path(root / "esc50" / "audio" / "4-159609-A-14.wav")  # chirping birds
    seq = _embed(encoder, clip)
    assert seq.shape == (2, 1024)  # 5 s: one full window and a 2 s tail
