"""The joint model's training objectives behind one interface: each owns its state.

`MoCoObjective` (UniBriVL) owns the momentum copy of the model and the key queues;
`PairwiseObjective` (SLAVA) owns its temperatures or learnt scales. The trainer calls an
objective with the batch's embeddings and inputs, and after every micro-batch (when the
optimiser stepped: after the step). A new loss is its module in `bgtai.losses`, an objective
class around it, `register_objective(kind, factory)` and a recipe naming `objective.kind`; its
own settings come from the recipe's `objective.options`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from bgtai.losses import PAIR_TERMS, CrossModalMoCo, PairwiseLoss, momentum_update
from bgtai.model.joint import JointModel

Inputs = dict[str, tuple[torch.Tensor, torch.Tensor]]


class Objective(Protocol):
    loss: nn.Module  # its parameters train with the model's (a learnt scale)

    def __call__(
        self, embeddings: dict[str, torch.Tensor], inputs: Inputs, terms: Sequence[str], labels: torch.Tensor
    ) -> torch.Tensor: ...

    def after_micro_batch(self, stepped: bool) -> None: ...

    def reset_to(self, model: JointModel) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class MoCoObjective:
    """Cross-modal MoCo: queries from the model, keys from its momentum copy, negatives from the queues."""

    def __init__(self, model: JointModel, settings: Any) -> None:
        self.model = model
        self.momentum_rate = settings.momentum
        self.loss = CrossModalMoCo(
            model.modalities, model.dim, settings.queue_size, settings.temperature, settings.in_batch_negatives
        )
        self.momentum = copy.deepcopy(model).requires_grad_(False).eval()
        self._pending: tuple[dict[str, torch.Tensor], torch.Tensor] | None = None

    def __call__(
        self, embeddings: dict[str, torch.Tensor], inputs: Inputs, terms: Sequence[str], labels: torch.Tensor
    ) -> torch.Tensor:
        with torch.no_grad():
            keys = self.momentum(inputs)
        total = self.loss(embeddings, keys, [PAIR_TERMS[t] for t in terms], labels)
        self._pending = (keys, labels)
        return total

    def after_micro_batch(self, stepped: bool) -> None:
        # the keys join the queues after the step (once the momentum copy moved), or at once between steps
        assert self._pending is not None
        keys, labels = self._pending
        if stepped:
            momentum_update(self.model, self.momentum, self.momentum_rate)
        self.loss.enqueue(keys, labels)

    def reset_to(self, model: JointModel) -> None:
        self.momentum.load_state_dict(model.state_dict())

    def state_dict(self) -> dict[str, Any]:
        return {"loss": self.loss.state_dict(), "momentum": self.momentum.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])
        self.momentum.load_state_dict(state["momentum"])


class PairwiseObjective:
    """SLAVA's symmetric InfoNCE per pair of modalities, each with its temperature or a learnt scale."""

    def __init__(self, model: JointModel, settings: Any) -> None:
        self.loss = PairwiseLoss(("AV", "AT", "VT"), settings.temperature, settings.learn_scale)

    def __call__(
        self, embeddings: dict[str, torch.Tensor], inputs: Inputs, terms: Sequence[str], labels: torch.Tensor
    ) -> torch.Tensor:
        total, _ = self.loss(embeddings, terms, labels)
        return total

    def after_micro_batch(self, stepped: bool) -> None:
        return None

    def reset_to(self, model: JointModel) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"loss": self.loss.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss.load_state_dict(state["loss"])


# recipe `objective.kind` -> the objective built from the model and the recipe's `objective` section
OBJECTIVES: dict[str, Callable[[JointModel, Any], Objective]] = {"moco": MoCoObjective, "slava": PairwiseObjective}
BUILTIN_OBJECTIVES = tuple(OBJECTIVES)


def register_objective(kind: str, factory: Callable[[JointModel, Any], Objective]) -> None:
    """Make `kind` a valid `objective.kind` in recipes (a new loss: its module in `bgtai.losses` and this call)."""
    if kind in OBJECTIVES:
        raise ValueError(f"objective {kind!r} is registered already")
    OBJECTIVES[kind] = factory


def unregister_objective(kind: str) -> None:
    """Forget a registered objective (tests register made-up ones and clean up after themselves)."""
    if kind in BUILTIN_OBJECTIVES:
        raise ValueError(f"objective {kind!r} is built in")
    del OBJECTIVES[kind]


def make_objective(model: JointModel, settings: Any) -> Objective:
    if settings.kind not in OBJECTIVES:
        raise ValueError(f"objective kind must be one of {', '.join(OBJECTIVES)}, got {settings.kind!r}")
    return OBJECTIVES[settings.kind](model, settings)
