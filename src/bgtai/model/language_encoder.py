"""The trainable language encoder (SpeechLM's "shared transformer"): text or speech in, `o_1..N` and `h_L` out.

Each front-end gets its own input stage into one shared width:

- a *feature* front-end (frozen encoder states such as `minilm` token states or
  `whisper-tiny-en` frames) has a linear projection; when its features come with several
  layers, `(B, L, T, D)`, a learned softmax-weighted average over the layers comes first
  (UniBriVL's layer weighting); an optional `stride` averages groups of frames (speech has
  ~50 frames a second, far more than words);
- a *token* front-end (learned embeddings, for languages the frozen front-ends do not cover,
  such as German) looks token ids `(B, T)` up in its own embedding table.

A small transformer encoder over the sequence (sinusoidal positions, padding mask) is
shared by all front-ends, so text and speech land in one representation. `h_L` is the
masked mean of `o`, or attention pooling with a learned query.

    >>> config = LanguageEncoderConfig(feature_frontends={"minilm": 384}, token_frontends={"de": 1000}, width=64)
    >>> encoder = LanguageEncoder(config)
    >>> out = encoder(torch.randn(2, 7, 384), torch.ones(2, 7, dtype=torch.bool), "minilm")
    >>> tuple(out.o.shape), tuple(out.h.shape)
    ((2, 7, 64), (2, 64))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor, nn

Pooling = Literal["mean", "attention"]


@dataclass
class LanguageEncoderConfig:
    """Sizes of the language encoder; `feature_frontends` and `token_frontends` name its inputs."""

    feature_frontends: dict[str, int] = field(default_factory=dict)  # name -> feature width D_in
    token_frontends: dict[str, int] = field(default_factory=dict)  # name -> vocabulary size
    frontend_layers: dict[str, int] = field(default_factory=dict)  # name -> layers given, when several
    frontend_stride: dict[str, int] = field(default_factory=dict)  # name -> frames averaged into one
    width: int = 256
    layers: int = 3
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.1
    pooling: Pooling = "mean"
    padding_id: int = 0  # token id that token front-ends treat as padding

    def __post_init__(self) -> None:
        overlap = set(self.feature_frontends) & set(self.token_frontends)
        if overlap:
            raise ValueError(f"front-end names used twice (feature and token): {sorted(overlap)}")
        if self.layers < 0:
            raise ValueError(f"layers must be >= 0 (0: no transformer), got {self.layers}")
        if not self.feature_frontends and not self.token_frontends:
            raise ValueError("the language encoder needs at least one front-end")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {self.pooling!r}")
        for name in list(self.frontend_layers) + list(self.frontend_stride):
            if name not in self.feature_frontends:
                raise ValueError(f"layer weighting and stride apply to feature front-ends; {name!r} is not one")

    @property
    def frontends(self) -> list[str]:
        return sorted(self.feature_frontends) + sorted(self.token_frontends)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanguageEncoderConfig:
        return cls(**data)


@dataclass
class LanguageEncoding:
    """`o`: (B, N, width) per position; `h`: (B, width) pooled; `mask`: (B, N) True at real positions."""

    o: Tensor
    h: Tensor
    mask: Tensor


def sinusoidal_positions(length: int, width: int, device: torch.device | None = None) -> Tensor:
    """(length, width) fixed sine/cosine position codes (any length, nothing to learn)."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, width, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / width))
    codes = torch.zeros(length, width, device=device)
    codes[:, 0::2] = torch.sin(position * rate)
    codes[:, 1::2] = torch.cos(position * rate[: width // 2])
    return codes


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of (B, N, D) over the positions where the (B, N) mask is True; zeros for an empty row."""
    weights = mask.to(values.dtype).unsqueeze(-1)
    return (values * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class LayerWeights(nn.Module):
    """Softmax-weighted average over a front-end's layers: (B, L, T, D) -> (B, T, D)."""

    def __init__(self, layers: int) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(layers))  # starts as the plain mean

    def forward(self, features: Tensor) -> Tensor:
        if features.shape[1] != self.logits.numel():
            raise ValueError(f"expected {self.logits.numel()} layers, got {features.shape[1]}")
        weights = torch.softmax(self.logits, dim=0)
        return torch.einsum("bltd,l->btd", features, weights)


class AttentionPooling(nn.Module):
    """One learned query attends over the real positions."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.query = nn.Parameter(torch.randn(width) / math.sqrt(width))

    def forward(self, values: Tensor, mask: Tensor) -> Tensor:
        scores = (values @ self.query) / math.sqrt(values.shape[-1])
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)  # an all-padding row pools to zeros
        return torch.einsum("bn,bnd->bd", weights, values)


class LanguageEncoder(nn.Module):
    """Front-end input stages, then one shared transformer: `forward(features, mask, frontend)`."""

    def __init__(self, config: LanguageEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.projections = nn.ModuleDict(
            {name: nn.Linear(dim, config.width) for name, dim in config.feature_frontends.items()}
        )
        self.layer_weights = nn.ModuleDict({name: LayerWeights(n) for name, n in config.frontend_layers.items()})
        self.embeddings = nn.ModuleDict(
            {
                name: nn.Embedding(size, config.width, padding_idx=config.padding_id)
                for name, size in config.token_frontends.items()
            }
        )
        for table in self.embeddings.values():  # scaled by sqrt(width) on lookup, as in the transformer paper
            nn.init.normal_(table.weight, std=config.width**-0.5)
            with torch.no_grad():
                table.weight[config.padding_id].zero_()
        self.input_norm = nn.LayerNorm(config.width)
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(
            config.width, config.heads, config.ffn, config.dropout, batch_first=True, norm_first=True
        )
        # layers = 0: no contextualisation, o_t is the normalised projected input (a per-frame MLP ablation)
        self.transformer = (
            nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False) if config.layers > 0 else None
        )
        self.output_norm = nn.LayerNorm(config.width)
        self.pool = AttentionPooling(config.width) if config.pooling == "attention" else None

    def embed_inputs(self, features: Tensor, mask: Tensor, frontend: str) -> tuple[Tensor, Tensor]:
        """The front-end's (B, T', width) input sequence and its mask (T' < T when strided)."""
        config = self.config
        if frontend in self.embeddings:
            if features.dim() != 2 or features.dtype not in (torch.int32, torch.int64):
                raise ValueError(
                    f"token front-end {frontend!r} takes (B, T) integer ids, got {tuple(features.shape)} {features.dtype}"
                )
            return self.embeddings[frontend](features) * math.sqrt(config.width), mask
        if frontend not in self.projections:
            raise ValueError(f"unknown front-end {frontend!r}; this encoder has {', '.join(config.frontends)}")
        if frontend in self.layer_weights:
            if features.dim() != 4:
                raise ValueError(
                    f"front-end {frontend!r} takes (B, layers, T, D) features, got {tuple(features.shape)}"
                )
            features = self.layer_weights[frontend](features)
        if features.dim() != 3 or features.shape[-1] != config.feature_frontends[frontend]:
            raise ValueError(
                f"front-end {frontend!r} takes (B, T, {config.feature_frontends[frontend]}) features, got {tuple(features.shape)}"
            )
        stride = config.frontend_stride.get(frontend, 1)
        if stride > 1:
            features, mask = _average_frames(features.float(), mask, stride)
        return self.projections[frontend](features.float()), mask

    def forward(self, features: Tensor, mask: Tensor, frontend: str) -> LanguageEncoding:
        mask = mask.bool()
        inputs, mask = self.embed_inputs(features, mask, frontend)
        inputs = inputs + sinusoidal_positions(inputs.shape[1], self.config.width, inputs.device)
        hidden = self.dropout(self.input_norm(inputs))
        # a row with no real position would make attention NaN; let it see position 0 (its output is masked anyway)
        attend = mask.clone()
        attend[:, 0] |= ~mask.any(dim=1)
        if self.transformer is not None:
            hidden = self.transformer(hidden, src_key_padding_mask=~attend)
        o = self.output_norm(hidden)
        o = o * mask.unsqueeze(-1).to(o.dtype)
        h = self.pool(o, mask) if self.pool is not None else masked_mean(o, mask)
        return LanguageEncoding(o=o, h=h, mask=mask)


def _average_frames(features: Tensor, mask: Tensor, stride: int) -> tuple[Tensor, Tensor]:
    """Average each run of `stride` real frames: (B, T, D) -> (B, ceil(T/stride), D), padding left out."""
    batch, length, dim = features.shape
    pad = (-length) % stride
    if pad:
        features = torch.nn.functional.pad(features, (0, 0, 0, pad))
        mask = torch.nn.functional.pad(mask, (0, pad), value=False)
    weights = mask.to(features.dtype).reshape(batch, -1, stride, 1)
    grouped = features.reshape(batch, -1, stride, dim)
    counts = weights.sum(2)
    return (grouped * weights).sum(2) / counts.clamp_min(1.0), counts.squeeze(-1) > 0
