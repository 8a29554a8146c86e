"""One modality's path through the joint model, from padded frozen features to the joint space.

`JointModel` keeps one tower per modality (`model.towers[modality]`) instead of branching on the
modality name in every method. A tower only *refers* to modules the model owns and registers
under their historical names (`language.*`, `image.*`, `heads.*`), so the state-dict keys of
saved models do not depend on this file; a tower is a plain object, not an `nn.Module`.

- `LanguageTower` (text, audio): the language encoder (shared or the modality's own) reads the
  front-end's features; its pooled `h_L` goes into the head, its per-position `o_1..N` too.
- `ImageTower`: the image block contextualises the patches, its MLP maps the mean (or each
  patch), then the image head.
- `LockedTextTower` (`locked_text`): the front-end's own normalised mean, nothing trained.
"""

from __future__ import annotations

from typing import Protocol

import torch.nn.functional as F
from torch import Tensor, nn

from bgtai.model.heads import MLPHead
from bgtai.model.image_block import ImageBlock
from bgtai.model.language_encoder import LanguageEncoder, masked_mean


class Tower(Protocol):
    def parts(self) -> list[nn.Module]:
        """The trainable modules this modality's embedding passes through (to freeze or train them)."""
        ...

    def pooled(self, features: Tensor, mask: Tensor) -> Tensor:
        """(B, width) features before the head."""
        ...

    def embed(self, features: Tensor, mask: Tensor) -> Tensor:
        """(B, d) unit-norm joint embeddings."""
        ...

    def embed_with_positions(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """`embed`'s (B, d), the per-position (B, T', d) embeddings and their (B, T') mask, in one pass."""
        ...


class LanguageTower:
    def __init__(self, encoder: LanguageEncoder, front_end: str, head: MLPHead) -> None:
        self.encoder = encoder
        self.front_end = front_end  # the language encoder keeps one input projection per front-end
        self.head = head

    def parts(self) -> list[nn.Module]:
        return [self.encoder, self.head]

    def pooled(self, features: Tensor, mask: Tensor) -> Tensor:
        return self.encoder(features, mask, self.front_end).h

    def embed(self, features: Tensor, mask: Tensor) -> Tensor:
        return self.head(self.pooled(features, mask))

    def embed_with_positions(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        encoding = self.encoder(features, mask, self.front_end)
        return self.head(encoding.h), self.head(encoding.o), encoding.mask


class ImageTower:
    def __init__(self, block: ImageBlock, head: MLPHead) -> None:
        self.block = block
        self.head = head

    def parts(self) -> list[nn.Module]:
        return [self.block, self.head]

    def pooled(self, features: Tensor, mask: Tensor) -> Tensor:
        return self.block(features, mask)

    def embed(self, features: Tensor, mask: Tensor) -> Tensor:
        return self.head(self.pooled(features, mask))

    def embed_with_positions(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        hidden, position_mask = self.block.contextualise(features, mask)
        pooled = self.block.mlp(masked_mean(hidden, position_mask))
        per_patch = self.block.mlp(hidden)
        return self.head(pooled), self.head(per_patch), position_mask


class LockedTextTower:
    """Text as the frozen front-end's mean token (for MiniLM, its sentence embedding), normalised."""

    def parts(self) -> list[nn.Module]:
        return []

    def pooled(self, features: Tensor, mask: Tensor) -> Tensor:
        return masked_mean(features.float(), mask.bool())

    def embed(self, features: Tensor, mask: Tensor) -> Tensor:
        return F.normalize(self.pooled(features, mask), dim=-1)

    def embed_with_positions(self, features: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.embed(features, mask), F.normalize(features.float(), dim=-1), mask.bool()
