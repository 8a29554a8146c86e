"""Learning-rate schedules shared by every trainer: factors of the base rate, as `LambdaLR` takes them."""

from __future__ import annotations

import math
from collections.abc import Callable

DECAYS = ("cosine", "inverse-sqrt")


def warmup_cosine(step: float, warmup: int, total: int, min_ratio: float = 0.0) -> float:
    """Linear warm-up over `warmup` steps (first step 1/warmup), then cosine decay to `min_ratio` at `total`.

    The joint trainer and the generator use it.
    """
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def warmup_decay(decay: str, warmup: int, total: int) -> Callable[[float], float]:
    """The gloss trainers' factor: warm-up from step 1 (the first step's factor is 1/warmup too, then 2/warmup),
    then a cosine to 0 at `total` or the transformer's inverse square root."""
    if decay not in DECAYS:
        raise ValueError(f"unknown decay {decay!r}: use one of {', '.join(DECAYS)}")

    def rate(step: float) -> float:
        step = max(step, 1)
        if step < warmup:
            return step / warmup
        if decay == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return math.sqrt(warmup / step)

    return rate


def constant(_: float) -> float:
    """No schedule: the base rate throughout (DS-Net on summaries)."""
    return 1.0
