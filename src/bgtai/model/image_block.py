"""BriVL's image block over frozen CNN patch features (UniBriVL sec. 3, eqs. 1-2).

Patch features (B, P, in_dim) are projected to `width`, given learned position codes, and
passed through post-norm transformer encoder layers, `T' = LN(T + MHA(T))`,
`T = LN(T' + FFN(T'))`; the real patches are averaged and a two-layer MLP with ReLU maps
the result to `out_dim`. The projection keeps the transformer small enough for a CPU: the
patches of EfficientNet-Lite0 are 1280-d.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from bgtai.model.config import ImageBlockConfig
from bgtai.model.language_encoder import masked_mean


class ImageBlock(nn.Module):
    def __init__(self, config: ImageBlockConfig) -> None:
        super().__init__()
        self.config = config
        self.project = nn.Linear(config.in_dim, config.width)
        self.positions = nn.Parameter(torch.zeros(config.max_patches, config.width))
        nn.init.normal_(self.positions, std=0.02)
        layer = nn.TransformerEncoderLayer(
            config.width, config.heads, config.ffn, config.dropout, batch_first=True, norm_first=False
        )
        self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.mlp = nn.Sequential(
            nn.Linear(config.width, config.mlp_hidden), nn.ReLU(), nn.Linear(config.mlp_hidden, config.out_dim)
        )

    def forward(self, patches: Tensor, mask: Tensor | None = None) -> Tensor:
        """(B, P, in_dim) patch features and their (B, P) mask of real patches -> (B, out_dim)."""
        hidden, mask = self.contextualise(patches, mask)
        return self.mlp(masked_mean(hidden, mask))

    def contextualise(self, patches: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(B, P, width) transformer outputs of the patches, and the boolean (B, P) mask of real patches."""
        if patches.dim() != 3 or patches.shape[-1] != self.config.in_dim:
            raise ValueError(f"image block takes (B, P, {self.config.in_dim}) patches, got {tuple(patches.shape)}")
        if patches.shape[1] > self.config.max_patches:
            raise ValueError(f"{patches.shape[1]} patches, more than max_patches = {self.config.max_patches}")
        if mask is None:
            mask = torch.ones(patches.shape[:2], dtype=torch.bool, device=patches.device)
        mask = mask.bool()
        attend = mask.clone()
        attend[:, 0] |= ~mask.any(dim=1)  # an empty row would make attention NaN
        hidden = self.project(patches.float()) + self.positions[: patches.shape[1]]
        return self.transformer(hidden, src_key_padding_mask=~attend), mask
