"""Zero-shot classification: embed prompts for each class name, pick the class nearest to the audio.

Each class is represented by the normalised mean of its prompt embeddings (every template,
for the cleaned class name and any synonyms given); an item's scores are cosine
similarities to these class vectors. Works with any model that embeds audio (or images)
and text into one space (`JointEmbedder`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bgtai.eval.metrics import per_class_accuracy, top_k_accuracy

TEMPLATES: tuple[str, ...] = (
    "the sound of a {}",
    "a recording of {}",
    "a sound of {}",
    "{} can be heard",
    "this is the sound of {}",
)


@runtime_checkable
class JointEmbedder(Protocol):
    """Anything that embeds several modalities into one space: (N, D) float arrays, row i for input i."""

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray: ...


def clean_class_name(name: str) -> str:
    """'dog_bark' -> 'dog bark', 'car_horn' -> 'car horn', 'Crackling-fire' -> 'crackling fire'."""
    words = re.sub(r"[_\-]+", " ", name)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", words)  # camelCase -> camel case
    return re.sub(r"\s+", " ", words).strip().lower()


def class_prompts(
    classes: Sequence[str],
    templates: Sequence[str] = TEMPLATES,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> list[list[str]]:
    """For each class, every template filled with its cleaned name and each synonym."""
    if not templates or any("{}" not in t for t in templates):
        raise ValueError("every template needs one '{}' for the class name")
    prompts = []
    for name in classes:
        names = [clean_class_name(name)] + [clean_class_name(s) for s in (synonyms or {}).get(name, ())]
        prompts.append([t.format(n) for n in dict.fromkeys(names) for t in templates])
    return prompts


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("an embedding is all zeros: it has no direction to compare")
    return x / norms


def class_embeddings(model: JointEmbedder, prompts: Sequence[Sequence[str]]) -> np.ndarray:
    """(C, D): the normalised mean of each class's normalised prompt embeddings."""
    flat = [p for group in prompts for p in group]
    embedded = _normalise(model.encode("text", flat))
    if len(embedded) != len(flat):
        raise ValueError(f"model returned {len(embedded)} text embeddings for {len(flat)} prompts")
    bounds = np.cumsum([0] + [len(g) for g in prompts])
    return _normalise(np.stack([embedded[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])]))


@dataclass(frozen=True)
class ZeroShotResult:
    classes: list[str]
    scores: np.ndarray  # (N, C) cosine similarities
    predictions: list[str]
    metrics: dict[str, float]
    per_class: dict[str, float]


def zero_shot_classify(
    model: JointEmbedder,
    inputs: Sequence[Any],
    labels: Sequence[str],
    classes: Sequence[str] | None = None,
    modality: str = "audio",
    templates: Sequence[str] = TEMPLATES,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> ZeroShotResult:
    """Classify `inputs` among `classes` (default: the sorted distinct labels); top-1, top-5, per class."""
    labels = [str(label) for label in labels]
    classes = sorted(set(labels)) if classes is None else [str(c) for c in classes]
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels not among the classes: {unknown[:5]}")
    class_vectors = class_embeddings(model, class_prompts(classes, templates, synonyms))
    items = _normalise(model.encode(modality, inputs))
    if len(items) != len(labels):
        raise ValueError(f"model returned {len(items)} {modality} embeddings for {len(labels)} labels")
    scores = items @ class_vectors.T
    predictions = [classes[i] for i in np.argmax(scores, axis=1)]
    # top-1 uses the pessimistic tie rule of `top_k_accuracy`, so a constant model scores 0, not 1/C
    metrics = {"top1": top_k_accuracy(scores, labels, 1, classes=classes)}
    if len(classes) > 5:
        metrics["top5"] = top_k_accuracy(scores, labels, 5, classes=classes)
    return ZeroShotResult(classes, scores, predictions, metrics, per_class_accuracy(labels, predictions, classes))
