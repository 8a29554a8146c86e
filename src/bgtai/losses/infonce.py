"""Symmetric InfoNCE (CLIP loss) between two batches of paired embeddings.

Row i of `a` and row i of `b` are a positive pair; every other row of the other side is a
negative, except rows whose label equals row i's label (class-level pairs would otherwise
teach the model to push apart two recordings of the same class). The temperature is fixed
(default 0.07) or learned as a logit scale, clamped to at most 100 as in CLIP.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from bgtai.losses.gather import gather_no_grad, gather_with_grad

NO_LABEL = -1  # rows with this label are never masked


def same_label_mask(labels_a: torch.Tensor | None, labels_b: torch.Tensor | None) -> torch.Tensor | None:
    """(Na, Nb) True where a[i] and b[j] share a real label (>= 0); None without labels."""
    if labels_a is None or labels_b is None:
        return None
    return (labels_a[:, None] == labels_b[None, :]) & (labels_a[:, None] != NO_LABEL)


def info_nce(
    a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor | float, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of the a->b and b->a cross-entropies over (N, D) L2-normalised rows; no gathering."""
    logits = logit_scale * (a @ b.T)
    targets = torch.arange(len(a), device=a.device)
    mask = same_label_mask(labels, labels)
    if mask is not None:
        # keep the diagonal (the positive), hide other rows of the same class
        mask = mask & ~torch.eye(len(a), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(mask, float("-inf"))
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


class InfoNCE(nn.Module):
    """Symmetric InfoNCE with a fixed temperature or a learned logit scale (clamped to `max_scale`).

    Under DDP the rows of every rank are gathered and each rank computes the loss over the
    whole global batch.
    """

    def __init__(self, temperature: float = 0.07, learn_scale: bool = False, max_scale: float = 100.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.max_scale = float(max_scale)
        log_scale = torch.tensor(math.log(1.0 / temperature))
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    def scale(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)

    def forward(self, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        a, b = gather_with_grad(a), gather_with_grad(b)
        if labels is not None:
            labels = gather_no_grad(labels)
        return info_nce(a, b, self.scale(), labels)
