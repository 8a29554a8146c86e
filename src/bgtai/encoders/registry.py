"""Encoders by name: the one place that knows each encoder's modality and feature width.

    >>> from bgtai.encoders.registry import dim_of, modality_of
    >>> modality_of("tiny-audio"), dim_of("tiny-audio")
    ('audio', 16)

`register(name, modality, factory, dim=...)` records an `EncoderSpec`; nothing is built then.
Construction is lazy: `get_encoder` calls the factory on first use (weights load then, not at
import), so a joint model can be sized from `dim_of` without loading any encoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from bgtai.encoders.base import MODALITIES, Encoder, Modality, check_modality

HF_PREFIX = "hf:"  # `hf:<hub id or local folder>[#modality]`: any transformers model, width known once loaded

DEFAULT_ENCODER: dict[Modality, str] = {"text": "minilm", "audio": "aisfx", "image": "efficientnet-lite0"}


@dataclass(frozen=True)
class EncoderSpec:
    """A registered encoder: its name, what it embeds, its feature width, and how to build it."""

    name: str
    modality: Modality
    dim: int
    factory: Callable[[], Encoder]


class UnknownEncoderError(KeyError):
    """A name no encoder is registered under (a KeyError, as dict lookups raise), with a readable message."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_SPECS: dict[str, EncoderSpec] = {}
_INSTANCES: dict[str, Encoder] = {}


def register(
    name: str, modality: Modality, factory: Callable[[], Encoder], *, dim: int, replace: bool = False
) -> EncoderSpec:
    """Make `name` an encoder of `modality` whose sequences are (T, `dim`); `factory()` builds it when first used.

    A name registered twice is an error unless `replace=True` (then the old spec and any built
    instance are dropped).
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ValueError(f"encoder name must be a non-empty string without surrounding spaces, got {name!r}")
    if name.startswith(HF_PREFIX):
        raise ValueError(f"encoder name {name!r}: the prefix {HF_PREFIX!r} is reserved for transformers models")
    check_modality(modality)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"encoder {name!r}: dim must be a positive int (the feature width), got {dim!r}")
    if not callable(factory):
        raise TypeError(f"encoder {name!r}: factory must be callable, got {type(factory).__name__}")
    _load_builtins()
    if name in _SPECS and not replace:
        old = _SPECS[name]
        raise ValueError(
            f"encoder {name!r} is already registered ({old.modality}, {old.dim}-d); "
            "pick another name or pass replace=True"
        )
    _SPECS[name] = EncoderSpec(name, modality, dim, factory)
    _INSTANCES.pop(name, None)
    return _SPECS[name]


def unregister(name: str) -> None:
    """Forget `name` (and its built instance); for tests and plugins that register temporarily."""
    spec(name)
    del _SPECS[name]
    _INSTANCES.pop(name, None)


def names(modality: Modality | None = None) -> list[str]:
    _load_builtins()
    return sorted(n for n, s in _SPECS.items() if modality is None or s.modality == modality)


def spec(name: str) -> EncoderSpec:
    """The registration of `name`; an `UnknownEncoderError` listing the known names otherwise."""
    _load_builtins()
    if name in _SPECS:
        return _SPECS[name]
    hint = f" (or {HF_PREFIX}<id or folder>)" if not name.startswith(HF_PREFIX) else ""
    raise UnknownEncoderError(f"unknown encoder {name!r}; known: {', '.join(names())}{hint}")


def modality_of(name: str) -> Modality:
    if name.startswith(HF_PREFIX):
        from bgtai.encoders.hf import hf_modality

        return hf_modality(name)
    return spec(name).modality


def dim_of(name: str) -> int:
    """The feature width of a registered encoder, without building it (an `hf:` model's is known only once loaded)."""
    if name.startswith(HF_PREFIX):
        raise UnknownEncoderError(f"the width of {name!r} is known only once the model loads; give it explicitly")
    return spec(name).dim


def require_modality(encoder: Encoder, modality: Modality) -> Encoder:
    """`encoder` itself when it embeds `modality`; the one modality check of a call."""
    if encoder.modality != modality:
        raise ValueError(f"encoder {encoder.name!r} embeds {encoder.modality}, not {modality}")
    return encoder


def get_encoder(name: str | None = None, modality: Modality | None = None) -> Encoder:
    """The encoder called `name` (or the modality's default), built once per process.

    `hf:<hub id or local dir>[#modality]` builds the transformers adapter for that model.
    With `modality`, an encoder of another modality is refused (ValueError).
    """
    if name is None:
        if modality is None:
            raise ValueError("give an encoder name or a modality")
        name = DEFAULT_ENCODER[check_modality(modality)]
    if name in _INSTANCES:
        encoder = _INSTANCES[name]
    elif name.startswith(HF_PREFIX):
        from bgtai.encoders.hf import build_hf_encoder

        encoder = build_hf_encoder(name[len(HF_PREFIX) :], modality)
    else:
        encoder = _build(spec(name))
    if modality is not None:
        require_modality(encoder, modality)
    _INSTANCES[name] = encoder
    return encoder


def _build(registered: EncoderSpec) -> Encoder:
    """The factory's encoder, checked against its registration (a wrong width would poison the cache)."""
    encoder = registered.factory()
    if encoder.modality != registered.modality or encoder.dim != registered.dim:
        raise ValueError(
            f"encoder {registered.name!r} is registered as {registered.modality}, {registered.dim}-d, "
            f"but its factory built {encoder.modality}, {encoder.dim}-d: fix the registration"
        )
    return encoder


class RegisteredWidths(Mapping[str, int]):
    """A live read-only view, encoder name -> feature width, of every registered encoder."""

    def __getitem__(self, name: str) -> int:
        _load_builtins()
        if name not in _SPECS:
            raise KeyError(name)
        return _SPECS[name].dim

    def __iter__(self) -> Iterator[str]:
        return iter(names())

    def __len__(self) -> int:
        return len(names())


WIDTHS: Mapping[str, int] = RegisteredWidths()


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


__all__ = [
    "DEFAULT_ENCODER",
    "MODALITIES",
    "WIDTHS",
    "EncoderSpec",
    "UnknownEncoderError",
    "dim_of",
    "get_encoder",
    "modality_of",
    "names",
    "register",
    "require_modality",
    "spec",
    "unregister",
]
