"""Frozen front-ends behind one interface, found by name."""

from bgtai.encoders.base import Encoder, Modality
from bgtai.encoders.registry import get_encoder, modality_of, names, register

__all__ = ["Encoder", "Modality", "get_encoder", "modality_of", "names", "register"]
