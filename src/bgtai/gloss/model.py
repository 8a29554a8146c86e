"""Langue2Gloss (BGTAI eqs. 1-2): the language encoder, then an attention decoder emitting one gloss token at a time.

    o_1..N, h_L = Encoder(L)                                   (eq. 1, `LanguageEncoder`)
    gloss_m     = Decoder(h_L, attn(o_1..N), gloss_{m-1})      (eq. 2)

The decoder is a transformer decoder with a causal mask: each position m sees the gloss
tokens before it (teacher forcing in training, its own outputs when decoding), attends over
`o_1..N` (cross-attention, padding masked), and gets `h_L` added to every input position, so
the sentence summary conditions every step. Output projection tied to the token embedding.
With `tie_source` naming a token front-end, that front-end's embedding table *is* the decoder's
(one vocabulary on both sides, `Vocab.build_shared`): a source word and the gloss spelt the
same way start as one vector, which helps the many glosses that copy a word of the sentence.

Text and speech reach the decoder the same way: whatever the front-end, the encoder gives
a `LanguageEncoding(o, h, mask)` of one width.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from bgtai.gloss.vocab import PAD_ID
from bgtai.model.language_encoder import (
    LanguageEncoder,
    LanguageEncoderConfig,
    LanguageEncoding,
    sinusoidal_positions,
)


@dataclass
class GlossDecoderConfig:
    vocab_size: int
    layers: int = 3
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.1
    max_length: int = 120  # gloss tokens generated at most (without <bos>)


@dataclass
class Langue2GlossConfig:
    encoder: LanguageEncoderConfig
    decoder: GlossDecoderConfig
    label_smoothing: float = 0.1
    tie_source: str = ""  # a token front-end that shares the decoder's embedding table ("" = none)
    extra: dict[str, Any] = field(default_factory=dict)  # what the trainer wants to remember (front-end names...)

    def __post_init__(self) -> None:
        if self.tie_source:
            size = self.encoder.token_frontends.get(self.tie_source)
            if size is None:
                raise ValueError(f"tie_source {self.tie_source!r} is not a token front-end of the encoder")
            if size != self.decoder.vocab_size:
                raise ValueError(
                    f"tie_source {self.tie_source!r} has {size} tokens, the gloss vocabulary "
                    f"{self.decoder.vocab_size}: a shared table needs one vocabulary"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder.to_dict(),
            "decoder": asdict(self.decoder),
            "label_smoothing": self.label_smoothing,
            "tie_source": self.tie_source,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Langue2GlossConfig:
        return cls(
            encoder=LanguageEncoderConfig.from_dict(data["encoder"]),
            decoder=GlossDecoderConfig(**data["decoder"]),
            label_smoothing=float(data.get("label_smoothing", 0.1)),
            tie_source=str(data.get("tie_source", "")),
            extra=dict(data.get("extra", {})),
        )


def causal_mask(length: int, device: torch.device | None = None) -> Tensor:
    """(length, length) bool, True above the diagonal: position m may not attend to m' > m."""
    return torch.triu(torch.ones(length, length, dtype=torch.bool, device=device), diagonal=1)


class GlossDecoder(nn.Module):
    """Causal transformer decoder over gloss tokens with cross-attention to `o` and `h_L` as a bias."""

    def __init__(self, config: GlossDecoderConfig, width: int) -> None:
        super().__init__()
        self.config = config
        self.width = width
        self.embedding = nn.Embedding(config.vocab_size, width, padding_idx=PAD_ID)
        # tied with the output projection: unit-variance rows would give logits of std sqrt(width)
        nn.init.normal_(self.embedding.weight, std=width**-0.5)
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        self.summary = nn.Linear(width, width)  # h_L -> an additive bias on every decoder input
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerDecoderLayer(
            width, config.heads, config.ffn, config.dropout, batch_first=True, norm_first=True
        )
        self.layers = nn.TransformerDecoder(layer, config.layers)
        self.norm = nn.LayerNorm(width)

    def forward(self, encoding: LanguageEncoding, previous: Tensor) -> Tensor:
        """Logits (B, M, V) for the next token after each prefix of `previous` (B, M) (starts with <bos>)."""
        length = previous.shape[1]
        inputs = self.embedding(previous) * math.sqrt(self.width)
        inputs = (
            inputs + sinusoidal_positions(length, self.width, previous.device) + self.summary(encoding.h).unsqueeze(1)
        )
        memory_padding = ~encoding.mask
        # a source with no real position (cannot happen with real data) would give NaN attention
        memory_padding[:, 0] &= encoding.mask.any(dim=1)
        hidden = self.layers(
            self.dropout(inputs),
            encoding.o,
            tgt_mask=causal_mask(length, previous.device),
            tgt_is_causal=True,
            memory_key_padding_mask=memory_padding,
        )
        return self.norm(hidden) @ self.embedding.weight.T


class Langue2Gloss(nn.Module):
    """`encode(features, mask, frontend) -> LanguageEncoding`; `forward(..., previous) -> logits`."""

    def __init__(self, config: Langue2GlossConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = LanguageEncoder(config.encoder)
        self.decoder = GlossDecoder(config.decoder, config.encoder.width)
        if config.tie_source:  # both tables are initialised alike (std width**-0.5, scaled by sqrt(width) on lookup)
            self.encoder.embeddings[config.tie_source] = self.decoder.embedding

    def encode(self, features: Tensor, mask: Tensor, frontend: str) -> LanguageEncoding:
        return self.encoder(features, mask, frontend)

    def decode_logits(self, encoding: LanguageEncoding, previous: Tensor) -> Tensor:
        return self.decoder(encoding, previous)

    def forward(self, features: Tensor, mask: Tensor, frontend: str, previous: Tensor) -> Tensor:
        return self.decoder(self.encode(features, mask, frontend), previous)

    def loss(self, features: Tensor, mask: Tensor, frontend: str, targets: Tensor) -> Tensor:
        """Teacher-forced, label-smoothed cross-entropy; `targets` (B, M) = <bos> gloss... <eos> <pad>..."""
        logits = self(features, mask, frontend, targets[:, :-1])
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            targets[:, 1:].reshape(-1),
            ignore_index=PAD_ID,
            label_smoothing=self.config.label_smoothing,
        )
