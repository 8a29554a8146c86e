"""Configurations of the joint model as dataclasses that round-trip through JSON.

A `JointConfig` names the frozen front-end of each modality (a registered encoder) and the
sizes of every trainable part: the language encoder shared by text and audio (or one per
modality), the image self-attention block, and the heads into the joint space.

    >>> config = JointConfig.tiny()
    >>> JointConfig.from_json(config.to_json()) == config
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from bgtai.encoders.base import MODALITIES
from bgtai.encoders.registry import HF_PREFIX, WIDTHS, names
from bgtai.model.language_encoder import LanguageEncoderConfig
from bgtai.strict_fields import require_known_fields

LANGUAGE_MODALITIES: tuple[str, ...] = ("text", "audio")  # the modalities the language encoder reads

# encoder name -> feature width: a compatibility alias of the registry's live view
# (`bgtai.encoders.registry.WIDTHS`); widths are registered with the encoders, never written here
KNOWN_DIMS: Mapping[str, int] = WIDTHS


@dataclass
class ImageBlockConfig:
    """BriVL's image block: input projection, post-norm transformer layers, mean pooling, two-layer MLP."""

    in_dim: int = 1280
    width: int = 256
    layers: int = 4
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.1
    max_patches: int = 49  # learned position codes; EfficientNet-Lite0 at 224 px gives 7 x 7
    mlp_hidden: int = 512
    out_dim: int = 512

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"image width {self.width} is not divisible by heads {self.heads}")


@dataclass
class HeadsConfig:
    """Two-layer MLP heads into the joint space (L2-normalised); one shared language head or one per modality."""

    dim: int = 512
    hidden: int = 512
    shared_language_head: bool = True


@dataclass
class JointConfig:
    front_ends: dict[str, str] = field(
        default_factory=lambda: {"text": "minilm", "audio": "aisfx", "image": "efficientnet-lite0"}
    )
    front_end_dims: dict[str, int] = field(default_factory=dict)  # encoder name -> width; the registry fills gaps
    language: dict[str, Any] = field(default_factory=dict)  # LanguageEncoderConfig fields other than front-ends
    shared_language_encoder: bool = True
    # True: text is the frozen front-end's mean-pooled sentence embedding, unchanged (no trainable text parts),
    # and audio and images learn to land in that space (LiT-style "locked" tower); needs heads.dim = text width
    locked_text: bool = False
    image: ImageBlockConfig = field(default_factory=ImageBlockConfig)
    heads: HeadsConfig = field(default_factory=HeadsConfig)

    def __post_init__(self) -> None:
        if isinstance(self.image, dict):
            self.image = ImageBlockConfig(**self.image)
        if isinstance(self.heads, dict):
            self.heads = HeadsConfig(**self.heads)
        unknown = set(self.front_ends) - set(MODALITIES)
        if unknown:
            raise ValueError(f"front_ends has unknown modalities {sorted(unknown)}; known: {', '.join(MODALITIES)}")
        for modality, name in self.front_ends.items():
            if name not in self.front_end_dims:
                self.front_end_dims[name] = _registered_width(name, modality)
            if self.front_end_dims[name] <= 0:
                raise ValueError(f"front-end {name!r} ({modality}): give its feature width in front_end_dims")
        if "image" in self.front_ends and self.image.in_dim != self.dim_of("image"):
            self.image.in_dim = self.dim_of("image")
        reserved = {"feature_frontends", "token_frontends", "frontend_layers", "frontend_stride"} & set(self.language)
        if reserved:
            raise ValueError(f"language settings {sorted(reserved)} are derived from front_ends; do not set them")
        if self.locked_text:
            if "text" not in self.front_ends:
                raise ValueError("locked_text needs a text front-end")
            if self.heads.dim != self.dim_of("text"):
                raise ValueError(
                    f"locked_text keeps the text front-end's space: heads.dim must be {self.dim_of('text')} "
                    f"({self.front_ends['text']}'s width), not {self.heads.dim}"
                )
        if self.language_modalities:
            self.language_config(self.language_modalities[0])  # validates the sizes

    @property
    def modalities(self) -> list[str]:
        return [m for m in MODALITIES if m in self.front_ends]

    def dim_of(self, modality: str) -> int:
        return self.front_end_dims[self.front_ends[modality]]

    @property
    def language_modalities(self) -> list[str]:
        """The modalities that go through the language encoder (text and audio, less text when it is locked)."""
        return [m for m in LANGUAGE_MODALITIES if m in self.front_ends and not (m == "text" and self.locked_text)]

    def language_config(self, modality: str | None = None) -> LanguageEncoderConfig:
        """The language encoder's config: every language front-end when shared, else `modality`'s only."""
        names = self.language_modalities
        if not self.shared_language_encoder and modality is not None:
            names = [modality]
        frontends = {self.front_ends[m]: self.dim_of(m) for m in names}
        return LanguageEncoderConfig(feature_frontends=frontends, **self.language)

    def language_width(self) -> int:
        return self.language_config().width

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JointConfig:
        require_known_fields(cls, data, "joint-model settings")
        return cls(**json.loads(json.dumps(data)))  # a deep copy: the config never aliases the caller's dicts

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JointConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def tiny(cls, **overrides: Any) -> JointConfig:
        """A few-thousand-parameter model over the `tiny-*` test encoders (16-d), for tests and demos."""
        settings: dict[str, Any] = {
            "front_ends": {"text": "tiny-text", "audio": "tiny-audio", "image": "tiny-image"},
            "language": {"width": 16, "layers": 1, "heads": 2, "ffn": 32, "dropout": 0.0},
            "image": {
                "width": 16,
                "layers": 2,
                "heads": 2,
                "ffn": 32,
                "dropout": 0.0,
                "max_patches": 64,
                "mlp_hidden": 16,
                "out_dim": 16,
            },
            "heads": {"dim": 8, "hidden": 16},
        }
        settings.update(overrides)
        return cls.from_dict(settings)


def _registered_width(name: str, modality: str) -> int:
    """The width the registry knows for front-end `name`; a ValueError listing the known ones otherwise."""
    if name in WIDTHS:
        return WIDTHS[name]
    if name.startswith(HF_PREFIX):
        raise ValueError(f"front-end {name!r} ({modality}): give its feature width in front_end_dims")
    raise ValueError(
        f"front-end {name!r} ({modality}) is not a registered encoder; known: {', '.join(names())} "
        "(register it with bgtai.encoders.register, or give its feature width in front_end_dims)"
    )
