"""Training the joint model on cached frozen features (UniBriVL MoCo or SLAVA pairwise InfoNCE).

    train(load_recipe("slava-av"), out="runs/slava-av")

Frozen front-end features of every training input are computed once through the feature
cache (`bgtai.encode_sequence`) and kept in memory; training then touches only the
trainable parts. Batches hold one kind of pair each (same modalities present), so a batch
of sound-library clips and captions never waits for a missing picture; per SLAVA variant a
batch also has a caption kind (audio, visual or audio-visual caption) and its loss terms.

Each epoch's batch order comes from `numpy.random.default_rng([seed, stage, epoch])`, and
every epoch ends with a checkpoint (`OUT/checkpoint.pt`, written atomically) holding the
weights, the momentum copy and queues, optimiser, schedule, torch RNG state and the log, so
`resume=True` after a kill repeats the interrupted epoch exactly and ends where an
uninterrupted run ends. The checkpoint before it stays as `OUT/checkpoint.previous.pt`: a
damaged `checkpoint.pt` (a truncated copy, a full disk) is reported and the run resumes
from the previous one, or when neither reads, starts over from the weights of `OUT/best`.
A run starting or resuming first checks `OUT` (before any features are loaded) and removes
the temporaries a killed run left there. A lower validation loss (symmetric InfoNCE at the objective's
temperature over the held-out pairs, no queue) replaces `OUT/best`, a model folder that
`bgtai.load_model` reads. With several stages (Wav2CLIP-style), each stage starts from the
previous stage's best model and `OUT/best` ends as the last stage's best.

Under `torchrun` (see `bgtai.train.distributed`) every rank plans the same global batches
and takes its own contiguous slice; the losses gather across ranks, so the loss and the
update equal those of one process on the global batch.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from bgtai.atomic import atomic_path, check_target, replace_folder, sweep, temporary_folder
from bgtai.errors import BadInputError
from bgtai.eval.results import current_command
from bgtai.losses import (
    PAIR_TERMS,
    SLAVA_VARIANTS,
    CrossModalMoCo,
    PairwiseLoss,
    info_nce,
    momentum_update,
    slava_terms,
)
from bgtai.losses.infonce import NO_LABEL
from bgtai.model.joint import JointModel, load_model, pad_sequences
from bgtai.provenance import provenance as code_provenance
from bgtai.train import distributed
from bgtai.train.pair_alignment import AlignedModel, alignment_view
from bgtai.train.recipes import Recipe, StageConfig

CHECKPOINT = "checkpoint.pt"
PREVIOUS_CHECKPOINT = "checkpoint.previous.pt"  # the one before: the fallback when checkpoint.pt is damaged
BEST = "best"
LOG = "log.csv"
TRAINING_FILE = "training.json"  # beside a best model: the recipe, the command and the pairs that made it
CAPTION_KINDS = ("av", "audio", "visual")
EPOCHS_DIR = "epochs"  # with snapshots: the model after every epoch, epochs/<stage>-<epoch>
# seconds: wall time of the epoch (validation included); cpu_seconds: this process's CPU time over it, which other
# jobs on a shared machine do not inflate (with one thread, the work done)
LOG_FIELDS = ("stage", "epoch", "step", "train_loss", "val_loss", "lr", "seconds", "cpu_seconds", "pairs", "align_loss")


# ---------------------------------------------------------------------------------------------
# data: feature sequences and pair rows


@dataclass
class TrainData:
    """Frozen feature sequences per modality, and pair rows pointing into them (-1 = absent).

    `rows` has one (N,) index array per slot: "audio", "image", and "text:av", "text:audio",
    "text:visual" (the caption of each kind, each falling back to the general caption).
    """

    features: dict[str, list[np.ndarray]]
    rows: dict[str, np.ndarray]
    labels: np.ndarray  # (N,) class id per pair, NO_LABEL when the pair has none
    groups: list[str]  # what must not straddle train and validation (a recording, an object)
    how: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> TrainData:
        return TrainData(
            self.features,
            {slot: values[index] for slot, values in self.rows.items()},
            self.labels[index],
            [self.groups[i] for i in index],
            [self.how[i] for i in index] if self.how else [],
        )

    def text_slot(self, kind: str) -> np.ndarray:
        return self.rows[f"text:{kind}"]

    def present(self, row: int, kind: str) -> list[str]:
        found = [m for m in ("audio", "image") if self.rows[m][row] >= 0]
        if self.text_slot(kind)[row] >= 0:
            found.append("text")
        return found

    @classmethod
    def from_pairs(cls, pairs: Sequence[Any], front_ends: dict[str, str], progress: bool = True) -> TrainData:
        """Embed every distinct input of `pairs` (`bgtai.data.pairs.Pair`) with its frozen front-end, cached."""
        from bgtai.embed import encode_sequence

        inputs: dict[str, dict[Any, int]] = {"audio": {}, "image": {}, "text": {}}

        def slot(modality: str, value: Any) -> int:
            if value is None:
                return -1
            key = str(value)
            return inputs[modality].setdefault(key, len(inputs[modality]))

        rows: dict[str, list[int]] = {"audio": [], "image": [], **{f"text:{k}": [] for k in CAPTION_KINDS}}
        label_ids: dict[str, int] = {}
        labels = []
        for pair in pairs:
            rows["audio"].append(slot("audio", pair.audio))
            rows["image"].append(slot("image", pair.image))
            general = pair.caption or pair.audio_caption or pair.visual_caption
            rows["text:av"].append(slot("text", general))
            rows["text:audio"].append(slot("text", pair.audio_caption or general))
            rows["text:visual"].append(slot("text", pair.visual_caption or general))
            labels.append(NO_LABEL if pair.label is None else label_ids.setdefault(str(pair.label), len(label_ids)))
        features = {}
        for modality, table in inputs.items():
            if not table:
                features[modality] = []
                continue
            if modality not in front_ends:
                raise ValueError(f"the pairs have {modality} inputs but the model has no {modality} front-end")
            batch = encode_sequence(
                modality, list(table), encoder=front_ends[modality], progress=progress, skip_bad=True
            )
            features[modality] = batch.features
            if batch.bad:
                warnings.warn(
                    f"{len(batch.bad)} {modality} input(s) could not be embedded; their pairs are left out: "
                    + "; ".join(f"{b.source}: {b.problem}" for b in batch.bad[:5]),
                    stacklevel=2,
                )
        data = cls(
            features,
            {k: np.asarray(v, dtype=np.int64) for k, v in rows.items()},
            np.asarray(labels, dtype=np.int64),
            [p.group for p in pairs],
            [p.how for p in pairs],
        )
        return data.subset(np.flatnonzero(data.usable()))

    def with_audio_cut(self, frames: int) -> TrainData:
        """The same pairs with every audio sequence cut to its first `frames` frames (0: unchanged)."""
        if frames <= 0:
            return self
        features = {**self.features, "audio": [sequence[:frames] for sequence in self.features["audio"]]}
        return TrainData(features, self.rows, self.labels, self.groups, self.how)

    def usable(self) -> np.ndarray:
        """(N,) True for rows whose every input has features (a bad input has an empty sequence)."""
        ok = np.ones(len(self), dtype=bool)
        for slot, index in self.rows.items():
            table = self.features["text" if slot.startswith("text") else slot]
            lengths = np.array([len(table[i]) if i >= 0 else 1 for i in index], dtype=np.int64)
            ok &= lengths > 0
        return ok


def split_validation(data: TrainData, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): whole groups go to validation when their hash falls below `fraction`."""
    if fraction <= 0:
        return np.arange(len(data)), np.zeros(0, dtype=np.int64)

    def draw(group: str) -> float:
        digest = hashlib.blake2b(f"{seed}:{group}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2**64

    held = np.array([draw(g) < fraction for g in data.groups], dtype=bool)
    return np.flatnonzero(~held), np.flatnonzero(held)


# ---------------------------------------------------------------------------------------------
# batches


@dataclass(frozen=True)
class Batch:
    rows: np.ndarray  # global batch, in the order ranks slice it
    kind: str  # caption kind
    terms: tuple[str, ...]


def caption_kind_choices(variant: str) -> tuple[str, ...]:
    policy = SLAVA_VARIANTS[variant].captions
    return ("audio", "visual") if policy == "audio-or-visual" else (policy,)


def plan_epoch(
    data: TrainData, rows: np.ndarray, variant: str, batch_size: int, world: int, seed: Sequence[int]
) -> list[Batch]:
    """The epoch's global batches: rows grouped by the modalities they have, shuffled, cut, interleaved.

    A group smaller than `batch_size` gives one batch of all of it (rounded down to a multiple
    of `world`); leftovers are dropped (the next epoch's shuffle uses them). Batches with no
    loss term or fewer than 2 pairs are skipped.
    """
    rng = np.random.default_rng(list(seed))
    kinds = caption_kind_choices(variant)
    groups: dict[tuple[bool, bool, bool], list[int]] = {}
    for row in rows:
        key = (data.rows["audio"][row] >= 0, data.rows["image"][row] >= 0, data.text_slot("av")[row] >= 0)
        groups.setdefault(key, []).append(int(row))
    batches: list[Batch] = []
    for key in sorted(groups):
        members = rng.permutation(np.asarray(groups[key], dtype=np.int64))
        # the caption kinds that give this group a loss term (A&V: a picture-caption group never draws audio captions)
        usable = [k for k in kinds if slava_terms(variant, k, data.present(int(members[0]), k))]
        size = min(batch_size, len(members) - len(members) % world)
        if not usable or size < max(2, world):
            continue
        for start in range(0, len(members) - size + 1, size):
            kind = str(rng.choice(usable))
            terms = tuple(slava_terms(variant, kind, data.present(int(members[0]), kind)))
            batches.append(Batch(members[start : start + size], kind, terms))
    return [batches[i] for i in rng.permutation(len(batches))]


def batch_inputs(
    data: TrainData, rows: np.ndarray, kind: str, modalities: Sequence[str]
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    slots = {"audio": data.rows["audio"], "image": data.rows["image"], "text": data.text_slot(kind)}
    return {m: pad_sequences([data.features[m][int(i)] for i in slots[m][rows]]) for m in modalities}


def modalities_of(terms: Sequence[str]) -> list[str]:
    return sorted({m for t in terms for m in PAIR_TERMS[t]})


# ---------------------------------------------------------------------------------------------
# the trainer


@dataclass
class TrainSummary:
    out: Path
    best: Path
    best_val: float
    history: list[dict[str, Any]]
    steps: int


class JointTrainer:
    """One training run of `recipe` into `out`; `run()` trains (or resumes) to the end."""

    def __init__(
        self,
        recipe: Recipe,
        out: str | Path,
        data: TrainData,
        progress: bool = True,
        on_step: Callable[[int], None] | None = None,
        snapshots: bool = False,
    ) -> None:
        self.recipe = recipe
        self.out = Path(out)
        self.data = data
        self.snapshots = snapshots
        self.progress = progress and distributed.is_main()
        self.on_step = on_step
        self.rank, self.world = distributed.rank_and_world()
        if recipe.optim.batch_size % self.world:
            raise ValueError(f"batch_size {recipe.optim.batch_size} is not divisible by {self.world} processes")
        torch.manual_seed(recipe.seed)
        self.model = JointModel(recipe.joint_config())
        objective = recipe.objective
        if objective.kind == "moco":
            self.loss: nn.Module = CrossModalMoCo(
                self.model.modalities,
                self.model.dim,
                objective.queue_size,
                objective.temperature,
                objective.in_batch_negatives,
            )
            self.momentum: JointModel | None = copy.deepcopy(self.model).requires_grad_(False).eval()
        else:
            self.loss = PairwiseLoss(("AV", "AT", "VT"), objective.temperature, objective.learn_scale)
            self.momentum = None
        # the model and the aligner (when the recipe aligns sequences) as one module, so DDP syncs both
        self.aligned = AlignedModel(self.model, recipe.alignment)
        self.selector = recipe.alignment.selector() if recipe.alignment.ds_net else None
        # each pair's SP-Loss at its latest training step (NaN: not scored yet); DS-Net's difficulty
        self.difficulty = np.full(len(data), np.nan)
        self.train_rows, self.val_rows = split_validation(data, recipe.optim.val_fraction, recipe.seed)
        self.provenance: dict[str, Any] = {
            "recipe": recipe.to_dict(),
            "command": current_command(),
            "pairs": dict(sorted(Counter(data.how).items())),
            "train_pairs": len(self.train_rows),
            "validation_pairs": len(self.val_rows),
        }
        self.history: list[dict[str, Any]] = []
        self.stage_index, self.epoch, self.step = 0, 0, 0
        self.best_val = math.inf
        self._build_stage()

    # -- stage set-up ---------------------------------------------------------------------

    @property
    def stage(self) -> StageConfig:
        return self.recipe.stages[self.stage_index]

    def stage_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows on which the stage's variant has a loss term for some caption kind."""
        keep = [
            r
            for r in rows
            if any(
                slava_terms(self.stage.variant, k, self.data.present(int(r), k))
                for k in caption_kind_choices(self.stage.variant)
            )
        ]
        return np.asarray(keep, dtype=np.int64)

    def _build_stage(self) -> None:
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
        trainable += [p for p in self.loss.parameters() if p.requires_grad]
        if self.aligned.aligner is not None:
            trainable += list(self.aligned.aligner.parameters())
        if not trainable:
            raise ValueError(f"stage {stage.name!r} trains nothing")
        optim = self.recipe.optim
        self.optimizer = torch.optim.AdamW(trainable, lr=optim.lr, weight_decay=optim.weight_decay)
        self.rows = self.stage_rows(self.train_rows)
        self.steps_per_epoch = math.ceil(len(self._plan(0)) / optim.accumulate)
        self.total_steps = max(1, self.steps_per_epoch * stage.epochs)
        warmup = round(optim.warmup_fraction * self.total_steps)
        # the schedule runs on epoch progress counted in full-epoch steps, so an epoch that DS-Net
        # shortens still moves the learning rate by one epoch (without selection: the step count)
        self.schedule_position = 0.0
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda _: warmup_cosine(self.schedule_position, warmup, self.total_steps, optim.min_lr_ratio),
        )
        self.wrapped: nn.Module = self.aligned
        if self.world > 1:
            self.wrapped = nn.parallel.DistributedDataParallel(self.aligned, find_unused_parameters=True)

    def _plan(self, epoch: int) -> list[Batch]:
        return plan_epoch(
            self.data,
            self.admitted_rows(epoch),
            self.stage.variant,
            self.recipe.optim.batch_size,
            self.world,
            (self.recipe.seed, self.stage_index, epoch),
        )

    def admitted_rows(self, epoch: int) -> np.ndarray:
        """The stage's training rows that take part in `epoch`: all, or DS-Net's self-paced selection."""
        if self.selector is None or epoch < self.recipe.alignment.warmup_epochs:
            return self.rows
        # the threshold grows from the first selecting epoch on; pairs never scored are admitted
        self.selector.update(epoch - self.recipe.alignment.warmup_epochs)
        scores = self.difficulty[self.rows]
        scored = np.isfinite(scores)
        keep = ~scored
        keep[scored] = self.selector.select(scores[scored])
        return self.rows[keep]

    # -- one batch --------------------------------------------------------------------------

    def _local(self, batch: Batch) -> np.ndarray:
        size = len(batch.rows) // self.world
        return batch.rows[self.rank * size : (self.rank + 1) * size]

    def batch_loss(self, batch: Batch) -> torch.Tensor:
        rows = self._local(batch)
        modalities = modalities_of(batch.terms)
        inputs = batch_inputs(self.data, rows, batch.kind, modalities)
        labels = torch.as_tensor(self.data.labels[rows])
        aligning = self.aligned.aligner is not None and self.recipe.alignment.aligns_in(self.epoch)
        view = alignment_view(modalities) if aligning else None
        embeddings, align_loss, difficulty = self.wrapped(inputs, view)
        if self.momentum is None:
            total, _ = self.loss(embeddings, batch.terms, labels)
        else:
            with torch.no_grad():
                keys = self.momentum(inputs)
            pairs = [PAIR_TERMS[t] for t in batch.terms]
            total = self.loss(embeddings, keys, pairs, labels)
            self._pending_keys = (keys, labels)
        self._align_value = math.nan
        if align_loss is not None and difficulty is not None:
            total = total + self.recipe.alignment.weight * align_loss.mean()
            self._align_value = float(align_loss.detach().mean())
            # every rank scored its own slice; the slices join in rank order, which is batch order
            self.difficulty[batch.rows] = distributed.concatenate_over_ranks(difficulty.numpy())
        return total

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> TrainSummary:
        recipe = self.recipe
        writer = self._tensorboard()
        while self.stage_index < len(recipe.stages):
            stage = self.stage
            while self.epoch < stage.epochs:
                started, cpu_started = time.perf_counter(), time.process_time()
                train_loss = self._train_epoch(writer)
                val_loss = self.validate()
                record = {
                    "stage": stage.name,
                    "epoch": self.epoch + 1,
                    "step": self.step,
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "lr": self.scheduler.get_last_lr()[0],
                    "seconds": round(time.perf_counter() - started, 3),
                    "cpu_seconds": round(time.process_time() - cpu_started, 3),
                    "pairs": self._epoch_pairs,
                    "align_loss": self._epoch_align,
                }
                self.history.append(record)
                self.epoch += 1
                # without validation pairs every epoch counts as the best, so `best` is the last model
                improved = math.isnan(val_loss) or val_loss < self.best_val
                if improved and not math.isnan(val_loss):
                    self.best_val = val_loss
                if distributed.is_main():
                    if improved or not (self.out / BEST).exists():
                        save_model_atomically(self.model, self.out / BEST, self.provenance)
                    if self.snapshots:
                        save_model_atomically(
                            self.model, self.out / EPOCHS_DIR / f"{stage.name}-{self.epoch:03d}", self.provenance
                        )
                    self.save_checkpoint()
                    self._write_log()
                    if writer is not None:
                        writer.add_scalar("val/loss", val_loss, self.step)
                distributed.barrier()
            if self.stage_index + 1 < len(recipe.stages):
                # the next stage starts from this stage's best model
                best = load_model(self.out / BEST)
                self.model.load_state_dict(best.state_dict())
                if self.momentum is not None:
                    self.momentum.load_state_dict(best.state_dict())
            self.stage_index += 1
            self.epoch = 0
            if self.stage_index < len(recipe.stages):
                self.best_val = math.inf
                self._build_stage()
                if distributed.is_main():
                    self.save_checkpoint()
        if writer is not None:
            writer.close()
        return TrainSummary(self.out, self.out / BEST, self.best_val, self.history, self.step)

    def _train_epoch(self, writer: Any) -> float:
        optim = self.recipe.optim
        plan = self._plan(self.epoch)
        self._epoch_pairs = int(sum(len(b.rows) for b in plan))
        planned_steps = max(1, math.ceil(len(plan) / optim.accumulate))
        self.wrapped.train()
        losses, align_losses = [], []
        epoch_steps = 0
        bar = tqdm(
            plan, desc=f"{self.stage.name} epoch {self.epoch + 1}/{self.stage.epochs}", disable=not self.progress
        )
        self.optimizer.zero_grad(set_to_none=True)
        for number, batch in enumerate(bar):
            last_micro = (number + 1) % optim.accumulate == 0 or number + 1 == len(plan)
            sync = self.wrapped.no_sync() if (self.world > 1 and not last_micro) else _nothing()
            with sync:
                loss = self.batch_loss(batch)
                (loss / optim.accumulate).backward()
            if self.momentum is not None:
                keys, labels = self._pending_keys
                if not last_micro:
                    self.loss.enqueue(keys, labels)  # type: ignore[operator]
            if last_micro:
                if optim.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(
                        [p for g in self.optimizer.param_groups for p in g["params"]], optim.grad_clip
                    )
                self.optimizer.step()
                epoch_steps += 1
                self.schedule_position = (self.epoch + epoch_steps / planned_steps) * self.steps_per_epoch
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                if self.momentum is not None:
                    momentum_update(self.model, self.momentum, self.recipe.objective.momentum)
                    self.loss.enqueue(keys, labels)  # type: ignore[operator]
                self.step += 1
                if self.on_step is not None:
                    self.on_step(self.step)
            value = distributed.mean_over_ranks(float(loss.detach()))
            losses.append(value)
            if not math.isnan(self._align_value):
                align_losses.append(distributed.mean_over_ranks(self._align_value))
            bar.set_postfix(loss=f"{value:.3f}")
            if writer is not None:
                writer.add_scalar("train/loss", value, self.step)
        self._epoch_align = float(np.mean(align_losses)) if align_losses else math.nan
        return float(np.mean(losses)) if losses else math.nan

    @torch.no_grad()
    def validate(self) -> float:
        """Mean symmetric InfoNCE (objective temperature, labels masked) over the held-out pairs, by group and term."""
        rows = self.stage_rows(self.val_rows)
        if len(rows) < 2:
            return math.nan
        scale = 1.0 / self.recipe.objective.temperature
        values = []
        for batch in plan_epoch(self.data, rows, self.stage.variant, 10**9, 1, (0,)):
            for kind in caption_kind_choices(self.stage.variant):
                terms = slava_terms(self.stage.variant, kind, self.data.present(int(batch.rows[0]), kind))
                if not terms:
                    continue
                embedded = {
                    m: torch.as_tensor(self.model.embed_sequences(m, [self.data.features[m][int(i)] for i in index]))
                    for m, index in self._slots(batch.rows, kind, modalities_of(terms)).items()
                }
                labels = torch.as_tensor(self.data.labels[batch.rows])
                for term in terms:
                    x, y = PAIR_TERMS[term]
                    values.append(float(info_nce(embedded[x], embedded[y], scale, labels)))
        return float(np.mean(values)) if values else math.nan

    def _slots(self, rows: np.ndarray, kind: str, modalities: Sequence[str]) -> dict[str, np.ndarray]:
        slots = {"audio": self.data.rows["audio"], "image": self.data.rows["image"], "text": self.data.text_slot(kind)}
        return {m: slots[m][rows] for m in modalities}

    # -- checkpoints and logs ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe.to_dict(),
            "stage_index": self.stage_index,
            "epoch": self.epoch,
            "step": self.step,
            "best_val": self.best_val,
            "history": self.history,
            "model": self.model.state_dict(),
            "momentum": None if self.momentum is None else self.momentum.state_dict(),
            "loss": self.loss.state_dict(),
            "aligner": None if self.aligned.aligner is None else self.aligned.aligner.state_dict(),
            "difficulty": torch.from_numpy(self.difficulty.copy()),  # a tensor: checkpoints load with weights_only
            "schedule_position": self.schedule_position,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }

    def save_checkpoint(self) -> Path:
        path = self.out / CHECKPOINT
        self.out.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temporary:
            torch.save(self.state(), temporary)
            if path.exists():
                # the new checkpoint takes its place as the block ends: a kill between these two
                # renames leaves only the previous checkpoint, which resuming reads
                os.replace(path, self.out / PREVIOUS_CHECKPOINT)
        return path

    def load_checkpoint(self) -> None:
        """Resume from `checkpoint.pt`; if it is damaged, from the previous one, else start over from `best/`."""
        path, state, problems = None, None, []
        for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
            candidate = self.out / name
            if not candidate.exists():
                continue
            try:
                state = torch.load(candidate, map_location="cpu", weights_only=False)
            except Exception as error:  # noqa: BLE001 - whatever fails while reading it, the file is unusable
                problems.append(
                    f"{candidate} is damaged ({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                )
                continue
            if isinstance(state, dict) and "recipe" in state:
                path = candidate
                break
            problems.append(f"{candidate} is damaged (not a training checkpoint)")
        if path is None:
            self._start_over_from_best(problems)
            return
        if problems:
            warnings.warn("; ".join(problems) + f"; resuming from {path} (one epoch earlier)", stacklevel=2)
        # read through Recipe so a checkpoint from before a recipe section existed compares with its defaults
        if Recipe.from_dict(state["recipe"]).to_dict() != self.recipe.to_dict():
            raise ValueError(f"{path} was written by a different recipe; use another --out")
        self.stage_index, self.epoch, self.step = state["stage_index"], state["epoch"], state["step"]
        self.best_val, self.history = state["best_val"], state["history"]
        self.model.load_state_dict(state["model"])
        if self.momentum is not None:
            self.momentum.load_state_dict(state["momentum"])
        self.loss.load_state_dict(state["loss"])
        if self.aligned.aligner is not None:
            self.aligned.aligner.load_state_dict(state["aligner"])
        if state.get("difficulty") is not None:
            self.difficulty = state["difficulty"].numpy().astype(np.float64)
        if self.stage_index < len(self.recipe.stages):
            self._build_stage()
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.schedule_position = float(state.get("schedule_position", self.scheduler.last_epoch))
        torch.set_rng_state(state["torch_rng"])

    def _start_over_from_best(self, problems: list[str]) -> None:
        """No checkpoint reads: train from the start, from the weights of the best model so far."""
        best = self.out / BEST
        if not problems:
            return  # no checkpoint at all: nothing to resume, a fresh run
        try:
            model = load_model(best)
            self.model.load_state_dict(model.state_dict())
        except Exception as error:  # noqa: BLE001 - no usable best model either
            raise BadInputError(
                str(self.out / CHECKPOINT),
                "; ".join(problems) + f"; and {best} cannot be "
                f"loaded ({error}): remove {self.out} or choose another --out to start over",
            ) from error
        if self.momentum is not None:
            self.momentum.load_state_dict(model.state_dict())
        warnings.warn(
            "; ".join(problems) + f"; starting the run over from the weights of {best} "
            "(the schedule restarts at epoch 1)",
            stacklevel=3,
        )

    def _write_log(self) -> None:
        # rewritten whole from the history, so a resumed run's log has no rows from the lost epoch
        with open(self.out / LOG, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=LOG_FIELDS)
            writer.writeheader()
            writer.writerows(self.history)

    def _tensorboard(self) -> Any:
        if not distributed.is_main():
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None  # tensorboard is optional; the CSV log is always written
        return SummaryWriter(str(self.out / "tensorboard"), purge_step=self.step or None)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float = 0.0) -> float:
    """Learning-rate factor: linear warm-up over `warmup` steps, then cosine decay to `min_ratio` at `total`."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


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
    """Before any work: `out` must be a folder that can be written; an existing checkpoint needs `resume`.

    The main process then sweeps what a killed run left there (temporary checkpoints and model folders).
    """
    check_target(out, folder=True)
    checkpoints = [out / name for name in (CHECKPOINT, PREVIOUS_CHECKPOINT) if (out / name).exists()]
    if checkpoints and not resume:
        raise FileExistsError(f"{checkpoints[0]} exists: pass resume=True (--resume) or choose another --out")
    if distributed.is_main():
        for target in (CHECKPOINT, BEST):
            sweep(out, target)
        sweep(out / EPOCHS_DIR, None)


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
