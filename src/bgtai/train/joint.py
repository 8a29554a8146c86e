"""Training the joint model on cached frozen features (UniBriVL MoCo or SLAVA pairwise InfoNCE).

    train(load_recipe("slava-av"), out="runs/slava-av")

The data (`bgtai.train.joint_data`), the batches (`bgtai.train.joint_batches`), the objective
(`bgtai.train.objectives`) and DS-Net's pair selection (`bgtai.train.pair_selection`) are the
joint model's own parts, put together here as a task of the shared loop (`bgtai.train.loop`),
which owns stages, epochs, schedule, checkpoints, resume and the log.

Every epoch ends with a checkpoint, so `resume=True` after a kill repeats the interrupted
epoch exactly and ends where an uninterrupted run ends; a damaged `checkpoint.pt` is reported
and the run resumes from `checkpoint.previous.pt`, or when neither reads, starts over from
the weights of `OUT/best`. A run starting or resuming first checks `OUT` (before any features
are loaded) and removes the temporaries a killed run left there. A lower validation loss
(symmetric InfoNCE at the objective's temperature over the held-out pairs, no queue) replaces
`OUT/best`, a model folder that `bgtai.load_model` reads. With several stages
(Wav2CLIP-style), each stage starts from the previous stage's best model and `OUT/best` ends
as the last stage's best.

Under `torchrun` (see `bgtai.train.distributed`) every rank plans the same global batches
and takes its own contiguous slice; the losses gather across ranks, so the loss and the
update equal those of one process on the global batch.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bgtai.align.pair_alignment import AlignedModel, alignment_view
from bgtai.atomic import replace_folder, temporary_folder
from bgtai.eval.results import current_command
from bgtai.losses import PAIR_TERMS, info_nce, slava_terms
from bgtai.model.joint import JointModel, load_model
from bgtai.provenance import provenance as code_provenance
from bgtai.train import distributed
from bgtai.train.checkpoint import CHECKPOINT, PREVIOUS_CHECKPOINT
from bgtai.train.checkpoint import prepare_run_folder as prepare_folder
from bgtai.train.joint_batches import Batch, batch_inputs, caption_kind_choices, modalities_of, plan_epoch
from bgtai.train.joint_data import CAPTION_KINDS, TrainData, split_validation
from bgtai.train.loop import SNAPSHOTS_DIR, LoopSettings, Stage, StageSetup, TrainingLoop
from bgtai.train.objectives import make_objective
from bgtai.train.pair_selection import PairSelection
from bgtai.train.recipes import Recipe, StageConfig
from bgtai.train.run_log import LOG
from bgtai.train.schedule import warmup_cosine

BEST = "best"
TRAINING_FILE = "training.json"  # beside a best model: the recipe, the command and the pairs that made it
EPOCHS_DIR = SNAPSHOTS_DIR  # with snapshots: the model after every epoch, epochs/<stage>-<epoch>


@dataclass
class TrainSummary:
    out: Path
    best: Path
    best_val: float
    history: list[dict[str, Any]]
    steps: int


class JointTask:
    """The joint model's part of a training run: model, objective, aligner, selection, batches, validation."""

    def __init__(self, recipe: Recipe, data: TrainData) -> None:
        self.recipe = recipe
        self.data = data
        self.rank, self.world = distributed.rank_and_world()
        if recipe.optim.batch_size % self.world:
            raise ValueError(f"batch_size {recipe.optim.batch_size} is not divisible by {self.world} processes")
        torch.manual_seed(recipe.seed)
        self.model = JointModel(recipe.joint_config())
        self.objective = make_objective(self.model, recipe.objective)
        # the model and the aligner (when the recipe aligns sequences) as one module, so DDP syncs both
        self.aligned = AlignedModel(self.model, recipe.alignment)
        self.selection = PairSelection(recipe.alignment, len(data))
        self.train_rows, self.val_rows = split_validation(data, recipe.optim.val_fraction, recipe.seed)
        self.provenance: dict[str, Any] = {
            "recipe": recipe.to_dict(),
            "command": current_command(),
            "pairs": dict(sorted(Counter(data.how).items())),
            "train_pairs": len(self.train_rows),
            "validation_pairs": len(self.val_rows),
        }
        self.stages = [Stage(stage.name, stage.epochs) for stage in recipe.stages]
        self.stage_index = 0
        self._epoch_pairs = 0
        self._align_values: list[float] = []
        self._align_value = math.nan

    @property
    def stage(self) -> StageConfig:
        return self.recipe.stages[self.stage_index]

    @property
    def difficulty(self) -> np.ndarray:
        return self.selection.difficulty

    def stage_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows on which the stage's variant has a loss term for some caption kind."""
        variant = self.stage.variant
        keep = [
            r
            for r in rows
            if any(slava_terms(variant, k, self.data.present(int(r), k)) for k in caption_kind_choices(variant))
        ]
        return np.asarray(keep, dtype=np.int64)

    # -- the loop's calls -------------------------------------------------------------------

    def begin_stage(self, index: int) -> StageSetup:
        self.stage_index = index
        stage = self.stage
        self.model.requires_grad_(False)
        for modality in stage.train:
            if modality in self.model.modalities:
                for part in self.model.parts_for(modality):
                    part.requires_grad_(True)
        for modality in stage.freeze:
            for part in self.model.parts_for(modality):
                part.requires_grad_(False)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        trainable += [p for p in self.objective.loss.parameters() if p.requires_grad]
        if self.aligned.aligner is not None:
            trainable += list(self.aligned.aligner.parameters())
        if not trainable:
            raise ValueError(f"stage {stage.name!r} trains nothing")
        optim = self.recipe.optim
        optimizer = torch.optim.AdamW(trainable, lr=optim.lr, weight_decay=optim.weight_decay)
        self.rows = self.stage_rows(self.train_rows)
        steps_per_epoch = math.ceil(len(self.plan(0)) / optim.accumulate)
        total = max(1, steps_per_epoch * stage.epochs)
        warmup = round(optim.warmup_fraction * total)
        return StageSetup(
            self.aligned,
            optimizer,
            steps_per_epoch,
            lambda position: warmup_cosine(position, warmup, total, optim.min_lr_ratio),
            by_epoch_progress=True,
        )

    def plan(self, epoch: int) -> list[Batch]:
        batches = plan_epoch(
            self.data,
            self.admitted_rows(epoch),
            self.stage.variant,
            self.recipe.optim.batch_size,
            self.world,
            (self.recipe.seed, self.stage_index, epoch),
        )
        self._epoch_pairs = int(sum(len(b.rows) for b in batches))
        self._align_values = []
        return batches

    def admitted_rows(self, epoch: int) -> np.ndarray:
        """The stage's training rows that take part in `epoch`: all, or DS-Net's self-paced selection."""
        return self.selection.admitted(self.rows, epoch)

    def loss(self, module: nn.Module, batch: Batch, epoch: int) -> torch.Tensor:
        size = len(batch.rows) // self.world
        rows = batch.rows[self.rank * size : (self.rank + 1) * size]
        modalities = modalities_of(batch.terms)
        inputs = batch_inputs(self.data, rows, batch.kind, modalities)
        labels = torch.as_tensor(self.data.labels[rows])
        aligning = self.aligned.aligner is not None and self.recipe.alignment.aligns_in(epoch)
        embeddings, align_loss, difficulty = module(inputs, alignment_view(modalities) if aligning else None)
        total = self.objective(embeddings, inputs, batch.terms, labels)
        self._align_value = math.nan
        if align_loss is not None and difficulty is not None:
            total = total + self.recipe.alignment.weight * align_loss.mean()
            self._align_value = float(align_loss.detach().mean())
            # every rank scored its own slice; the slices join in rank order, which is batch order
            self.selection.difficulty[batch.rows] = distributed.concatenate_over_ranks(difficulty.numpy())
        return total

    def after_micro_batch(self, stepped: bool) -> None:
        self.objective.after_micro_batch(stepped)
        if not math.isnan(self._align_value):
            self._align_values.append(distributed.mean_over_ranks(self._align_value))

    def epoch_fields(self) -> dict[str, Any]:
        align = float(np.mean(self._align_values)) if self._align_values else math.nan
        return {"pairs": self._epoch_pairs, "align_loss": align}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean symmetric InfoNCE (objective temperature, labels masked) over the held-out pairs, by group and term."""
        rows = self.stage_rows(self.val_rows)
        if len(rows) < 2:
            return {"val_loss": math.nan}
        scale = 1.0 / self.recipe.objective.temperature
        slots = {"audio": self.data.rows["audio"], "image": self.data.rows["image"]}
        values = []
        for batch in plan_epoch(self.data, rows, self.stage.variant, 10**9, 1, (0,)):
            for kind in caption_kind_choices(self.stage.variant):
                terms = slava_terms(self.stage.variant, kind, self.data.present(int(batch.rows[0]), kind))
                if not terms:
                    continue
                slots["text"] = self.data.text_slot(kind)
                embedded = {
                    m: torch.as_tensor(
                        self.model.embed_sequences(m, [self.data.features[m][int(i)] for i in slots[m][batch.rows]])
                    )
                    for m in modalities_of(terms)
                }
                labels = torch.as_tensor(self.data.labels[batch.rows])
                for term in terms:
                    x, y = PAIR_TERMS[term]
                    values.append(float(info_nce(embedded[x], embedded[y], scale, labels)))
        return {"val_loss": float(np.mean(values)) if values else math.nan}

    def save_model(self, folder: Path) -> None:
        save_model_atomically(self.model, folder, self.provenance)

    def end_stage(self, best: Path) -> None:
        model = load_model(best)
        self.model.load_state_dict(model.state_dict())
        self.objective.reset_to(self.model)

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "objective": self.objective.state_dict(),
            "aligner": None if self.aligned.aligner is None else self.aligned.aligner.state_dict(),
            "selection": self.selection.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        if self.aligned.aligner is not None:
            self.aligned.aligner.load_state_dict(state["aligner"])
        self.selection.load_state_dict(state["selection"])

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        # read through Recipe so a checkpoint from before a recipe section existed compares with its defaults
        if Recipe.from_dict(saved).to_dict() != self.recipe.to_dict():
            raise ValueError(f"{path} was written by a different recipe; use another --out")

    def restore_best(self, best: Path) -> None:
        self.model.load_state_dict(load_model(best).state_dict())
        self.objective.reset_to(self.model)


class JointTrainer:
    """One training run of `recipe` into `out`: the joint task on the shared loop; `run()` trains to the end."""

    def __init__(
        self,
        recipe: Recipe,
        out: str | Path,
        data: TrainData,
        progress: bool = True,
        on_step: Callable[[int], None] | None = None,
        snapshots: bool = False,
    ) -> None:
        self.task = JointTask(recipe, data)
        settings = LoopSettings(
            select_on="val_loss",
            accumulate=recipe.optim.accumulate,
            grad_clip=recipe.optim.grad_clip,
            best_name=BEST,
            snapshots=snapshots,
            progress=progress,
        )
        self.loop = TrainingLoop(self.task, settings, out, identity=recipe.to_dict(), on_step=on_step)
        self.out = Path(out)

    @property
    def model(self) -> JointModel:
        return self.task.model

    def batch_loss(self, batch: Batch) -> torch.Tensor:
        """The loss of one global batch's local slice, as a training step of the current epoch computes it."""
        return self.task.loss(self.loop.wrapped, batch, self.loop.epoch)

    def save_checkpoint(self) -> Path:
        return self.loop.save_checkpoint()

    def load_checkpoint(self) -> None:
        self.loop.resume()

    def run(self) -> TrainSummary:
        summary = self.loop.run()
        return TrainSummary(self.out, self.out / BEST, summary.best_value, summary.history, summary.steps)


def save_model_atomically(model: JointModel, folder: Path, provenance: dict[str, Any] | None = None) -> Path:
    """Write the model (and `training.json` from `provenance`) into a temporary sibling folder, then swap it in."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_folder(folder)
    try:
        model.save(temporary)
        if provenance is not None:
            record = {**provenance, "provenance": code_provenance()}  # commit, date, versions: bgtai.provenance
            (temporary / TRAINING_FILE).write_text(
                json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return replace_folder(temporary, folder)


def prepare_run_folder(out: Path, resume: bool) -> None:
    """Before any work: `out` must be a writable folder; an existing checkpoint needs `resume`; leftovers go."""
    prepare_folder(out, resume, keep=(BEST, EPOCHS_DIR + "/"))


def train(
    recipe: Recipe,
    out: str | Path,
    data: TrainData | None = None,
    resume: bool = False,
    progress: bool = True,
    on_step: Callable[[int], None] | None = None,
    snapshots: bool = False,
) -> TrainSummary:
    """Train `recipe` into `out` (building its data from the real datasets unless `data` is given)."""
    created = distributed.setup()
    try:
        from bgtai.data.pairs import PairOptions, build_pairs

        prepare_run_folder(Path(out), resume)

        options = PairOptions.from_dict(recipe.data)
        if data is None:
            pairs = build_pairs(options)
            data = TrainData.from_pairs(
                pairs, recipe.joint_config().front_ends, progress=progress and distributed.is_main()
            )
        data = data.with_audio_cut(options.max_audio_frames)
        trainer = JointTrainer(recipe, out, data, progress=progress, on_step=on_step, snapshots=snapshots)
        if resume:
            trainer.load_checkpoint()
        return trainer.run()
    finally:
        distributed.teardown(created)


__all__ = [
    "BEST",
    "CAPTION_KINDS",
    "CHECKPOINT",
    "EPOCHS_DIR",
    "LOG",
    "PREVIOUS_CHECKPOINT",
    "TRAINING_FILE",
    "Batch",
    "JointTask",
    "JointTrainer",
    "TrainData",
    "TrainSummary",
    "batch_inputs",
    "caption_kind_choices",
    "modalities_of",
    "plan_epoch",
    "prepare_run_folder",
    "save_model_atomically",
    "split_validation",
    "train",
    "warmup_cosine",
]
