"""Encoders by name. Construction is lazy: weights load on first use, not at import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bgtai.encoders.base import Encoder, Modality

_FACTORIES: dict[str, tuple[Modality, Callable[..., Encoder]]] = {}
_INSTANCES: dict[str, Encoder] = {}

DEFAULT_ENCODER: dict[Modality, str] = {"text": "minilm", "audio": "aisfx", "image": "efficientnet-lite0"}


def register(name: str, modality: Modality, factory: Callable[..., Encoder]) -> None:
    _FACTORIES[name] = (modality, factory)


def names(modality: Modality | None = None) -> list[str]:
    _load_builtins()
    return sorted(n for n, (m, _) in _FACTORIES.items() if modality is None or m == modality)


def modality_of(name: str) -> Modality:
    _load_builtins()
    if name in _FACTORIES:
        return _FACTORIES[name][0]
    if name.startswith("hf:"):
        from bgtai.encoders.hf import hf_modality

        return hf_modality(name)
    raise KeyError(f"unknown encoder {name!r}; known: {', '.join(names())}")


def get_encoder(name: str | None = None, modality: Modality | None = None) -> Encoder:
    """The encoder called `name` (or the modality's default), built once per process.

    `hf:<hub id or local dir>[#modality]` builds the transformers adapter for that model.
    """
    _load_builtins()
    if name is None:
        if modality is None:
            raise ValueError("give an encoder name or a modality")
        name = DEFAULT_ENCODER[modality]
    if name in _INSTANCES:
        encoder = _INSTANCES[name]
    elif name.startswith("hf:"):
        from bgtai.encoders.hf import build_hf_encoder

        encoder = build_hf_encoder(name[3:], modality)
    elif name in _FACTORIES:
        encoder = _FACTORIES[name][1]()
    else:
        raise KeyError(f"unknown encoder {name!r}; known: {', '.join(names())} (or hf:<id or folder>)")
    if modality is not None and encoder.modality != modality:
        raise ValueError(f"encoder {name!r} embeds {encoder.modality}, not {modality}")
    _INSTANCES[name] = encoder
    return encoder


@dataclass(frozen=True)
class EncoderListing:
    name: str
    modality: Modality
    dim: int | None
    weights_present: bool
    description: str


_BUILTINS_LOADED = False


def _load_builtins() -> None:
    """Import the built-in encoder modules once; each registers itself."""
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    from bgtai.encoders import builtin  # noqa: F401
