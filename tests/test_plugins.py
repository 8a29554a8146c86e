"""Plugins: a module named in BGTAI_PLUGINS registers an encoder that every `bgtai` command then knows."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.cli.main import main
from bgtai.encoders.registry import names, unregister

PLUGIN = """
import numpy as np
from bgtai.encoders.base import Encoder
from bgtai.encoders.registry import register
from bgtai.io.audio import load_audio


class Loudness(Encoder):
    name = "plugin-loudness"
    modality = "audio"
    description = "plugin test encoder: RMS of four quarters of the clip"

    def __init__(self):
        self.dim = 4

    def weights_present(self):
        return True

    def settings(self):
        return {"model": self.name, "version": 1}

    def prepare(self, item):
        return load_audio(item, target_sr=8000).samples

    def encode_prepared(self, batch):
        return [np.sqrt([np.mean(q**2) for q in np.array_split(s, 4)]).astype(np.float32)[None] for s in batch]


register("plugin-loudness", "audio", Loudness, dim=4)
"""


@pytest.fixture
def plugin_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "loudness_plugin.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "cache"))
    yield tmp_path
    if "plugin-loudness" in names():
        unregister("plugin-loudness")
    sys.modules.pop("loudness_plugin", None)
    from bgtai import plugins

    plugins._loaded.clear()


def test_a_plugin_encoder_is_listed_and_embeds_from_the_command_line(plugin_folder, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BGTAI_PLUGINS", "loudness_plugin")
    clip = plugin_folder / "clip.wav"
    sf.write(clip, np.concatenate([np.zeros(2000), 0.5 * np.ones(2000)]), 8000)
    assert main(["encoders", "--modality", "audio"]) == 0
    assert "plugin-loudness" in capsys.readouterr().out
    out = plugin_folder / "vectors.npy"
    assert main(["embed", "audio", str(clip), "--encoder", "plugin-loudness", "--no-normalize", "--out", str(out)]) == 0
    vector = np.load(out)[0]
    np.testing.assert_allclose(vector, [0.0, 0.0, 0.5, 0.5], atol=1e-3)  # quiet half, then loud half


def test_a_plugin_that_fails_to_import_is_named(plugin_folder, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BGTAI_PLUGINS", "no_such_plugin_module")
    assert main(["encoders"]) == 2
    error = capsys.readouterr().err
    assert "BGTAI_PLUGINS=no_such_plugin_module" in error and "plugin no_such_plugin_module failed to import" in error
