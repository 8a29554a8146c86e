"""The built-in encoders on their real weights and real files from the data root."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.config import data_root
from bgtai.encoders.base import Encoder
from bgtai.errors import BadInputError
from bgtai.io.audio import load_audio, resolve_audio_path

pytestmark = [pytest.mark.integration, pytest.mark.needs_data]


def _root() -> Path:
    root = data_root()
    assert root is not None
    return root


def _ready(encoder: Encoder) -> Encoder:
    if not encoder.weights_present():
        pytest.skip(f"{encoder.name}: weights not installed")
    return encoder


def _embed(encoder: Encoder, item: object) -> np.ndarray:
    return encoder.encode_prepared([encoder.prepare(item)])[0]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _esc50_fold4(count: int) -> list[Path]:
    root = _root() / "esc50"
    with open(root / "meta" / "esc50.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["fold"] == "4"]
    # spread over classes: every 8th row is a new class in the sorted metadata
    rows.sort(key=lambda r: (int(r["target"]), r["filename"]))
    return [resolve_audio_path(root / "audio" / r["filename"]) for r in rows[::8][:count]]


def _stereo_file(tmp_path: Path, left: np.ndarray, right: np.ndarray, rate: int) -> Path:
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), rate, subtype="FLOAT")  # float: no re-quantisation
    return path


# --- text: all-MiniLM-L6-v2 ---------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    from bgtai.encoders.minilm import MiniLMEncoder

    return _ready(MiniLMEncoder(device="cpu"))


def test_minilm_pool_is_the_sentence_transformers_embedding(minilm: Encoder) -> None:
    from sentence_transformers import SentenceTransformer

    from bgtai.encoders.minilm import model_dir

    texts = ["a dog barks", "Stock markets fell sharply in early trading.", "word " * 400]
    seqs = minilm.encode_prepared([minilm.prepare(t) for t in texts])
    full = SentenceTransformer(str(model_dir()), device="cpu")
    unnormalised = SentenceTransformer(modules=[full[0], full[1]], device="cpu")  # transformer + mean pooling
    expected = unnormalised.encode(texts, convert_to_numpy=True)
    for seq, want in zip(seqs, expected):
        assert seq.shape[1] == 384
        np.testing.assert_allclose(minilm.pool(seq), want, atol=1e-5)
    tokens = full.tokenizer(texts[0])["input_ids"]
    assert seqs[0].shape[0] == len(tokens) and tokens[0] == full.tokenizer.cls_token_id  # [CLS] ... [SEP] kept
    assert seqs[2].shape[0] == 256  # truncated at the model's max_seq_length


def test_minilm_semantics_and_determinism(minilm: Encoder) -> None:
    dog, puppy, market = (
        minilm.pool(_embed(minilm, t)) for t in ("a dog barks", "a puppy barking", "stock markets fell")
    )
    assert _cos(dog, puppy) > _cos(dog, market) + 0.3
    np.testing.assert_array_equal(_embed(minilm, "a dog barks"), _embed(minilm, "a dog barks"))
    with pytest.raises(BadInputError):
        minilm.prepare(" \t")


def test_minilm_layers_end_with_the_sequence(minilm: Encoder) -> None:
    layers = minilm.encode_layers(["a dog barks"])[0]  # type: ignore[attr-defined]
    sequence = _embed(minilm, "a dog barks")
    assert layers.shape == (7,) + sequence.shape  # embeddings + 6 transformer layers
    np.testing.assert_allclose(layers[-1], sequence, atol=1e-5)
    assert not np.allclose(layers[0], sequence, atol=1e-2)


# --- sound: aiSFX -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aisfx() -> Encoder:
    from bgtai.encoders.aisfx import AisfxEncoder

    return _ready(AisfxEncoder(device="cpu"))


def test_aisfx_agrees_with_its_reference_path(aisfx: Encoder) -> None:
    from bgtai.encoders.aisfx import reference_embed

    files = _esc50_fold4(6)
    seqs = aisfx.encode_prepared([aisfx.prepare(f) for f in files])
    again = aisfx.encode_prepared([aisfx.prepare(f) for f in files])
    for path, seq, repeat in zip(files, seqs, again):
        assert seq.shape == (3, 512)  # 5 s: blocks at 0, 1.16, 2.32 s
        assert _cos(aisfx.pool(seq), reference_embed(path)) >= 0.999
        np.testing.assert_array_equal(seq, repeat)  # deterministic
    assert _cos(aisfx.pool(seqs[0]), aisfx.pool(seqs[1])) < 0.999  # different sounds differ


def test_aisfx_backends_and_cache_key(aisfx: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bgtai.encoders.aisfx import (
        AisfxEncoder,
        checkpoint_hash,
        onnx_path,
        onnxruntime_available,
    )

    settings = aisfx.settings()
    assert settings["share_blocks"] is False and settings["trunk_backend"] in ("onnxruntime", "torch")
    files = _esc50_fold4(2)
    eager = AisfxEncoder(device="cpu", backend="torch")
    expected = eager.encode_prepared([eager.prepare(f) for f in files])
    if not onnxruntime_available():
        pytest.skip("onnxruntime not installed: torch fallback only")
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path))
    exported = onnx_path()  # exported once, atomically, keyed by the checkpoint's hash
    assert exported.is_file() and checkpoint_hash() in exported.name
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]  # no temp file left
    assert onnx_path() == exported and exported.stat().st_mtime == onnx_path().stat().st_mtime
    for threads in (1, 2):
        fast = AisfxEncoder(device="cpu", backend="onnxruntime", threads=threads)
        for got, want in zip(fast.encode_prepared([fast.prepare(f) for f in files]), expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    shared = AisfxEncoder(device="cpu", share_blocks=True)
    assert shared.settings() != settings  # opt-in approximation: never reuses exact-path features
    for got, want in zip(shared.encode_prepared([shared.prepare(f) for f in files]), expected):
        assert got.shape == want.shape and _cos(shared.pool(got), eager.pool(want)) > 0.95


def test_aisfx_block_rule_is_aisfx_blocking() -> None:
    from aisfx.preprocessing import blocking

    from bgtai.encoders.aisfx import block_starts

    for frames in (1, 99, 100, 101, 150, 151, 216, 4092):
        assert len(block_starts(frames)) == blocking(np.zeros((frames, 96)), 100, 50, True).shape[0]


def test_aisfx_inputs_stereo_short_long_deterministic(aisfx: Encoder, tmp_path: Path) -> None:
    first, second = _esc50_fold4(2)
    a, b = load_audio(first).samples, load_audio(second).samples
    stereo = _embed(aisfx, _stereo_file(tmp_path, a, b, 44100))
    np.testing.assert_allclose(stereo, _embed(aisfx, ((a + b) / 2, 44100)), atol=1e-5)
    np.testing.assert_array_equal(_embed(aisfx, first), _embed(aisfx, str(first)))
    assert _embed(aisfx, (a[:441], 44100)).shape == (1, 512)  # 10 ms
    long = np.tile(a, 19)  # 95 s
    assert _embed(aisfx, (long, 44100)).shape == (80, 512)  # 4092 frames -> 80 full blocks
    assert _embed(aisfx, (a[::2], 22050)).shape == (3, 512)  # resampled to 44.1 kHz


# --- speech: Whisper ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper_tiny() -> Encoder:
    from bgtai.encoders.whisper import WhisperTinyEnEncoder

    return _ready(WhisperTinyEnEncoder())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_whisper_tiny_transcribes_digits_and_prompts(whisper_tiny: Encoder) -> None:
    root = _root()
    for digit in (3, 7):
        text = whisper_tiny.transcribe(root / "fsdd" / "recordings" / f"{digit}_george_0.flac")  # type: ignore[attr-defined]
        assert str(digit) in _words(text) or DIGITS[digit] in _words(text), text
    text = whisper_tiny.transcribe(root / "asterisk_prompts" / "audio" / "goodbye.flac")  # type: ignore[attr-defined]
    assert "goodbye" in "".join(_words(text)), text


def test_whisper_tiny_frames_per_second(whisper_tiny: Encoder, tmp_path: Path) -> None:
    path = _root() / "fsdd" / "recordings" / "7_george_0.flac"
    samples = load_audio(path, target_sr=16000).samples
    seq = _embed(whisper_tiny, path)
    assert seq.shape == (int(np.ceil(len(samples) / 320)), 384)
    np.testing.assert_array_equal(seq, _embed(whisper_tiny, path))
    other = load_audio(_root() / "fsdd" / "recordings" / "3_george_0.flac", target_sr=16000).samples
    n = min(len(samples), len(other))
    stereo = _embed(whisper_tiny, _stereo_file(tmp_path, samples[:n], other[:n], 16000))
    np.testing.assert_allclose(stereo, _embed(whisper_tiny, ((samples[:n] + other[:n]) / 2, 16000)), atol=1e-4)
    assert _embed(whisper_tiny, (samples[:160], 16000)).shape == (1, 384)  # 10 ms
    long = np.resize(samples, 95 * 16000)  # 95 s: windows of 30 + 30 + 30 + 5 s
    assert _embed(whisper_tiny, (long, 16000)).shape == (3 * 1500 + 250, 384)


def test_whisper_base_joins_its_parts_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bgtai.encoders.whisper import WhisperBaseEncoder

    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path))
    encoder = _ready(WhisperBaseEncoder())
    folder = encoder.model_folder()  # type: ignore[attr-defined]
    assert folder.is_relative_to(tmp_path) and (folder / "model.bin").is_file()
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert encoder.model_folder() == folder and (folder / "model.bin").stat().st_mtime_ns == stamp  # type: ignore[attr-defined]
    seq = _embed(encoder, _root() / "fsdd" / "recordings" / "7_george_0.flac")
    assert seq.shape[1] == 512 and 25 <= seq.shape[0] <= 60


def test_whisper_base_told_german_transcribes_a_german_weather_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PHOENIX speech cascade's route: espeak-ng speaks German, Whisper base (told "de") writes it down."""
    from bgtai.encoders.whisper import WhisperBaseEncoder
    from bgtai.gloss.translator import transcribe
    from bgtai.io.tts import TTSUnavailableError, speak

    _ready(WhisperBaseEncoder())
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "cache"))
    try:
        wav = speak("morgen regnet es im norden und im westen .", tmp_path / "de.wav", voice="de")
    except TTSUnavailableError:
        pytest.skip("espeak-ng not installed")
    text = transcribe([wav], "whisper-base", "de")[0]
    assert {"norden", "und"} <= set(text.split()), text  # German words: told "de", Whisper does not translate
    assert list((tmp_path / "cache" / "transcripts" / "whisper-base-de").glob("*.txt"))  # kept per file content


# --- image: EfficientNet-Lite0 --------------------------------------------------------------


@pytest.fixture(scope="module")
def effnet() -> Encoder:
    from bgtai.encoders.efficientnet import EfficientNetLite0Encoder

    return _ready(EfficientNetLite0Encoder(device="cpu"))


def test_efficientnet_pool_is_the_global_average_pool(effnet: Encoder) -> None:
    import torch

    images = sorted((_root() / "coco_mini" / "val2017").glob("*.jpg"))[:2]
    seqs = effnet.encode_prepared([effnet.prepare(p) for p in images])
    network = effnet.network()  # type: ignore[attr-defined]
    with torch.inference_mode():
        pixels = torch.from_numpy(np.stack([effnet.prepare(p) for p in images]))
        pooled = network._avg_pooling(network.extract_features(pixels)).flatten(1).numpy()
        logits = network(pixels).numpy()
    for seq, want in zip(seqs, pooled):
        assert seq.shape == (49, 1280)
        np.testing.assert_allclose(effnet.pool(seq), want, atol=1e-5)
    np.testing.assert_allclose(pooled @ network._fc.weight.numpy().T + network._fc.bias.numpy(), logits, atol=1e-3)
    np.testing.assert_array_equal(seqs[0], _embed(effnet, images[0]))


def test_efficientnet_reads_tuxpaint_pngs(effnet: Encoder) -> None:
    stamps = sorted((_root() / "tuxpaint" / "stamps").rglob("*.png"))[:3]
    vectors = [effnet.pool(_embed(effnet, p)) for p in stamps]
    assert all(v.shape == (1280,) and np.all(np.isfinite(v)) for v in vectors)
    assert _cos(vectors[0], vectors[2]) < 0.999
    with pytest.raises(BadInputError, match="missing.png"):
        effnet.prepare(str(_root() / "missing.png"))
