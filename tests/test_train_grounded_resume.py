"""The grounded towers on the shared loop, on made-up features: best model, checkpoints, resume after a kill."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import bgtai
from bgtai.model.grounded import GroundedConfig, GroundedModel
from bgtai.train.checkpoint import CHECKPOINT
from bgtai.train.grounded import Examples, GroundedRecipe, GroundedTask
from bgtai.train.grounded_task import run_towers

FEATURES = 8


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _made_up(n: int = 90, seed: int = 0):
    """Sounds and pictures whose caption vectors are linear in their features; all three tasks have examples."""
    rng = np.random.default_rng(seed)
    embedded, truths = {}, []
    for modality in ("audio", "image"):
        x = rng.normal(size=(n, FEATURES)).astype(np.float32)
        truth = _unit(x @ rng.normal(size=(FEATURES, 384)))
        embedded[modality] = (x, _unit(truth + 1.5 * rng.normal(size=truth.shape) / np.sqrt(384)))
        truths.append(truth)
    text = np.concatenate(truths)  # audio captions are rows 0..n-1, picture captions n..2n-1
    rows = np.arange(n)
    validation = rows % 5 == 0
    examples = {
        "audio-text": Examples(rows, rows, [f"a{i}" for i in rows], validation),
        "image-text": Examples(rows, rows + n, [f"p{i}" for i in rows], validation),
        "audio-image": Examples(rows[:50], rows[:50], [str(i % 10) for i in rows[:50]], validation[:50]),
    }
    return embedded, text, examples


def _recipe(**changes) -> GroundedRecipe:
    settings = {"epochs": 4, "lr": 3e-3, "batch_size": 16, "temperature": 0.1, **changes}
    return GroundedRecipe("made-up", **settings)


def _task(recipe: GroundedRecipe) -> GroundedTask:
    """A fresh run's task; the model is drawn from the same seed each time, as `train_grounded` does."""
    embedded, text, examples = _made_up()
    torch.manual_seed(recipe.seed)
    config = GroundedConfig(
        design="residual",
        front_ends={"audio": ["tiny-audio"], "image": ["tiny-image"]},
        feature_dims={"audio": FEATURES, "image": FEATURES},
        hidden=32,
        dropout=0.3,  # dropout draws from torch's generator, which the checkpoint must restore too
    )
    model = GroundedModel(config)
    for modality, (features, _) in embedded.items():
        model.towers[modality].set_standardisation(features)
    return GroundedTask(model, embedded, text, examples, recipe)


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _log_without_times(out: Path) -> list[dict[str, str]]:
    with (out / "log.csv").open() as handle:
        return [{k: v for k, v in row.items() if k not in ("seconds", "cpu_seconds")} for row in csv.DictReader(handle)]


def test_a_killed_and_resumed_run_ends_as_an_uninterrupted_one(tmp_path):
    whole = _task(_recipe())
    run_towers(whole, tmp_path / "whole")
    steps = whole.steps_per_epoch
    # the kill lands inside the last epoch, after the best one: the best towers must come from the checkpoint
    assert steps > 2 and whole.best_epoch == 3

    def kill(step: int) -> None:
        if step == 3 * steps + 2:  # in the middle of epoch 4
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_towers(_task(_recipe()), tmp_path / "killed", on_step=kill)
    resumed = _task(_recipe())
    run_towers(resumed, tmp_path / "killed", resume=True)

    assert resumed.history == whole.history and len(whole.history) == 5  # epoch 0, then 4 epochs
    assert resumed.best_epoch == whole.best_epoch and resumed.best_loss == whole.best_loss
    assert _states_equal(resumed.best_state, whole.best_state)
    assert _states_equal(resumed.model.state_dict(), whole.model.state_dict())  # the last epoch's weights too
    assert _log_without_times(tmp_path / "killed") == _log_without_times(tmp_path / "whole")
    # OUT/best is the best epoch's towers, readable by bgtai.load_model, with its training.json
    for out in ("whole", "killed"):
        loaded = bgtai.load_model(tmp_path / out / "best")
        assert _states_equal(loaded.state_dict(), whole.best_state)
        record = json.loads((tmp_path / out / "best" / "training.json").read_text())
        assert record["best_epoch"] == whole.best_epoch and record["history"][0]["epoch"] == 0


def test_training_improves_and_the_train_loss_in_the_log_is_the_historys(tmp_path):
    task = _task(_recipe())
    run_towers(task, tmp_path / "run")
    assert task.best_epoch > 0 and task.best_loss < task.history[0]["val_loss"]
    logged = _log_without_times(tmp_path / "run")
    assert [float(row["val_loss"]) for row in logged] == [r["val_loss"] for r in task.history]
    assert [float(row["train_loss"]) for row in logged[1:]] == [r["train_loss"] for r in task.history[1:]]


def test_the_untrained_towers_stay_the_best_when_training_never_beats_them(tmp_path):
    task = _task(_recipe(lr=0.0, epochs=2))
    initial = {k: v.clone() for k, v in task.model.state_dict().items()}
    run_towers(task, tmp_path / "run")
    assert task.best_epoch == 0
    assert _states_equal(bgtai.load_model(tmp_path / "run" / "best").state_dict(), initial)


def test_a_checkpoint_resumes_only_under_its_own_recipe(tmp_path):
    run_towers(_task(_recipe(epochs=1)), tmp_path / "run")
    assert (tmp_path / "run" / CHECKPOINT).exists()
    with pytest.raises(ValueError, match="different recipe"):
        run_towers(_task(_recipe(epochs=1, lr=1e-2)), tmp_path / "run", resume=True)
