"""Frozen front-ends behind one interface, found by name; each registered with its modality and width."""

from bgtai.encoders.base import MODALITIES, Encoder, Modality
from bgtai.encoders.registry import (
    EncoderSpec,
    dim_of,
    get_encoder,
    modality_of,
    names,
    register,
    spec,
    unregister,
)

__all__ = [
    "MODALITIES",
    "Encoder",
    "EncoderSpec",
    "Modality",
    "dim_of",
    "get_encoder",
    "modality_of",
    "names",
    "register",
    "spec",
    "unregister",
]
