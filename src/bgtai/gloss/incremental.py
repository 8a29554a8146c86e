"""Token-by-token decoding with cached keys and values: the same logits as `GlossDecoder.forward`, cheaper.

A full forward over the prefix at every decoding step redoes all earlier positions, so a
gloss of M tokens costs O(M^2) position passes. Here each step runs one new position
through the decoder's own layers (same weights, same pre-norm order as
`nn.TransformerDecoderLayer(norm_first=True)`): its self-attention reads the keys and values
cached for the earlier positions, and the cross-attention keys and values over `o` are
projected once per sentence. Inference only: dropout is skipped, so the model must be in
eval mode (as decoding always is).

The cache rows can be reordered (`reorder`) so beam search can follow the beams it keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional

from bgtai.model.language_encoder import LanguageEncoding, sinusoidal_positions


def _projections(attention: nn.MultiheadAttention) -> tuple[Tensor, ...]:
    """(W_q, W_k, W_v, b_q, b_k, b_v) of a packed-projection attention module."""
    weights = attention.in_proj_weight.chunk(3)
    biases = attention.in_proj_bias.chunk(3) if attention.in_proj_bias is not None else (None, None, None)
    return (*weights, *biases)


def _split_heads(x: Tensor, heads: int) -> Tensor:
    batch, length, width = x.shape
    return x.view(batch, length, heads, width // heads).transpose(1, 2)


@dataclass
class _LayerCache:
    self_keys: Tensor  # (B, H, t, d): one column per decoded position
    self_values: Tensor
    cross_keys: Tensor  # (B, H, N, d): over the source positions, fixed for the sentence
    cross_values: Tensor


class IncrementalDecoder:
    """`step(tokens)` -> logits (B, V) of the token after the prefix decoded so far (including `tokens`)."""

    def __init__(self, decoder: nn.Module, encoding: LanguageEncoding) -> None:
        if decoder.training:
            raise ValueError("incremental decoding skips dropout: put the model in eval mode first")
        self.decoder = decoder
        self.heads = decoder.config.heads
        self.summary = decoder.summary(encoding.h).unsqueeze(1)  # (B, 1, width)
        # the same guard as GlossDecoder.forward: a row with no real source position attends to position 0
        padding = ~encoding.mask
        padding[:, 0] &= encoding.mask.any(dim=1)
        self.cross_mask = (~padding)[:, None, None, :]  # (B, 1, 1, N) True where attending is allowed
        self.positions = sinusoidal_positions(decoder.config.max_length + 2, decoder.width, encoding.o.device)
        self.length = 0
        self.layers: list[_LayerCache] = []
        batch = encoding.o.shape[0]
        for layer in decoder.layers.layers:
            _, w_k, w_v, _, b_k, b_v = _projections(layer.multihead_attn)
            empty = encoding.o.new_zeros(batch, self.heads, 0, decoder.width // self.heads)
            self.layers.append(
                _LayerCache(
                    empty,
                    empty,
                    _split_heads(functional.linear(encoding.o, w_k, b_k), self.heads),
                    _split_heads(functional.linear(encoding.o, w_v, b_v), self.heads),
                )
            )

    def reorder(self, rows: Tensor) -> None:
        """Keep cache rows `rows` (in that order): the beams beam search carries on."""
        self.summary = self.summary[rows]
        self.cross_mask = self.cross_mask[rows]
        for cache in self.layers:
            cache.self_keys, cache.self_values = cache.self_keys[rows], cache.self_values[rows]
            cache.cross_keys, cache.cross_values = cache.cross_keys[rows], cache.cross_values[rows]

    def _attend(
        self, attention: nn.MultiheadAttention, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor | None
    ) -> Tensor:
        w_q, _, _, b_q, _, _ = _projections(attention)
        q = _split_heads(functional.linear(query, w_q, b_q), self.heads)
        out = functional.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        batch, heads, length, size = out.shape
        return attention.out_proj(out.transpose(1, 2).reshape(batch, length, heads * size))

    @torch.no_grad()
    def step(self, tokens: Tensor) -> Tensor:
        decoder = self.decoder
        x = decoder.embedding(tokens[:, None]) * math.sqrt(decoder.width)
        if self.length >= len(self.positions):  # callers may decode past the configured max_length
            self.positions = sinusoidal_positions(2 * len(self.positions), decoder.width, x.device)
        x = x + self.positions[self.length] + self.summary
        for layer, cache in zip(decoder.layers.layers, self.layers):
            normed = layer.norm1(x)
            _, w_k, w_v, _, b_k, b_v = _projections(layer.self_attn)
            cache.self_keys = torch.cat(
                [cache.self_keys, _split_heads(functional.linear(normed, w_k, b_k), self.heads)], 2
            )
            cache.self_values = torch.cat(
                [cache.self_values, _split_heads(functional.linear(normed, w_v, b_v), self.heads)], 2
            )
            x = x + self._attend(layer.self_attn, normed, cache.self_keys, cache.self_values, None)
            x = x + self._attend(
                layer.multihead_attn, layer.norm2(x), cache.cross_keys, cache.cross_values, self.cross_mask
            )
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm3(x))))
        self.length += 1
        return (decoder.norm(x) @ decoder.embedding.weight.T)[:, 0]
