"""DDIM sampling from the embedding decoder, with classifier-free guidance, and its `ImageGenerator`.

Guidance mixes the conditional and unconditional noise predictions,
eps = eps_uncond + scale * (eps_cond - eps_uncond) (Ho & Salimans, 2022): scale 1 is the plain
conditional model, larger values follow the condition more closely at some cost in variety.
The zero vector is the unconditional input (what condition dropout trained).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from bgtai.generate.base import Condition
from bgtai.generate.decoder import EmbeddingDecoder
from bgtai.generate.pictures import to_images

DEFAULT_STEPS = 25
DEFAULT_GUIDANCE = 3.0


@torch.no_grad()
def sample(
    decoder: EmbeddingDecoder,
    vectors: np.ndarray,
    seed: int,
    steps: int = DEFAULT_STEPS,
    guidance: float = DEFAULT_GUIDANCE,
    batch_size: int = 32,
) -> np.ndarray:
    """(N, 3, S, S) pictures in [-1, 1], one per row of `vectors` (N, D); row i depends only on (seed, i)."""
    from diffusers import DDIMScheduler

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != decoder.config.condition_dim:
        raise ValueError(f"condition vectors must be (N, {decoder.config.condition_dim}), got {vectors.shape}")
    size = decoder.config.size
    # each picture's starting noise from its own generator: the same (seed, i) gives the same picture in any batch
    noise = (
        torch.stack(
            [
                torch.randn((3, size, size), generator=torch.Generator().manual_seed(seed * 1_000_003 + i))
                for i in range(len(vectors))
            ]
        )
        if len(vectors)
        else torch.zeros((0, 3, size, size))
    )
    scheduler = DDIMScheduler(**decoder.scheduler_config())
    scheduler.set_timesteps(steps)
    was_training = decoder.training
    decoder.eval()
    out = []
    try:
        for start in range(0, len(vectors), batch_size):
            condition = torch.from_numpy(vectors[start : start + batch_size])
            x = noise[start : start + batch_size].clone()
            for t in scheduler.timesteps:
                x = scheduler.step(_guided_noise(decoder, x, t, condition, guidance), t, x, eta=0.0).prev_sample
            out.append(x.clamp(-1, 1))
    finally:
        decoder.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 3, size, size), dtype=np.float32)


def _guided_noise(
    decoder: EmbeddingDecoder, x: torch.Tensor, t: torch.Tensor, condition: torch.Tensor, guidance: float
) -> torch.Tensor:
    timesteps = torch.full((len(x),), int(t), dtype=torch.long)
    if guidance == 1.0:
        return decoder(x, timesteps, condition)
    both = decoder(
        torch.cat([x, x]), torch.cat([timesteps, timesteps]), torch.cat([condition, torch.zeros_like(condition)])
    )
    conditional, unconditional = both.chunk(2)
    return unconditional + guidance * (conditional - unconditional)


class DecoderGenerator:
    """`ImageGenerator` over a trained embedding decoder: reads `condition.vector`, ignores prompts."""

    def __init__(
        self,
        decoder: EmbeddingDecoder,
        steps: int = DEFAULT_STEPS,
        guidance: float = DEFAULT_GUIDANCE,
        name: str = "decoder",
    ) -> None:
        self.decoder = decoder
        self.steps = steps
        self.guidance = guidance
        self.name = name

    def generate(self, condition: Condition, n: int, seed: int) -> list[Image.Image]:
        vectors = np.repeat(condition.vector[None, :], n, axis=0)
        return to_images(sample(self.decoder, vectors, seed, self.steps, self.guidance))

    def generate_many(self, vectors: np.ndarray, seed: int) -> list[Image.Image]:
        """One picture per row of `vectors`, batched (what the evaluation uses)."""
        return to_images(sample(self.decoder, vectors, seed, self.steps, self.guidance))
