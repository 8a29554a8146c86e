"""The one interface every frozen front-end implements.

An encoder turns one input into a *sequence* of feature vectors (tokens, frames, blocks,
patches), shape (T, dim); the pooled embedding is derived from that sequence by `pool`.
Caching stores the sequence, so both views come from one run of the model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal, get_args

import numpy as np

Modality = Literal["text", "audio", "image"]
# the one list of modalities, in this order everywhere (the registry, `bgtai.embed`, the joint model)
MODALITIES: tuple[Modality, ...] = get_args(Modality)


def check_modality(modality: str) -> Modality:
    """`modality` itself when it is one of MODALITIES; otherwise a ValueError naming them."""
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}: use one of {', '.join(MODALITIES)}")
    return modality  # type: ignore[return-value]


class Encoder(ABC):
    """A frozen front-end. Subclasses set `name`, `modality`, `dim` and implement the hooks."""

    name: ClassVar[str]
    modality: ClassVar[Modality]
    dim: int
    description: ClassVar[str] = ""

    # Audio encoders: the rate inputs are resampled to. Image encoders: the square input size.
    sample_rate: int | None = None
    image_size: int | None = None

    @abstractmethod
    def weights_present(self) -> bool:
        """True when the weights load offline (from an installed package or a local folder)."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Everything that changes the output: model id/revision and preprocessing. Part of the cache key."""

    @abstractmethod
    def prepare(self, item: Any) -> Any:
        """Decode and preprocess one input (raises `BadInputError` naming it). Runs outside the model batch."""

    @abstractmethod
    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        """Run the model on prepared inputs: one float32 (T_i, dim) array per input, in order."""

    def pool(self, sequence: np.ndarray) -> np.ndarray:
        """The clip/sentence/image vector from its sequence: the mean over positions by default."""
        return sequence.mean(axis=0, dtype=np.float64).astype(np.float32)

    def close(self) -> None:  # noqa: B027 - an optional hook: doing nothing is the right default
        """Release model memory (optional)."""
