"""The tiny test encoders: deterministic, content-sensitive, same input rules as the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from bgtai.encoders.registry import get_encoder, names
from bgtai.encoders.tiny import TinyAudioEncoder, TinyImageEncoder, TinyTextEncoder
from bgtai.errors import BadInputError


def _embed(encoder: object, item: object) -> np.ndarray:
    return encoder.encode_prepared([encoder.prepare(item)])[0]  # type: ignore[attr-defined]


def test_registered_without_loading() -> None:
    assert {"tiny-text", "tiny-audio", "tiny-image"} <= set(names())
    assert get_encoder("tiny-audio").modality == "audio"


def test_text_one_vector_per_token_and_stable() -> None:
    encoder = TinyTextEncoder()
    seq = _embed(encoder, "A dog  barks")
    assert seq.shape == (3, 16) and seq.dtype == np.float32
    np.testing.assert_array_equal(seq, _embed(TinyTextEncoder(), "a dog barks"))  # case and spacing ignored
    dog, pup, market = (encoder.pool(_embed(encoder, t)) for t in ("dog barking", "dogs barking", "stock markets"))

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cos(dog, pup) > cos(dog, market)


@pytest.mark.parametrize("bad", ["", "   \n", None, 3])
def test_text_rejects_blank_and_non_strings(bad: object) -> None:
    with pytest.raises(BadInputError):
        TinyTextEncoder().prepare(bad)


def test_audio_frames_of_a_tenth_of_a_second(tmp_path: Path) -> None:
    encoder = TinyAudioEncoder()
    rate = 22050
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    seq = _embed(encoder, (tone, rate))
    assert seq.shape == (10, 16)
    path = tmp_path / "tone.flac"
    sf.write(path, np.stack([tone, tone], axis=1), rate)
    np.testing.assert_allclose(_embed(encoder, str(path)), seq, atol=1e-3)  # stereo file = its mono mix
    low = _embed(encoder, (np.sin(2 * np.pi * 100 * np.arange(rate) / rate).astype(np.float32), rate))
    assert not np.allclose(low, seq, atol=1e-2)
    assert _embed(encoder, (tone[:220], rate)).shape == (1, 16)  # 10 ms: one padded frame


def test_audio_bad_input_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="missing.wav"):
        TinyAudioEncoder().prepare(str(tmp_path / "missing.wav"))


def test_image_patches_row_major() -> None:
    encoder = TinyImageEncoder()
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)  # already 32 px: the resize leaves it as is
    pixels[4:8, :4] = 255  # second patch row, first column: position 8 in row-major order
    seq = _embed(encoder, pixels)
    assert seq.shape == (64, 16)
    base = _embed(encoder, np.zeros((32, 32, 3), dtype=np.uint8))
    changed = np.flatnonzero(np.abs(seq - base).max(axis=1) > 1e-6)
    assert changed.tolist() == [8]
    np.testing.assert_array_equal(_embed(encoder, Image.fromarray(pixels)), seq)


def test_settings_differ_between_encoders() -> None:
    settings = [e.settings() for e in (TinyTextEncoder(), TinyAudioEncoder(), TinyImageEncoder())]
    assert len({repr(s) for s in settings}) == 3
    assert TinyAudioEncoder().settings()["sample_rate"] == 16000
