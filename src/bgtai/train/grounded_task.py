"""The grounded towers' training (`bgtai.train.grounded`) as a task of the shared loop (`bgtai.train.loop`).

Every input was embedded once (frozen features and bridge vectors), so an epoch is a few
matrix products. Each epoch the task's numpy generator shuffles every task's training examples
into batches and all batches into one order; a batch of one example has no negative and is
left out. A batch's loss is its task's weight times symmetric InfoNCE, against the locked text
vectors for the text tasks and between the two towers for audio-image. The learning rate warms
up linearly over one epoch's worth of steps, then follows a cosine to 0 at the last step.
Validation, before the first epoch too so that the untrained towers (which start at the
bridges) can stay the best, is the weighted mean InfoNCE over fixed batches of the held-out
examples; the towers with the lowest validation loss are kept.

The generator goes into the task's state, so a run resumed from a checkpoint shuffles, and
ends, exactly as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.model.grounded import GroundedModel, load_grounded
from bgtai.train.grounded_examples import TASKS_BY_NAME, Examples, GroundedRecipe, info_nce
from bgtai.train.loop import LoopSettings, Stage, StageSetup, TrainingLoop
from bgtai.train.schedule import warmup_cosine

BEST = "best"
STAGE = "main"  # the one stage; training.json's recipe names it too
SETTINGS = LoopSettings(select_on="val_loss", best_name=BEST, progress=False, validate_first=True)

Embedded = dict[str, tuple[np.ndarray, np.ndarray]]  # modality -> (frozen features, bridge vectors)
Batch = tuple[str, np.ndarray]  # a task's name and rows of its examples


def _side(model: GroundedModel, embedded: Embedded, text: np.ndarray, modality: str, rows: np.ndarray) -> Tensor:
    if modality == "text":
        return torch.from_numpy(text[rows])
    features, bridges = embedded[modality]
    return model.towers[modality](torch.from_numpy(features[rows]), torch.from_numpy(bridges[rows]))


def _task_loss(
    model: GroundedModel,
    embedded: Embedded,
    text: np.ndarray,
    name: str,
    examples: Examples,
    rows: np.ndarray,
    temperature: float,
) -> Tensor:
    _, left, right = TASKS_BY_NAME[name]
    return info_nce(
        _side(model, embedded, text, left, examples.left[rows]),
        _side(model, embedded, text, right, examples.right[rows]),
        [examples.right_keys[i] for i in rows],
        temperature,
    )


def _validation_loss(
    model: GroundedModel, embedded: Embedded, text: np.ndarray, examples: dict[str, Examples], recipe: GroundedRecipe
) -> float:
    """Weighted mean InfoNCE over fixed validation batches of each task (eval mode, no dropout)."""
    model.eval()
    total, weight = 0.0, 0.0
    with torch.no_grad():
        for name, task in examples.items():
            rows = np.flatnonzero(task.validation)
            for start in range(0, len(rows), recipe.batch_size):
                batch = rows[start : start + recipe.batch_size]
                if len(batch) < 2:
                    continue
                w = recipe.task_weights.get(name, 1.0) * len(batch)
                total += w * float(_task_loss(model, embedded, text, name, task, batch, recipe.temperature))
                weight += w
    model.train()
    return total / weight if weight else math.inf


def _copy(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.clone() for k, v in state.items()}


class GroundedTask:
    """The towers, their examples, the batch order and the best towers so far; the loop runs the rest.

    `provenance` (recipe, command, pairs, examples) and `started` make the `training.json` written
    beside each best model, with the best epoch, its validation loss, the history and the seconds.
    """

    def __init__(
        self,
        model: GroundedModel,
        embedded: Embedded,
        text: np.ndarray,
        examples: dict[str, Examples],
        recipe: GroundedRecipe,
        progress: Callable[[str], None] = lambda _: None,
        schedule: Callable[[float, int, int], float] = warmup_cosine,
        provenance: dict[str, Any] | None = None,
        started: float | None = None,
    ) -> None:
        self.model, self.embedded, self.text, self.examples = model, embedded, text, examples
        self.recipe, self.progress, self.schedule = recipe, progress, schedule
        self.provenance = provenance or {}
        self.started = time.perf_counter() if started is None else started
        self.identity: dict[str, Any] = asdict(recipe)  # a checkpoint resumes only under the same recipe
        self.generator = np.random.default_rng(recipe.seed)
        # the schedule counts every batch, the ones of a single example too, as the trainer always has
        self.steps_per_epoch = sum(
            max(1, math.ceil((~e.validation).sum() / recipe.batch_size)) for e in examples.values()
        )
        self.total = self.steps_per_epoch * recipe.epochs
        self.stages = [Stage(STAGE, recipe.epochs)]
        self.history: list[dict[str, float]] = []  # epoch 0 (before training), then one record per epoch
        self.best_epoch, self.best_loss = 0, math.inf
        self.best_state = _copy(model.state_dict())
        self._epoch, self._epoch_loss, self._batches = 0, 0.0, 1

    # -- the loop's calls -------------------------------------------------------------------

    def begin_stage(self, index: int) -> StageSetup:
        recipe = self.recipe
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        return StageSetup(
            self.model,
            optimizer,
            self.steps_per_epoch,
            lambda step: self.schedule(step, self.steps_per_epoch, self.total),
        )

    def plan(self, epoch: int) -> list[Batch]:
        size = self.recipe.batch_size
        batches: list[Batch] = []
        for name, task in self.examples.items():
            rows = self.generator.permutation(np.flatnonzero(~task.validation))
            batches += [(name, rows[s : s + size]) for s in range(0, len(rows), size)]
        order = self.generator.permutation(len(batches))
        self._epoch, self._epoch_loss, self._batches = epoch + 1, 0.0, len(batches)
        return [batches[i] for i in order if len(batches[i][1]) >= 2]  # InfoNCE needs a negative

    def loss(self, module: nn.Module, batch: Batch, epoch: int) -> Tensor:
        name, rows = batch
        loss = self.recipe.task_weights.get(name, 1.0) * _task_loss(
            self.model, self.embedded, self.text, name, self.examples[name], rows, self.recipe.temperature
        )
        # the epoch's train loss is the sum of batch losses over all its batches, left-out ones included
        self._epoch_loss += loss.item() / self._batches
        return loss

    def after_micro_batch(self, stepped: bool) -> None:
        pass

    def epoch_fields(self) -> dict[str, Any]:
        return {"train_loss": self._epoch_loss}  # replaces the loop's mean, so log.csv matches training.json

    def validate(self) -> dict[str, float]:
        val_loss = _validation_loss(self.model, self.embedded, self.text, self.examples, self.recipe)
        if not self.history:  # before the first epoch: the untrained towers are the first best
            self.history.append({"epoch": 0, "val_loss": val_loss})
            self.best_loss, self.best_state = val_loss, _copy(self.model.state_dict())
            return {"val_loss": val_loss}
        epoch, epochs = self._epoch, self.recipe.epochs
        self.history.append({"epoch": epoch, "train_loss": self._epoch_loss, "val_loss": val_loss})
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch = val_loss, epoch
            self.best_state = _copy(self.model.state_dict())
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            self.progress(
                f"epoch {epoch}/{epochs}: train {self._epoch_loss:.4f}, validation {val_loss:.4f} "
                f"(best {self.best_loss:.4f} at {self.best_epoch})"
            )
        return {"val_loss": val_loss}

    def save_model(self, folder: Path) -> None:
        from bgtai.train.joint import save_model_atomically

        # the best towers, which the loop's choice (it also takes an epoch with a NaN loss) may not be;
        # swapped in and out rather than copied into a new model, whose initialisation would draw from torch's RNG
        current, training = _copy(self.model.state_dict()), self.model.training
        self.model.load_state_dict(self.best_state)
        try:
            save_model_atomically(self.model.eval(), folder, self.training_record())  # type: ignore[arg-type]
        finally:
            self.model.load_state_dict(current)
            self.model.train(training)

    def end_stage(self, best: Path) -> None:
        pass  # one stage

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "generator": self.generator.bit_generator.state,
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_loss": self.best_loss,
            "best_state": self.best_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.generator.bit_generator.state = state["generator"]
        self.history = list(state["history"])
        self.best_epoch, self.best_loss = int(state["best_epoch"]), float(state["best_loss"])
        self.best_state = _copy(state["best_state"])

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        if saved != self.identity:
            raise ValueError(f"{path} was written by a different recipe; use another --out")

    def restore_best(self, best: Path) -> None:
        self.model.load_state_dict(load_grounded(best).state_dict())

    # -- the run's record -------------------------------------------------------------------

    def training_record(self) -> dict[str, Any]:
        """`training.json` for the best towers so far: the provenance, the best epoch and the history."""
        return {
            **self.provenance,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_loss,
            "history": self.history,
            "seconds": round(time.perf_counter() - self.started, 1),  # pairs, features (cached or not) and fitting
        }


def run_towers(
    task: GroundedTask,
    out: Path | None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> None:
    """Train `task`'s towers on the shared loop; `out` (None: in memory) gets the best model and checkpoints."""
    loop = TrainingLoop(task, SETTINGS, out, identity=task.identity, on_step=on_step)
    if resume and out is not None and loop.resume():
        task.progress(f"resuming {out} after epoch {loop.epoch}")
    loop.run()


def fit_towers(
    model: GroundedModel,
    embedded: Embedded,
    text: np.ndarray,
    examples: dict[str, Examples],
    recipe: GroundedRecipe,
    progress: Callable[[str], None],
    schedule: Callable[[float, int, int], float] = warmup_cosine,
) -> tuple[dict[str, Tensor], int, float, list[dict[str, float]]]:
    """Train the towers in memory: (best weights, best epoch, best validation loss, history)."""
    task = GroundedTask(model, embedded, text, examples, recipe, progress, schedule)
    run_towers(task, None)
    return task.best_state, task.best_epoch, task.best_loss, task.history
