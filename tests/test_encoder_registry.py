"""Encoder registration carries modality and width: a new encoder is one class plus one `register` call.

A made-up 8-d audio encoder is registered at run time, its width is known before it is built,
a joint-model config (and a recipe) naming it builds a model, and `bgtai.embed` and
`JointModel.encode` run through it. Every built-in's registered width matches its encoder.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import bgtai
from bgtai.encoders import registry
from bgtai.encoders.base import MODALITIES, Encoder
from bgtai.encoders.builtin import _BUILTINS
from bgtai.io.audio import fixed_windows, load_audio
from bgtai.model.config import JointConfig
from bgtai.model.joint import JointModel, load_model

NAME = "test-bands-8"


class BandsEncoder(Encoder):
    """Eight log band energies per 0.05 s frame at 8 kHz: deterministic numpy, no weights."""

    name = NAME
    modality = "audio"
    description = "test encoder: 8 log band energies per 0.05 s frame at 8 kHz"
    sample_rate = 8000
    _FRAME = 400

    def __init__(self) -> None:
        self.dim = 8

    def weights_present(self) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, "version": 1, "frame": self._FRAME, "sample_rate": self.sample_rate}

    def prepare(self, item: Any) -> np.ndarray:
        return fixed_windows(load_audio(item, target_sr=self.sample_rate).samples, self._FRAME)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        out = []
        for frames in batch:
            power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
            bands = np.stack([b.mean(axis=1) for b in np.array_split(power, self.dim, axis=1)], axis=1)
            out.append(np.log1p(bands).astype(np.float32))
        return out


@pytest.fixture
def bands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The made-up encoder, registered for one test (and a private feature cache)."""
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "cache"))
    built: list[BandsEncoder] = []

    def factory() -> BandsEncoder:
        built.append(BandsEncoder())
        return built[-1]

    registry.register(NAME, "audio", factory, dim=8)
    try:
        yield NAME
    finally:
        registry.unregister(NAME)
    assert NAME not in registry.names()


def _clips(count: int = 3) -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(8000 + 2000 * i).astype(np.float32), 8000) for i in range(count)]


def test_the_width_is_known_without_building_the_encoder() -> None:
    made: list[int] = []
    registry.register("test-never-built", "image", lambda: made.append(1), dim=5)  # type: ignore[arg-type,return-value]
    try:
        assert registry.dim_of("test-never-built") == 5 and registry.modality_of("test-never-built") == "image"
        assert registry.WIDTHS["test-never-built"] == 5 and "test-never-built" in registry.names("image")
        assert made == []  # registering and asking its width built nothing
    finally:
        registry.unregister("test-never-built")


def test_a_config_naming_the_new_encoder_builds_and_embeds(bands: str) -> None:
    config = JointConfig.tiny(front_ends={"text": "tiny-text", "audio": bands})
    assert config.front_end_dims[bands] == 8  # from the registration, not written in the config
    torch.manual_seed(0)
    model = JointModel(config)
    vectors = model.encode("audio", _clips(), cache=False)
    assert vectors.shape == (3, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])  # the model sees the clips' content


def test_a_recipe_names_the_new_encoder_as_a_front_end(bands: str, tmp_path: Path) -> None:
    from bgtai.train.recipes import load_recipe

    recipe = json.loads((Path(__file__).parents[1] / "configs/recipes/unibrivl-moco.json").read_text())
    recipe["model"] = {"front_ends": {"text": "tiny-text", "audio": bands, "image": "tiny-image"}}
    path = tmp_path / "bands.json"
    path.write_text(json.dumps(recipe))
    config = load_recipe(path).joint_config()
    assert config.front_ends["audio"] == bands and config.dim_of("audio") == 8
    model = JointModel(config)
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")  # a saved model names its front end; loading needs it registered
    assert np.array_equal(loaded.encode("audio", _clips(2)), model.encode("audio", _clips(2)))


def test_the_embedding_api_runs_the_new_encoder(bands: str) -> None:
    clips = _clips()
    sequences = bgtai.encode_sequence("audio", clips, encoder=bands)
    assert [f.shape[1] for f in sequences.features] == [8, 8, 8]
    assert list(sequences.lengths) == [20, 25, 30]  # 0.05 s frames of 1, 1.25 and 1.5 s
    vectors = bgtai.encode("audio", clips, encoder=bands)
    assert vectors.shape == (3, 8)
    again = bgtai.encode("audio", clips, encoder=bands)  # from the cache this time
    assert np.array_equal(vectors, again)
    with pytest.raises(ValueError, match=f"encoder '{bands}' embeds audio, not text"):
        bgtai.encode("text", ["a dog"], encoder=bands)


def test_duplicate_and_bad_registrations_are_refused(bands: str) -> None:
    with pytest.raises(ValueError, match=f"encoder '{bands}' is already registered \\(audio, 8-d\\)"):
        registry.register(bands, "audio", BandsEncoder, dim=8)
    with pytest.raises(ValueError, match="'tiny-text' is already registered"):
        registry.register("tiny-text", "text", BandsEncoder, dim=8)
    with pytest.raises(ValueError, match="unknown modality 'video'"):
        registry.register("test-video", "video", BandsEncoder, dim=8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dim must be a positive int"):
        registry.register("test-no-width", "audio", BandsEncoder, dim=0)
    with pytest.raises(ValueError, match="reserved"):
        registry.register("hf:some/model", "text", BandsEncoder, dim=8)
    assert "test-video" not in registry.names() and "test-no-width" not in registry.names()


def test_replacing_a_registration_checks_the_built_width(bands: str) -> None:
    registry.register(bands, "audio", BandsEncoder, dim=9, replace=True)  # a wrong width
    with pytest.raises(ValueError, match="registered as audio, 9-d, but its factory built audio, 8-d"):
        registry.get_encoder(bands)


def test_unknown_names_list_the_known_ones(bands: str) -> None:
    with pytest.raises(KeyError, match=f"unknown encoder 'no-such-encoder'; known: .*{bands}.*tiny-audio"):
        registry.dim_of("no-such-encoder")
    with pytest.raises(ValueError, match="not a registered encoder; known: .*tiny-audio"):
        JointConfig.tiny(front_ends={"text": "tiny-text", "audio": "no-such-encoder"})
    with pytest.raises(KeyError, match="unknown encoder"):
        registry.unregister("no-such-encoder")
    # a front end the registry does not know still builds when the config gives its width
    config = JointConfig.tiny(front_ends={"audio": "no-such-encoder"}, front_end_dims={"no-such-encoder": 4})
    assert JointModel(config).dim == 8


def test_one_list_of_modalities() -> None:
    from bgtai import embed
    from bgtai.model import config

    assert MODALITIES == ("text", "audio", "image")
    assert embed.MODALITIES is MODALITIES and config.MODALITIES is MODALITIES
    assert set(registry.DEFAULT_ENCODER) == set(MODALITIES)


@pytest.mark.parametrize("name", [entry[0] for entry in _BUILTINS])
def test_every_builtin_width_matches_its_encoder_class(name: str) -> None:
    """Constructing an encoder loads no weights (they load on first use), so every one is checked here."""
    entry = next(e for e in _BUILTINS if e[0] == name)
    try:
        encoder_class = getattr(importlib.import_module(entry[3]), entry[4])
    except ImportError as error:
        pytest.skip(f"{name}: its package is not installed ({error})")
    encoder = encoder_class()
    assert encoder.name == name
    assert (encoder.modality, encoder.dim) == (registry.modality_of(name), registry.dim_of(name))


_SAMPLE_INPUT = {
    "text": "a dog barks twice",
    "audio": (np.sin(np.linspace(0, 2000, 48000)).astype(np.float32) * 0.3, 16000),
    "image": np.full((64, 64, 3), 128, dtype=np.uint8),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", [e[0] for e in _BUILTINS if not e[0].startswith("tiny-")])
def test_real_encoder_outputs_have_the_registered_width(name: str) -> None:
    """The real models run on one input (no cache): their sequences are (T, registered width)."""
    try:
        encoder = registry.get_encoder(name)
    except ImportError as error:
        pytest.skip(f"{name}: its package is not installed ({error})")
    if not encoder.weights_present():
        pytest.skip(f"{name}: weights not installed")
    modality = registry.modality_of(name)
    sequences = bgtai.encode_sequence(modality, [_SAMPLE_INPUT[modality]], encoder=name, cache=False)
    assert sequences.features[0].shape[1] == registry.dim_of(name)


@pytest.mark.parametrize("name", ["tiny-text", "tiny-audio", "tiny-image"])
def test_tiny_encoder_outputs_have_the_registered_width(name: str) -> None:
    modality = registry.modality_of(name)
    sequences = bgtai.encode_sequence(modality, [_SAMPLE_INPUT[modality]], encoder=name, cache=False)
    assert sequences.features[0].shape[1] == registry.dim_of(name) == 16
