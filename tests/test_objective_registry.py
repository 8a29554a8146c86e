"""A new loss is one objective class, one `register_objective` call and a recipe naming it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from test_train_joint import make_data, tiny_recipe
from torch import nn

from bgtai.model.joint import JointModel
from bgtai.train.joint import train
from bgtai.train.objectives import OBJECTIVES, register_objective, unregister_objective
from bgtai.train.recipes import Recipe


class CosinePull:
    """A made-up objective: pull each pair's audio and text vectors together (1 - cosine), scaled by an option."""

    def __init__(self, model: JointModel, settings: Any) -> None:
        self.loss = nn.Module()  # nothing to learn in the loss itself
        self.weight = float(settings.options.get("weight", 1.0))
        self.calls = 0

    def __call__(
        self, embeddings: dict[str, torch.Tensor], inputs: Any, terms: Sequence[str], labels: torch.Tensor
    ) -> torch.Tensor:
        self.calls += 1
        pulled = [m for m in ("audio", "image") if m in embeddings]
        return self.weight * sum((1 - F.cosine_similarity(embeddings[m], embeddings["text"])).mean() for m in pulled)

    def after_micro_batch(self, stepped: bool) -> None:
        return None

    def reset_to(self, model: JointModel) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"calls": self.calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.calls = state["calls"]


@pytest.fixture
def cosine_pull() -> Iterator[None]:
    register_objective("cosine-pull", CosinePull)
    try:
        yield
    finally:
        unregister_objective("cosine-pull")


def test_a_registered_objective_trains_from_a_recipe(tmp_path, cosine_pull) -> None:
    recipe = tiny_recipe("slava", epochs=3)
    recipe = Recipe.from_dict({**recipe.to_dict(), "objective": {"kind": "cosine-pull", "options": {"weight": 2.0}}})
    summary = train(recipe, tmp_path / "run", data=make_data(), progress=False)
    losses = [row["train_loss"] for row in summary.history]
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]  # 2 * (1 - cosine) goes down: the objective drives the update
    assert 0 <= losses[-1] <= 2 * 2  # two pulled modalities, weight 2, 1 - cosine in [0, 2]
    assert (tmp_path / "run" / "best").is_dir()


def test_unknown_and_duplicate_objectives_are_refused(cosine_pull) -> None:
    with pytest.raises(ValueError, match="objective kind must be one of moco, slava, cosine-pull, got 'nope'"):
        Recipe.from_dict({**tiny_recipe().to_dict(), "objective": {"kind": "nope"}})
    with pytest.raises(ValueError, match="already"):
        register_objective("moco", CosinePull)
    with pytest.raises(ValueError, match="built in"):
        unregister_objective("slava")
    assert set(OBJECTIVES) >= {"moco", "slava", "cosine-pull"}
