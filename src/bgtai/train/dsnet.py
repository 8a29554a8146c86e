"""Training DS-Net on summary-to-article pairs (BGTAI eq. 5 + eq. 6), as a task of the shared loop.

The model learns from the gold paths of the training topics: Result Filter cross-entropy
(eq. 5) plus `sp_weight` times SP-Loss (eq. 6). Batches are drawn in the order of one NumPy
generator seeded with `seed` (kept in the task's state, so a resumed run is the same run);
there is no validation split here, so the last model is the one returned. `bgtai eval align`
trains it in memory (no output folder) and scores it on held-out topics (`bgtai.align.evaluate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bgtai.align.dsnet import DSNet, DSNetConfig
from bgtai.align.evaluate import AlignmentSet
from bgtai.errors import BadInputError
from bgtai.losses.alignment import result_filter_ce, sp_loss
from bgtai.train.checkpoint import prepare_run_folder
from bgtai.train.loop import LoopSettings, Stage, StageSetup, TrainingLoop
from bgtai.train.schedule import constant


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    sp_weight: float = 1.0
    hidden: int = 128
    seed: int = 0


class DSNetTask:
    def __init__(self, train: AlignmentSet, config: TrainConfig) -> None:
        self.train = train
        self.config = config
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.model = DSNet(DSNetConfig(train.article[0].shape[1], train.summary[0].shape[1], hidden=config.hidden))
        self.stages = [Stage("dsnet", config.epochs)]

    def begin_stage(self, index: int) -> StageSetup:
        config = self.config
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        steps = -(-len(self.train) // config.batch_size)
        return StageSetup(self.model, optimizer, steps, constant)

    def plan(self, epoch: int) -> list[np.ndarray]:
        order = self.rng.permutation(len(self.train))
        return [order[first : first + self.config.batch_size] for first in range(0, len(order), self.config.batch_size)]

    def loss(self, module: nn.Module, rows: np.ndarray, epoch: int) -> torch.Tensor:
        train = self.train
        source, source_mask = pad_batch([train.article[i] for i in rows])
        target, target_mask = pad_batch([train.summary[i] for i in rows])
        gold, _ = pad_batch([train.gold[i][:, None] for i in rows], fill=-1)
        gold = gold[..., 0].long()
        log_p = module.log_probs(source, target, source_mask, target_mask)
        return result_filter_ce(log_p, gold, target_mask) + self.config.sp_weight * sp_loss(
            log_p, gold, target_mask, source_mask.sum(1)
        )

    def after_micro_batch(self, stepped: bool) -> None:
        return None

    def epoch_fields(self) -> dict[str, Any]:
        return {}

    def validate(self) -> dict[str, float]:
        return {}

    def save_model(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        from bgtai.atomic import atomic_path

        with atomic_path(folder / "dsnet.pt") as temporary:
            torch.save({"config": asdict(self.config), "model": self.model.state_dict()}, temporary)

    def end_stage(self, best: Path) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.rng.bit_generator.state = state["rng"]

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        if saved != asdict(self.config):
            raise BadInputError(str(path), "was written with other DS-Net settings; use another folder")

    def restore_best(self, best: Path) -> None:
        self.model.load_state_dict(torch.load(best / "dsnet.pt", map_location="cpu", weights_only=True)["model"])


def train_dsnet(
    train: AlignmentSet,
    config: TrainConfig,
    log: Callable[[str], None] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> DSNet:
    """DS-Net fitted on `train` with CE (eq. 5) + sp_weight * SP-Loss (eq. 6) on the gold paths.

    In memory unless `out` is given: then with a checkpoint every epoch (`resume` continues one) and the
    model in `out/best/dsnet.pt`. `log` given: progress is shown.
    """
    task = DSNetTask(train, config)
    if out is not None:
        prepare_run_folder(Path(out), resume, keep=("best",))
    settings = LoopSettings(select_on="", progress=log is not None)
    loop = TrainingLoop(task, settings, out, identity=asdict(config), on_step=on_step)
    if out is not None and resume:
        loop.resume()
    loop.run()
    return task.model.eval()


def pad_batch(sequences: list[np.ndarray], fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L, D) padded with `fill`, and the (B, L) mask of real steps."""
    length = max(len(s) for s in sequences)
    out = np.full((len(sequences), length, sequences[0].shape[1]), fill, dtype=np.float32)
    mask = np.zeros((len(sequences), length), dtype=bool)
    for row, sequence in enumerate(sequences):
        out[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = True
    return torch.from_numpy(out), torch.from_numpy(mask)
