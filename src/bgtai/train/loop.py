"""The one training loop: every trainer (joint model, grounded towers, Langue2Gloss, edit tagger, DS-Net,
generator) is a `Task` run by `TrainingLoop`.

The task owns what differs (its model, data, batches, loss, validation and what it saves); the
loop owns what is the same everywhere: epochs and stages, gradient accumulation, clipping, the
optimiser step, the learning-rate schedule, progress, the per-epoch log (`log.csv`, TensorBoard
when installed), the best model by a validation value, the time limit, and checkpoints
(`bgtai.train.checkpoint`) from which `resume=True` after a kill repeats the interrupted epoch
exactly and ends where an uninterrupted run ends. A task's random state that is not torch's
global generator (a `random.Random`, a `torch.Generator`) goes into its `state_dict`.

Under `torchrun` the loop wraps the stage's module in DistributedDataParallel; each task plans
the same global batches on every rank and takes its own slice (see `bgtai.train.joint`).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from bgtai.errors import BadInputError
from bgtai.train import distributed
from bgtai.train.checkpoint import CHECKPOINT, read_checkpoint, save_checkpoint
from bgtai.train.run_log import RunLog

SNAPSHOTS_DIR = "epochs"  # with snapshots: the model after every epoch, epochs/<stage>-<epoch>


@dataclass(frozen=True)
class Stage:
    name: str
    epochs: int


@dataclass
class StageSetup:
    """What a task trains in one stage, and how the learning rate moves over it."""

    module: nn.Module  # put in train mode every epoch; wrapped by DDP under torchrun
    optimizer: torch.optim.Optimizer
    steps_per_epoch: int
    factor: Callable[[float], float]  # the base rate's factor at a schedule position
    # position = (epoch + share of the epoch's steps done) * steps_per_epoch, so an epoch that self-paced
    # selection shortens still moves the schedule by one epoch; otherwise position = steps taken in the stage
    by_epoch_progress: bool = False


@dataclass(frozen=True)
class LoopSettings:
    select_on: str  # the validation field that picks the best model (NaN: every epoch counts as best)
    higher_is_better: bool = False
    accumulate: int = 1
    grad_clip: float = 0.0  # > 0: clip the gradient norm of the optimiser's parameters
    max_minutes: float = 0.0  # > 0: stop at the end of the first epoch that ends past this much wall time
    best_name: str = "best"
    snapshots: bool = False
    progress: bool = True
    # validate before the first epoch of each stage too (epoch 0 in the log): the untrained model can be the best
    validate_first: bool = False


class Task(Protocol):
    """One trainer's own parts; the loop calls these in this order per stage, epoch and batch."""

    stages: Sequence[Stage]

    def begin_stage(self, index: int) -> StageSetup: ...

    def plan(self, epoch: int) -> Sequence[Any]: ...

    def loss(self, module: nn.Module, batch: Any, epoch: int) -> torch.Tensor: ...

    def after_micro_batch(self, stepped: bool) -> None: ...

    def epoch_fields(self) -> dict[str, Any]:
        """Extra columns of the epoch's log row, merged last: a task that averages its training loss its own
        way (per example, not per batch) gives `train_loss` here and it replaces the loop's mean."""
        ...

    def validate(self) -> dict[str, float]: ...

    def save_model(self, folder: Path) -> None: ...

    def end_stage(self, best: Path) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None: ...

    def restore_best(self, best: Path) -> None: ...


@dataclass
class LoopSummary:
    out: Path | None
    best: Path | None
    best_value: float
    history: list[dict[str, Any]]
    steps: int
    seconds: float
    cpu_seconds: float


class TrainingLoop:
    """Runs `task` into `out` (None: in memory, nothing written); `run()` trains or resumes to the end."""

    def __init__(
        self,
        task: Task,
        settings: LoopSettings,
        out: str | Path | None,
        identity: dict[str, Any],
        on_step: Callable[[int], None] | None = None,
    ) -> None:
        self.task = task
        self.settings = settings
        self.out = None if out is None else Path(out)
        self.identity = identity  # what a checkpoint must have been written by to resume it
        self.on_step = on_step
        self.progress = settings.progress and distributed.is_main()
        self.world = distributed.rank_and_world()[1]
        self.history: list[dict[str, Any]] = []
        self.stage_index, self.epoch, self.step, self.stage_first_step = 0, 0, 0, 0
        self.best_value = self._worst()
        self.log = RunLog(self.out) if self.out is not None and distributed.is_main() else None
        self._begin_stage()

    @property
    def best_folder(self) -> Path | None:
        return None if self.out is None else self.out / self.settings.best_name

    def _worst(self) -> float:
        return -math.inf if self.settings.higher_is_better else math.inf

    def _begin_stage(self) -> None:
        self.setup = self.task.begin_stage(self.stage_index)
        self.position = 0.0
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.setup.optimizer, lambda _: self.setup.factor(self.position)
        )
        self.wrapped: nn.Module = self.setup.module
        if self.world > 1:
            self.wrapped = nn.parallel.DistributedDataParallel(self.setup.module, find_unused_parameters=True)

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> LoopSummary:
        started, cpu_started = time.perf_counter(), time.process_time()
        stages = self.task.stages
        if self.log is not None:
            self.log.open_tensorboard(self.step)
        stop = False
        while self.stage_index < len(stages) and not stop:
            stage = stages[self.stage_index]
            if self.settings.validate_first and self.epoch == 0 and not self._validated_first(stage):
                self._validate_first(stage)
            while self.epoch < stage.epochs:
                self._run_epoch(stage)
                limit = self.settings.max_minutes
                if limit > 0 and time.perf_counter() - started > limit * 60:
                    if self.progress:
                        tqdm.write(f"stopping after epoch {self.epoch}: the {limit:g} min limit is reached")
                    stop = True
                    break
            if stop:
                break
            if self.stage_index + 1 < len(stages) and self.best_folder is not None:
                self.task.end_stage(self.best_folder)  # the next stage starts from this stage's best model
            self.stage_index += 1
            self.epoch = 0
            if self.stage_index < len(stages):
                self.best_value = self._worst()
                self.stage_first_step = self.step
                self._begin_stage()
                if distributed.is_main() and self.out is not None:
                    self.save_checkpoint()
        if self.log is not None:
            self.log.close()
        return LoopSummary(
            self.out,
            self.best_folder,
            self.best_value,
            self.history,
            self.step,
            time.perf_counter() - started,
            time.process_time() - cpu_started,
        )

    def _validated_first(self, stage: Stage) -> bool:
        return any(record["stage"] == stage.name and record["epoch"] == 0 for record in self.history)

    def _validate_first(self, stage: Stage) -> None:
        validation = self.task.validate()
        self.history.append({"stage": stage.name, "epoch": 0, "step": self.step, **validation})
        value = float(validation.get(self.settings.select_on, math.nan))
        if not math.isnan(value):
            self.best_value = value
        if distributed.is_main() and self.out is not None:
            self.task.save_model(self.out / self.settings.best_name)
            self.save_checkpoint()
        distributed.barrier()

    def _run_epoch(self, stage: Stage) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        train_loss = self._train_epoch(stage)
        validation = self.task.validate()
        record = {
            "stage": stage.name,
            "epoch": self.epoch + 1,
            "step": self.step,
            "train_loss": train_loss,
            **validation,
            "lr": self.scheduler.get_last_lr()[0],
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu_started, 3),
            **self.task.epoch_fields(),
        }
        self.history.append(record)
        self.epoch += 1
        value = float(validation.get(self.settings.select_on, math.nan))
        # without a validation value every epoch counts as the best, so the best is the last model
        better = value > self.best_value if self.settings.higher_is_better else value < self.best_value
        improved = math.isnan(value) or better
        if improved and not math.isnan(value):
            self.best_value = value
        if self.progress:
            tqdm.write(_one_line(record))
        if distributed.is_main() and self.out is not None:
            best = self.out / self.settings.best_name
            if improved or not best.exists():
                self.task.save_model(best)
            if self.settings.snapshots:
                self.task.save_model(self.out / SNAPSHOTS_DIR / f"{stage.name}-{self.epoch:03d}")
            self.save_checkpoint()
            assert self.log is not None
            self.log.write(self.history, value, self.step)
        distributed.barrier()

    def _train_epoch(self, stage: Stage) -> float:
        accumulate = self.settings.accumulate
        plan = self.task.plan(self.epoch)
        planned_steps = max(1, math.ceil(len(plan) / accumulate))
        self.wrapped.train()
        losses = []
        epoch_steps = 0
        label = f"{stage.name} epoch {self.epoch + 1}/{stage.epochs}"
        bar = tqdm(plan, desc=label, disable=not self.progress)
        optimizer = self.setup.optimizer
        optimizer.zero_grad(set_to_none=True)
        for number, batch in enumerate(bar):
            last_micro = (number + 1) % accumulate == 0 or number + 1 == len(plan)
            sync = self.wrapped.no_sync() if (self.world > 1 and not last_micro) else nullcontext()
            with sync:
                loss = self.task.loss(self.wrapped, batch, self.epoch)
                (loss / accumulate).backward()
            if not last_micro:
                self.task.after_micro_batch(stepped=False)
            else:
                if self.settings.grad_clip > 0:
                    parameters = [p for group in optimizer.param_groups for p in group["params"]]
                    torch.nn.utils.clip_grad_norm_(parameters, self.settings.grad_clip)
                optimizer.step()
                epoch_steps += 1
                if self.setup.by_epoch_progress:
                    self.position = (self.epoch + epoch_steps / planned_steps) * self.setup.steps_per_epoch
                else:
                    self.position = float(self.step + 1 - self.stage_first_step)
                self.scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                self.task.after_micro_batch(stepped=True)
                self.step += 1
                if self.on_step is not None:
                    self.on_step(self.step)
            value = distributed.mean_over_ranks(float(loss.detach()))
            losses.append(value)
            bar.set_postfix(loss=f"{value:.3f}")
            if self.log is not None:
                self.log.batch(value, self.step)
        return float(np.mean(losses)) if losses else math.nan

    # -- checkpoints ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "stage_index": self.stage_index,
            "epoch": self.epoch,
            "step": self.step,
            "stage_first_step": self.stage_first_step,
            "best_value": self.best_value,
            "history": self.history,
            "position": self.position,
            "optimizer": self.setup.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "task": self.task.state_dict(),
        }

    def save_checkpoint(self) -> Path:
        assert self.out is not None
        return save_checkpoint(self.out, self.state())

    def resume(self) -> bool:
        """Continue from the newest checkpoint that reads; False when there is none (a fresh run).

        When every checkpoint is damaged, the task starts over from the weights of the best model.
        """
        assert self.out is not None and self.best_folder is not None
        path, state, problems = read_checkpoint(self.out)
        if path is None or state is None:
            if problems:
                self._start_over_from_best(problems)
            return False
        if problems:
            warnings.warn("; ".join(problems) + f"; resuming from {path} (one epoch earlier)", stacklevel=2)
        self.task.check_resumable(state["identity"], path)
        self.stage_index, self.epoch, self.step = state["stage_index"], state["epoch"], state["step"]
        self.stage_first_step = state["stage_first_step"]
        self.best_value, self.history = state["best_value"], state["history"]
        self.task.load_state_dict(state["task"])
        if self.stage_index < len(self.task.stages):
            self._begin_stage()
            self.setup.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.position = float(state["position"])
        torch.set_rng_state(state["torch_rng"])
        return True

    def _start_over_from_best(self, problems: list[str]) -> None:
        """No checkpoint reads: train from the start, from the weights of the best model so far."""
        assert self.out is not None and self.best_folder is not None
        best = self.best_folder
        try:
            self.task.restore_best(best)
        except Exception as error:  # noqa: BLE001 - whatever fails, there is no usable best model either
            raise BadInputError(
                str(self.out / CHECKPOINT),
                "; ".join(problems) + f"; and {best} cannot be loaded ({error}): "
                f"remove {self.out} or choose another --out to start over",
            ) from error
        warnings.warn(
            "; ".join(problems) + f"; starting the run over from the weights of {best} "
            "(the schedule restarts at epoch 1)",
            stacklevel=3,
        )


def _one_line(record: dict[str, Any]) -> str:
    shown = []
    for key, value in record.items():
        if isinstance(value, float):
            value = f"{value:.4g}"
        shown.append(f"{key} {value}")
    return ", ".join(shown)


__all__ = ["CHECKPOINT", "LoopSettings", "LoopSummary", "Stage", "StageSetup", "Task", "TrainingLoop"]
