"""The language encoder: shapes, padding, layer weighting, and that front-ends share one output interface."""

from __future__ import annotations

import pytest
import torch

from bgtai.model.language_encoder import (
    LanguageEncoder,
    LanguageEncoderConfig,
    LanguageEncoding,
)


def _encoder(**extra: object) -> LanguageEncoder:
    torch.manual_seed(0)
    config = LanguageEncoderConfig(
        feature_frontends={"text": 12, "speech": 10},
        token_frontends={"de": 30},
        width=16,
        layers=1,
        heads=2,
        ffn=32,
        dropout=0.0,
        **extra,
    )
    return LanguageEncoder(config).eval()


def test_text_speech_and_tokens_give_the_same_interface() -> None:
    encoder = _encoder(frontend_stride={"speech": 2})
    text = encoder(torch.randn(2, 5, 12), torch.ones(2, 5, dtype=torch.bool), "text")
    speech = encoder(torch.randn(2, 9, 10), torch.ones(2, 9, dtype=torch.bool), "speech")
    tokens = encoder(torch.randint(4, 30, (2, 4)), torch.ones(2, 4, dtype=torch.bool), "de")
    for out in (text, speech, tokens):
        assert isinstance(out, LanguageEncoding)
        assert out.o.dtype == torch.float32 and out.o.shape[0] == 2 and out.o.shape[2] == 16
        assert out.h.shape == (2, 16)
        assert out.mask.shape == out.o.shape[:2]
    assert speech.o.shape[1] == 5  # 9 frames averaged in pairs


def test_padding_does_not_change_the_real_positions() -> None:
    encoder = _encoder()
    features = torch.randn(1, 4, 12)
    alone = encoder(features, torch.ones(1, 4, dtype=torch.bool), "text")
    padded_features = torch.cat([features, 100 * torch.randn(1, 3, 12)], dim=1)
    mask = torch.tensor([[True] * 4 + [False] * 3])
    padded = encoder(padded_features, mask, "text")
    assert torch.allclose(alone.o[0], padded.o[0, :4], atol=1e-5)
    assert torch.allclose(alone.h, padded.h, atol=1e-5)
    assert torch.all(padded.o[0, 4:] == 0)


def test_attention_pooling_ignores_padding() -> None:
    encoder = _encoder(pooling="attention")
    features = torch.randn(1, 3, 12)
    a = encoder(features, torch.ones(1, 3, dtype=torch.bool), "text").h
    b = encoder(torch.cat([features, torch.randn(1, 2, 12)], 1), torch.tensor([[True] * 3 + [False] * 2]), "text").h
    assert torch.allclose(a, b, atol=1e-5)


def test_layer_weights_start_as_the_mean_and_are_learned() -> None:
    config = LanguageEncoderConfig(
        feature_frontends={"text": 6}, frontend_layers={"text": 3}, width=8, layers=1, heads=2, ffn=16, dropout=0.0
    )
    encoder = LanguageEncoder(config)
    layers = torch.randn(2, 3, 4, 6)
    mixed = encoder.layer_weights["text"](layers)
    assert torch.allclose(mixed, layers.mean(dim=1), atol=1e-6)
    out = encoder(layers, torch.ones(2, 4, dtype=torch.bool), "text")
    out.h.sum().backward()
    assert encoder.layer_weights["text"].logits.grad is not None


def test_bad_front_end_and_shapes_are_refused() -> None:
    encoder = _encoder()
    with pytest.raises(ValueError, match="unknown front-end"):
        encoder(torch.randn(1, 2, 12), torch.ones(1, 2, dtype=torch.bool), "video")
    with pytest.raises(ValueError, match=r"\(B, T, 12\)"):
        encoder(torch.randn(1, 2, 7), torch.ones(1, 2, dtype=torch.bool), "text")
    with pytest.raises(ValueError, match="front-end names used twice"):
        LanguageEncoderConfig(feature_frontends={"x": 3}, token_frontends={"x": 3})


def test_zero_layers_is_a_per_position_map_without_context() -> None:
    torch.manual_seed(0)
    encoder = LanguageEncoder(
        LanguageEncoderConfig(feature_frontends={"f": 6}, width=8, layers=0, heads=2, ffn=16, dropout=0.0)
    ).eval()
    assert encoder.transformer is None
    features = torch.randn(1, 5, 6)
    mask = torch.ones(1, 5, dtype=torch.bool)
    changed = features.clone()
    changed[0, 4] += 3.0  # only the last position differs
    a, b = encoder(features, mask, "f").o, encoder(changed, mask, "f").o
    # without context, a change at one position leaves every other position as it was
    assert torch.allclose(a[0, :4], b[0, :4]) and not torch.allclose(a[0, 4], b[0, 4])
    with pytest.raises(ValueError, match="layers must be >= 0"):
        LanguageEncoderConfig(feature_frontends={"f": 6}, layers=-1)
