"""Self-paced data-pair selection: admit the pairs whose alignment loss is under a growing threshold.

DS-Net's "eliminating poor data": each pair's alignment loss (SP-Loss, in [0, 1]) is its
difficulty. In epoch e the threshold is `min(final, initial * growth**e)`; a pair takes
part in training when its loss is at or below it. At least `min_fraction` of the valid
pairs (the easiest) are always admitted, so no batch is ever empty; NaN losses (pairs the
aligner could not score) are never admitted.

    >>> selector = SelfPacedSelector(initial=0.1, growth=2.0)
    >>> selector.update(epoch=1)
    0.2
    >>> selector.select(np.array([0.05, 0.3, 0.15])).tolist()
    [True, False, True]
"""

from __future__ import annotations

import math

import numpy as np


class SelfPacedSelector:
    def __init__(
        self, initial: float = 0.1, growth: float = 1.5, final: float = 1.0, min_fraction: float = 0.25
    ) -> None:
        if initial <= 0 or growth < 1 or final < initial:
            raise ValueError(f"need initial > 0, growth >= 1, final >= initial; got {initial}, {growth}, {final}")
        if not 0.0 <= min_fraction <= 1.0:
            raise ValueError(f"min_fraction must be in [0, 1], got {min_fraction}")
        self.initial = initial
        self.growth = growth
        self.final = final
        self.min_fraction = min_fraction
        self.threshold = initial

    def update(self, epoch: int) -> float:
        """Set (and return) the threshold for `epoch` (0-based)."""
        self.threshold = min(self.final, self.initial * self.growth ** max(0, epoch))
        return self.threshold

    def select(self, losses: np.ndarray) -> np.ndarray:
        """Boolean mask of the admitted pairs."""
        values = np.asarray(losses, dtype=np.float64).reshape(-1)
        valid = np.isfinite(values)
        mask = valid & (values <= self.threshold)
        floor = math.ceil(self.min_fraction * int(valid.sum()))
        if int(mask.sum()) < floor:
            order = np.argsort(np.where(valid, values, np.inf), kind="stable")
            mask[order[:floor]] = True
        return mask
