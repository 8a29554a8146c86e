"""The paper's rerank (UniBriVL Fig. 4): score each candidate picture against the condition in the joint space."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from bgtai.generate.base import Condition, ScoredImage


def image_scores(model: Any, images: Sequence[Image.Image], vector: np.ndarray) -> np.ndarray:
    """(N,) cosine of each picture's joint-space vector with `vector` (both unit length)."""
    if not images:
        return np.zeros(0, dtype=np.float32)
    embedded = np.asarray(model.encode("image", list(images)), dtype=np.float32)
    return embedded @ np.asarray(vector, dtype=np.float32)


def rerank(model: Any, images: Sequence[Image.Image], condition: Condition) -> list[ScoredImage]:
    """The candidates best first; ties keep generation order (a stable sort), so the ranking is deterministic."""
    scores = image_scores(model, images, condition.vector)
    order = sorted(range(len(images)), key=lambda i: -float(scores[i]))
    return [ScoredImage(images[i], float(scores[i]), i) for i in order]
