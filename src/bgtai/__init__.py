"""bgtai: one embedding space for text, speech, sound, images and any sequence."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "encode", "encode_sequence", "load_model"]


def __getattr__(name: str) -> Any:
    # Import the embedding machinery (torch, models) only when it is used.
    if name in ("encode", "encode_sequence"):
        from bgtai import embed

        return getattr(embed, name)
    if name == "load_model":
        from bgtai.model.joint import load_model

        return load_model
    raise AttributeError(f"module 'bgtai' has no attribute {name!r}")
