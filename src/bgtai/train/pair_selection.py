"""DS-Net's self-paced pair selection inside the joint trainer, with its state: every pair's difficulty.

A pair's difficulty is its SP-Loss at its latest training step (NaN: not scored yet). In a
stage's warm-up epochs every pair trains; after them the selector's threshold grows every
epoch and only pairs at or below it train, plus pairs never scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from bgtai.align.pair_alignment import AlignmentConfig


class PairSelection:
    def __init__(self, alignment: AlignmentConfig, pairs: int) -> None:
        self.warmup_epochs = alignment.warmup_epochs
        self.selector = alignment.selector() if alignment.ds_net else None
        self.difficulty = np.full(pairs, np.nan)

    def admitted(self, rows: np.ndarray, epoch: int) -> np.ndarray:
        """The rows that take part in `epoch`: all, or the self-paced selection."""
        if self.selector is None or epoch < self.warmup_epochs:
            return rows
        # the threshold grows from the first selecting epoch on; pairs never scored are admitted
        self.selector.update(epoch - self.warmup_epochs)
        scores = self.difficulty[rows]
        scored = np.isfinite(scores)
        keep = ~scored
        keep[scored] = self.selector.select(scores[scored])
        return rows[keep]

    def state_dict(self) -> dict[str, Any]:
        return {"difficulty": torch.from_numpy(self.difficulty.copy())}  # a tensor: loads with weights_only

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.difficulty = state["difficulty"].numpy().astype(np.float64)
