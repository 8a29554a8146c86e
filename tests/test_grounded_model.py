"""The grounded model: residual towers start at the bridges, ridge and InfoNCE fit, folders round-trip."""

from __future__ import annotations

import numpy as np
import torch

import bgtai
from bgtai.data.pairs import Pair
from bgtai.model.grounded import GroundedConfig, GroundedModel, Tower
from bgtai.train.grounded import Examples, GroundedRecipe, fit_ridge, fit_towers, info_nce, task_examples
from bgtai.train.joint import warmup_cosine


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _synthetic(n: int = 240, features: int = 12, seed: int = 0):
    """Audio whose caption vector is a fixed linear function of its features; bridges are noisy guesses."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    truth = _unit(x @ rng.normal(size=(features, 384)))
    bridges = _unit(truth + 1.5 * rng.normal(size=truth.shape) / np.sqrt(384))
    validation = np.arange(n) % 5 == 0
    examples = {"audio-text": Examples(np.arange(n), np.arange(n), [str(i) for i in range(n)], validation)}
    return {"audio": (x, bridges)}, truth, examples


def _model(design: str, in_dim: int = 12) -> GroundedModel:
    config = GroundedConfig(
        design=design, front_ends={"audio": ["tiny-audio"]}, feature_dims={"audio": in_dim}, hidden=64, dropout=0.0
    )
    return GroundedModel(config)


def test_residual_tower_starts_exactly_at_the_bridge():
    tower = Tower("residual", 12, 32, 0.1).eval()
    bridges = torch.nn.functional.normalize(torch.randn(5, 384), dim=-1)
    out = tower(torch.randn(5, 12), bridges)
    torch.testing.assert_close(out, bridges)


def test_info_nce_does_not_count_an_equal_caption_as_a_negative():
    torch.manual_seed(0)
    left = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    right = left.clone()
    right[1] = right[0]  # items 0 and 1 share a caption
    masked = info_nce(left, right, ["a", "a", "b"], 0.1)
    unmasked = info_nce(left, right, ["a", "c", "b"], 0.1)
    assert masked < unmasked


def test_training_improves_on_the_bridges_it_starts_from():
    embedded, truth, examples = _synthetic()
    model = _model("residual")
    model.towers["audio"].set_standardisation(embedded["audio"][0])
    recipe = GroundedRecipe("t", epochs=30, lr=3e-3, batch_size=64, temperature=0.1)
    state, best_epoch, best_loss, history = fit_towers(
        model, embedded, truth, examples, recipe, lambda _: None, warmup_cosine
    )
    assert best_epoch > 0 and best_loss < history[0]["val_loss"] - 0.2


def test_ridge_recovers_a_linear_map_chosen_on_validation():
    embedded, truth, examples = _synthetic()
    model = _model("ridge")
    model.towers["audio"].set_standardisation(embedded["audio"][0])
    loss = fit_ridge(model, embedded, truth, examples, [0.01, 1e6], lambda _: None)
    assert loss < 0.05  # 1 - cosine on validation; alpha 1e6 would leave it near 1
    out = model.embed_arrays("audio", *embedded["audio"])
    assert np.mean(np.sum(out * truth, axis=1)) > 0.95


def test_grounded_folder_loads_through_bgtai_load_model(tmp_path):
    embedded, _, _ = _synthetic(n=10)
    model = _model("concat")
    model.towers["audio"].set_standardisation(embedded["audio"][0])
    model.save(tmp_path / "m")
    loaded = bgtai.load_model(tmp_path / "m")
    assert type(loaded).__name__ == "GroundedModel"
    np.testing.assert_array_equal(
        loaded.embed_arrays("audio", *embedded["audio"]), model.embed_arrays("audio", *embedded["audio"])
    )


def test_task_examples_split_by_group_and_read_each_caption_kind(tmp_path):
    pairs = [
        Pair(
            "x",
            "s",
            "g1",
            audio=tmp_path / "a.wav",
            image=tmp_path / "p.png",
            audio_caption="a bark",
            visual_caption="a dog",
            label="dog",
        ),
        Pair("x", "s", "g1", audio=tmp_path / "b.wav", caption="rain"),
        Pair("x", "s", "g2", image=tmp_path / "q.png", caption="a cat"),
    ]
    inputs, examples = task_examples(pairs, val_fraction=0.5, seed=0)
    assert inputs["text"] == ["a bark", "a dog", "rain", "a cat"]
    assert examples["audio-text"].right_keys == ["a bark", "rain"]
    assert examples["image-text"].right_keys == ["a dog", "a cat"]
    assert examples["audio-image"].right_keys == ["dog"]
    # both pairs of group g1 fall on the same side
    assert examples["audio-text"].validation[0] == examples["audio-text"].validation[1]
