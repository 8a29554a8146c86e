"""An optional prior: move a sound's or a sentence's vector to where picture vectors live before decoding.

The decoder only ever saw picture vectors; a sound's vector of the same concept sits elsewhere
in the shared space (the modality gap), so unCLIP puts a prior network between text and image
embeddings. With a few hundred training pictures here, the prior is the simplest one that
cannot invent a region the decoder never saw: the score-weighted mean of the k training
pictures' vectors nearest the condition (softmax of cosine / temperature), renormalised. It is
an option to measure (`--prior`), not the default.
"""

from __future__ import annotations

import numpy as np


class NearestPicturePrior:
    def __init__(self, picture_vectors: np.ndarray, k: int = 8, temperature: float = 0.05) -> None:
        vectors = np.asarray(picture_vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError(f"the prior needs a non-empty (N, D) set of picture vectors, got shape {vectors.shape}")
        if k < 1 or temperature <= 0:
            raise ValueError("k must be >= 1 and temperature > 0")
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.k = min(k, len(vectors))
        self.temperature = temperature

    def __call__(self, conditions: np.ndarray) -> np.ndarray:
        """(M, D) condition vectors -> (M, D) unit vectors in the span of the nearest picture vectors."""
        conditions = np.atleast_2d(np.asarray(conditions, dtype=np.float32))
        cosines = conditions @ self.vectors.T
        nearest = np.argsort(-cosines, axis=1, kind="stable")[:, : self.k]
        chosen = np.take_along_axis(cosines, nearest, axis=1)
        weights = np.exp((chosen - chosen.max(axis=1, keepdims=True)) / self.temperature)
        weights /= weights.sum(axis=1, keepdims=True)
        mixed = np.einsum("mk,mkd->md", weights, self.vectors[nearest])
        return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


class WithPrior:
    """An `ImageGenerator` whose condition vectors go through a prior first (the rerank still scores the original)."""

    def __init__(self, generator, prior: NearestPicturePrior) -> None:
        self.generator = generator
        self.prior = prior
        self.name = f"{generator.name} + nearest-picture prior (k={prior.k})"

    def generate_many(self, vectors, seed: int):
        """Batched, when the wrapped generator can batch (our decoder): what the evaluation uses."""
        return self.generator.generate_many(self.prior(vectors), seed)

    def generate(self, condition, n: int, seed: int):
        from dataclasses import replace

        return self.generator.generate(replace(condition, vector=self.prior(condition.vector)[0]), n, seed)


def picture_prior(model, k: int = 8) -> NearestPicturePrior:
    """The prior over the generator's training pictures (`bgtai.generate.pictures`, training side), in `model`'s space."""
    from bgtai.generate.pictures import picture_set

    paths = [picture.path for picture in picture_set("train")]
    return NearestPicturePrior(model.encode("image", paths), k=k)
