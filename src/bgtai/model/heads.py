"""Projection heads into the joint space: a two-layer MLP with ReLU per modality, L2-normalised.

Text and audio share one `language` head by default (UniBriVL: one language representation);
`shared_language_head=False` gives each its own head (SLAVA trains separate projections).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from bgtai.model.config import LANGUAGE_MODALITIES, HeadsConfig


class MLPHead(nn.Module):
    def __init__(self, in_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(self.net(x), dim=-1)


class Heads(nn.Module):
    """`heads(modality, x)`: the (B, dim) unit-norm joint embedding of (B, in_dim) pooled features."""

    def __init__(self, config: HeadsConfig, in_dims: dict[str, int]) -> None:
        super().__init__()
        self.config = config
        self.by_modality: dict[str, str] = {}
        heads = {}
        for modality, in_dim in in_dims.items():
            name = "language" if config.shared_language_head and modality in LANGUAGE_MODALITIES else modality
            self.by_modality[modality] = name
            if name not in heads:
                heads[name] = MLPHead(in_dim, config.hidden, config.dim)
        self.heads = nn.ModuleDict(heads)

    def head_for(self, modality: str) -> MLPHead:
        if modality not in self.by_modality:
            raise ValueError(f"no head for {modality!r}; this model has {', '.join(self.by_modality)}")
        return self.heads[self.by_modality[modality]]  # type: ignore[return-value]

    def forward(self, modality: str, x: Tensor) -> Tensor:
        return self.head_for(modality)(x)
