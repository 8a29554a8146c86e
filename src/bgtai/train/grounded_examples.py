"""The grounded recipe, its training examples and its loss (`bgtai.train.grounded` trains with them).

The pairs are the joint-space pairs of `bgtai.data.pairs` (test items left out by content),
read as three tasks: audio-text (a clip and its caption), image-text (a picture and its
caption) and audio-image (a sound and a picture of the same thing or class). The validation
split is by pair group, so the pairs of one group fall on the same side.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.data.pairs import Pair, PairOptions
from bgtai.model.grounded import GroundedConfig
from bgtai.strict_fields import require_known_fields

KIND = "grounded"
TASKS: tuple[tuple[str, str, str], ...] = (
    ("audio-text", "audio", "text"),
    ("image-text", "image", "text"),
    ("audio-image", "audio", "image"),
)
TASKS_BY_NAME = {name: (name, left, right) for name, left, right in TASKS}


@dataclass
class GroundedRecipe:
    name: str
    description: str = ""
    kind: str = KIND
    model: dict[str, Any] = field(default_factory=dict)  # GroundedConfig fields
    data: dict[str, Any] = field(default_factory=dict)  # PairOptions fields
    epochs: int = 40
    lr: float = 1e-3
    weight_decay: float = 0.05
    batch_size: int = 256
    temperature: float = 0.05
    val_fraction: float = 0.1
    task_weights: dict[str, float] = field(
        default_factory=lambda: {"audio-text": 1.0, "image-text": 1.0, "audio-image": 0.5}
    )
    ridge_alphas: list[float] = field(default_factory=lambda: [1.0, 10.0, 100.0, 1000.0, 10000.0])
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundedRecipe:
        require_known_fields(cls, data, "grounded recipe")
        recipe = cls(**json.loads(json.dumps(data)))
        if recipe.kind != KIND:
            raise ValueError(f"kind must be {KIND!r}, not {recipe.kind!r}")
        (
            recipe.model_config(),
            recipe.pair_options(),
        )  # unknown or bad model and data settings fail here, before any work
        return recipe

    def model_config(self) -> GroundedConfig:
        return GroundedConfig.from_dict(self.model)

    def pair_options(self) -> PairOptions:
        return PairOptions.from_dict(self.data)


@dataclass
class Examples:
    """One task's training examples as indices into the embedded inputs of each side."""

    left: np.ndarray
    right: np.ndarray
    right_keys: list[str]  # equal keys are not negatives (the same caption, the same label)
    validation: np.ndarray  # bool per example


def _is_validation(group: str, fraction: float, seed: int) -> bool:
    digest = hashlib.blake2b(f"val:{seed}:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction


def task_examples(
    pairs: list[Pair], val_fraction: float, seed: int
) -> tuple[dict[str, list[Any]], dict[str, Examples]]:
    """The distinct inputs of each modality (paths and caption texts) and each task's examples."""
    inputs: dict[str, dict[str, int]] = {"audio": {}, "image": {}, "text": {}}

    def index(modality: str, value: Any) -> int:
        return inputs[modality].setdefault(str(value), len(inputs[modality]))

    rows: dict[str, list[tuple[int, int, str, bool]]] = {name: [] for name, _, _ in TASKS}
    for pair in pairs:
        validation = _is_validation(pair.group, val_fraction, seed)
        audio_text = pair.audio_caption or pair.caption
        visual_text = pair.visual_caption or pair.caption
        if pair.audio is not None and audio_text:
            rows["audio-text"].append((index("audio", pair.audio), index("text", audio_text), audio_text, validation))
        if pair.image is not None and visual_text:
            rows["image-text"].append((index("image", pair.image), index("text", visual_text), visual_text, validation))
        if pair.audio is not None and pair.image is not None:
            key = pair.label or str(pair.image)
            rows["audio-image"].append((index("audio", pair.audio), index("image", pair.image), key, validation))
    examples = {
        name: Examples(
            np.array([r[0] for r in got], dtype=np.int64),
            np.array([r[1] for r in got], dtype=np.int64),
            [r[2] for r in got],
            np.array([r[3] for r in got], dtype=bool),
        )
        for name, got in rows.items()
        if got
    }
    return {m: list(values) for m, values in inputs.items()}, examples


def info_nce(left: Tensor, right: Tensor, keys: list[str], temperature: float) -> Tensor:
    """Symmetric InfoNCE; columns whose key equals the row's key (other than the diagonal) are masked out."""
    logits = left @ right.T / temperature
    ids: dict[str, int] = {}
    key_ids = torch.tensor([ids.setdefault(k, len(ids)) for k in keys])
    same = (key_ids[:, None] == key_ids[None, :]) & ~torch.eye(len(keys), dtype=torch.bool)
    logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(len(keys))
    return 0.5 * (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target))
