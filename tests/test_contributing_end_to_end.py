"""docs/CONTRIBUTING.md, proved: a made-up dataset and a made-up encoder, each registered here and nowhere
else, train a joint model through a recipe file and are scored by the registered zero-shot task.

The dataset is "tones" of tests/test_dataset_registry.py (sine tones of three pitches with captions,
labels, folds and a hashed test split). The encoder ("pitch-bands", audio, 8-d) gives each 0.1 s frame
its log energy in 8 bands: nothing about pitches is learnt in advance. The recipe names both, trains on
the shared loop on fold 1 (with a kill and a resume on the way), and the trained model must find the pitch
of fold 2's tones from the class names alone, well above chance and above the untrained model.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from test_dataset_registry import PITCHES, TONES

from bgtai.data.pair_tools import class_caption_pairs
from bgtai.data.registry import dataset_names, register_dataset, unregister_dataset
from bgtai.encoders.base import Encoder
from bgtai.encoders.registry import names, register, unregister
from bgtai.eval.tasks import eval_task
from bgtai.io.audio import fixed_windows, load_audio
from bgtai.model.joint import JointModel, load_model
from bgtai.train.joint import train
from bgtai.train.recipes import load_recipe


class PitchBandsEncoder(Encoder):
    """Log energy in 8 log-spaced bands (150-1500 Hz) of every 0.1 s frame at 8 kHz, less the frame's mean."""

    name = "pitch-bands"
    modality = "audio"
    description = "made-up test encoder: 8 log band energies per 0.1 s frame"
    sample_rate = 8000
    _FRAME = 800

    def __init__(self) -> None:
        self.dim = 8
        frequencies = np.fft.rfftfreq(self._FRAME, 1 / self.sample_rate)
        edges = np.geomspace(150, 1500, self.dim + 1)
        self._bands = [(frequencies >= lo) & (frequencies < hi) for lo, hi in zip(edges[:-1], edges[1:])]

    def weights_present(self) -> bool:
        return True

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, "version": 1, "bands": self.dim, "frame": self._FRAME}

    def prepare(self, item: Any) -> np.ndarray:
        return fixed_windows(load_audio(item, target_sr=self.sample_rate).samples, self._FRAME)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        out = []
        for frames in batch:
            power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
            energies = np.stack([power[:, band].sum(axis=1) for band in self._bands], axis=1)
            log_energies = np.log(energies + 1e-6)
            # relative to the frame's mean: the spectrum's shape, whatever the loudness
            out.append((log_energies - log_energies.mean(axis=1, keepdims=True)).astype(np.float32))
        return out


RECIPE = {
    "name": "tones-pitch-bands",
    "model": {
        "front_ends": {"text": "tiny-text", "audio": "pitch-bands"},
        "language": {"width": 16, "layers": 1, "heads": 2, "ffn": 32, "dropout": 0.0},
        "heads": {"dim": 8, "hidden": 16},
    },
    "objective": {"kind": "slava", "temperature": 0.1},
    "stages": [{"variant": "av", "epochs": 120}],
    "optim": {"lr": 1e-2, "batch_size": 8, "val_fraction": 0.0, "warmup_fraction": 0.05},
    "data": {"sources": ["tones_fold1"], "hold_out": []},
    "seed": 0,
}


def write_tones(root: Path, takes: int = 16, rate: int = 8000) -> None:
    """`tones/tones.csv` as TONES reads it: `takes` tones a pitch (a little detuned, each its own loudness and
    length); the first three quarters of the takes are fold 1, the rest fold 2."""
    rng = np.random.default_rng(0)
    base = root / "tones"
    base.mkdir(parents=True)
    rows = ["file,caption,pitch,fold"]
    for pitch, hertz in PITCHES.items():
        for take in range(takes):
            time = np.arange(int(rate * rng.uniform(0.4, 0.8))) / rate
            tone = rng.uniform(0.05, 0.5) * np.sin(2 * np.pi * hertz * rng.uniform(0.97, 1.03) * time)
            sf.write(base / f"{pitch}-{take}.wav", tone, rate, subtype="PCM_16")
            rows.append(f"{pitch}-{take}.wav,a {pitch} beep,{pitch},{1 if take < takes * 3 // 4 else 2}")
    (base / "tones.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def register_made_up_parts() -> None:
    """The dataset and the encoder: what a plugin module of a user's would do when imported."""
    # training pairs from fold 1 only (class-name captions); zero-shot scores fold 2, which training never saw
    fold_one = class_caption_pairs("tones", keep=lambda options, item: item.fold == 1)
    register_dataset(dataclasses.replace(TONES, pairs={"tones_fold1": fold_one}))
    register("pitch-bands", "audio", PitchBandsEncoder, dim=8)


@pytest.fixture
def made_up_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    write_tones(tmp_path / "data")
    monkeypatch.setenv("BGTAI_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "cache"))
    try:
        yield tmp_path
    finally:
        if "pitch-bands" in names():
            unregister("pitch-bands")
        if "tones" in dataset_names():
            unregister_dataset("tones")


@pytest.fixture
def made_up(made_up_data: Path) -> Path:
    register_made_up_parts()
    return made_up_data


def test_a_registered_dataset_and_encoder_train_and_evaluate_end_to_end(made_up: Path) -> None:
    recipe_file = made_up / "tones-pitch-bands.json"
    recipe_file.write_text(json.dumps(RECIPE), encoding="utf-8")
    recipe = load_recipe(recipe_file, [])
    torch.manual_seed(recipe.seed)
    untrained = JointModel(recipe.joint_config())  # the weights training starts from
    before = eval_task("zeroshot").run(untrained, "tones")[0].metrics["top1"]  # type: ignore[misc]

    def kill(step: int) -> None:
        if step == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(recipe, made_up / "run", progress=False, on_step=kill)
    summary = train(recipe, made_up / "run", progress=False, resume=True)
    assert summary.steps > 20 and (made_up / "run" / "log.csv").is_file()

    model = load_model(summary.best)
    assert model.config.front_ends == {"text": "tiny-text", "audio": "pitch-bands"}
    result, data = eval_task("zeroshot").run(model, "tones")  # type: ignore[misc]
    chance = 1 / len(PITCHES)
    assert set(data.folds.tolist()) == {2} and result.classes == sorted(PITCHES)
    assert result.metrics["top1"] >= chance + 0.4, (result.metrics, before)
    print(f"zero-shot top-1 on fold 2: untrained {before:.3f}, trained {result.metrics['top1']:.3f}")
    assert result.metrics["top1"] > before, (result.metrics, before)


def test_the_same_parts_as_a_plugin_through_the_commands(made_up_data: Path, monkeypatch, capsys) -> None:
    """`bgtai train` and `bgtai eval zeroshot` with the parts in a plugin module named by BGTAI_PLUGINS."""
    from bgtai import plugins
    from bgtai.cli.main import main

    plugin = made_up_data / "tones_plugin.py"
    plugin.write_text("from test_contributing_end_to_end import register_made_up_parts\nregister_made_up_parts()\n")
    monkeypatch.syspath_prepend(str(made_up_data))
    monkeypatch.setenv("BGTAI_PLUGINS", "tones_plugin")
    monkeypatch.setattr(plugins, "_loaded", [])
    recipe_file = made_up_data / "tones-pitch-bands.json"
    recipe_file.write_text(json.dumps(RECIPE), encoding="utf-8")
    run = made_up_data / "run"
    try:
        assert main(["train", "--recipe", str(recipe_file), "--out", str(run), "--no-progress"]) == 0
        result = made_up_data / "zeroshot.json"
        assert (
            main(["eval", "zeroshot", "--dataset", "tones", "--model", str(run / "best"), "--json", str(result)]) == 0
        )
    finally:
        sys.modules.pop("tones_plugin", None)
    record = json.loads(result.read_text())
    assert record["dataset"] == "tones-fold2" and record["metrics"]["top1"] >= 1 / len(PITCHES) + 0.4
