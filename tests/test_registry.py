"""The encoder registry: names, defaults, modality checks, lazy construction."""

from __future__ import annotations

import pytest

from bgtai.encoders.registry import DEFAULT_ENCODER, get_encoder, modality_of, names


def test_every_default_is_registered_for_its_modality() -> None:
    for modality, name in DEFAULT_ENCODER.items():
        assert name in names(modality)
        assert modality_of(name) == modality


def test_a_built_encoder_is_still_refused_for_another_modality() -> None:
    assert get_encoder("tiny-text").modality == "text"  # now cached in the registry
    with pytest.raises(ValueError, match="embeds text, not audio"):
        get_encoder("tiny-text", "audio")


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match="tiny-audio"):
        get_encoder("no-such-encoder")
