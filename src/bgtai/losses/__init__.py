"""Contrastive losses for the joint space: symmetric InfoNCE, cross-modal MoCo, SLAVA pairwise.

Every loss is correct under `torch.distributed` (DDP): embeddings are gathered across
ranks, so a run on n processes computes the same loss and gradients as one process on the
same global batch. Outside a process group they are plain single-process losses.
"""

from __future__ import annotations

from bgtai.losses.infonce import InfoNCE, info_nce
from bgtai.losses.moco import CrossModalMoCo, momentum_update
from bgtai.losses.slava import (
    PAIR_TERMS,
    SLAVA_VARIANTS,
    PairwiseLoss,
    SlavaVariant,
    slava_terms,
)

__all__ = [
    "PAIR_TERMS",
    "SLAVA_VARIANTS",
    "CrossModalMoCo",
    "InfoNCE",
    "PairwiseLoss",
    "SlavaVariant",
    "info_nce",
    "momentum_update",
    "slava_terms",
]
