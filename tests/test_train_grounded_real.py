"""The grounded recipe end to end on real Tux Paint pairs: `bgtai train`, `load_model`, `embed --model`."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bgtai
from bgtai.cli.main import main
from bgtai.config import data_root
from bgtai.encoders.registry import get_encoder

pytestmark = [pytest.mark.integration, pytest.mark.needs_data]


def test_default_recipe_trains_loads_and_embeds_into_its_space(tmp_path, capsys):
    for name in ("yamnet", "efficientnet-lite0", "minilm"):
        if not get_encoder(name).weights_present():
            pytest.skip(f"{name}: weights not installed")
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--recipe",
            "default",
            "--out",
            str(out),
            "--set",
            'data.sources=["tuxpaint"]',
            "--set",
            "epochs=3",
            "--set",
            "model.bridges.speech=false",
        ]
    )
    assert code == 0
    record = json.loads((out / "best" / "training.json").read_text())
    assert record["recipe"]["name"] == "default" and record["examples"]["audio-image"]["train"] > 0
    model = bgtai.load_model(out / "best")
    stamps = sorted((data_root() / "tuxpaint" / "stamps" / "animals").rglob("*.ogg"))[:2]
    sounds = model.encode("audio", stamps)
    assert sounds.shape == (2, 384) and sounds.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(sounds, axis=1), 1.0, atol=1e-5)
    capsys.readouterr()
    assert main(["embed", "text", "a dog barking", "--model", str(out / "best"), "--out", str(tmp_path / "t.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "t.npy"), model.encode("text", ["a dog barking"]), atol=1e-6)
