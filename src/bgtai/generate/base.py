"""The one interface every image generator implements, and what it is given.

A condition always carries the joint-space vector of the sound, sentence or picture it came
from (what the rerank scores against) and, for generators driven by words, the prompts made
from it. Our own decoder reads the vector; a diffusers text-to-image pipeline reads the prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Condition:
    """What to generate from.

    vector: (D,) unit float32 in the joint space (a sound's, a sentence's or a picture's).
    prompts: words for generators driven by text, best first (may be empty for our decoder).
    source: a short human name for sheets and errors ("dog.wav", "a dog barking").
    """

    vector: np.ndarray
    source: str
    prompts: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        vector = np.asarray(self.vector, dtype=np.float32)
        if vector.ndim != 1 or not np.all(np.isfinite(vector)):
            raise ValueError(
                f"{self.source}: a condition vector must be one finite 1-d vector, got shape {vector.shape}"
            )
        object.__setattr__(self, "vector", vector)


@dataclass(frozen=True)
class ScoredImage:
    """A generated picture with its joint-space cosine to the condition (higher: closer)."""

    image: Image.Image
    score: float
    index: int  # position among the generated candidates, before ranking


@runtime_checkable
class ImageGenerator(Protocol):
    """Makes `n` RGB pictures for one condition; the same seed gives the same pictures."""

    name: str

    def generate(self, condition: Condition, n: int, seed: int) -> list[Image.Image]: ...
