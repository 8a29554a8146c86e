"""Words for a text-to-image pipeline, read off a condition's place in the joint space.

UniBriVL drives Stable Diffusion with prompts derived from the sound (sec. 5). Here they are
the sound's nearest concept names: every candidate label (by default the bridges' AudioSet and
ImageNet class names, or the user's own list) is embedded as text by the same model, and the
k labels nearest the sound's vector become short picture prompts ("a photo of a dog"), best
first, each with its cosine. Nothing is random: ties keep the vocabulary's order.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bgtai.generate.base import Condition

DEFAULT_VOCABULARIES: tuple[str, ...] = ("audioset", "imagenet")
DEFAULT_TEMPLATE = "a photo of {}"
_ARTICLES = ("a ", "an ", "the ")


class ScoredPrompt(NamedTuple):
    """A picture prompt and its label's cosine with the condition; unpacks as (prompt, score)."""

    prompt: str  # "a photo of a dog"
    score: float  # cosine of the label's text vector ("Dog") with the condition vector


@dataclass(frozen=True)
class PromptVocabulary:
    """Candidate labels and their (L, D) unit text vectors; build once, use for many sounds."""

    labels: tuple[str, ...]
    vectors: np.ndarray

    @classmethod
    def build(cls, model: Any, labels: Sequence[str] | None = None) -> PromptVocabulary:
        """Embed `labels` (default: the bridges' vocabularies) with `model.encode("text", ...)`."""
        chosen = unique_labels(labels if labels is not None else vocabulary_labels())
        vectors = np.asarray(model.encode("text", list(chosen)), dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(chosen):
            raise ValueError(f"the model embedded {len(chosen)} labels as an array of shape {vectors.shape}")
        return cls(chosen, vectors)


# the candidates' vectors per model and label list, so a caller asking for many sounds' prompts embeds them once
_VOCABULARIES: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...] | None, PromptVocabulary]] = (
    weakref.WeakKeyDictionary()
)


def cached_vocabulary(model: Any, labels: Sequence[str] | None = None) -> PromptVocabulary:
    """`PromptVocabulary.build(model, labels)`, kept for as long as `model` lives."""
    key = tuple(labels) if labels is not None else None
    try:
        per_model = _VOCABULARIES.setdefault(model, {})
    except TypeError:  # a model that cannot be weakly referenced is embedded each time
        return PromptVocabulary.build(model, labels)
    if key not in per_model:
        per_model[key] = PromptVocabulary.build(model, labels)
    return per_model[key]


def vocabulary_labels(names: Sequence[str] = DEFAULT_VOCABULARIES) -> list[str]:
    """The class names of the bridges' label vocabularies `names`, in vocabulary then class order."""
    from bgtai.bridges.vocabulary import VOCABULARIES

    unknown = [n for n in names if n not in VOCABULARIES]
    if unknown:
        raise ValueError(f"unknown vocabularies {unknown}; known: {', '.join(VOCABULARIES)}")
    return [label for name in names for label in VOCABULARIES[name].names()]


def clean_label(label: str) -> str:
    """'Whimper (dog)' stays; underscores and runs of spaces become single spaces."""
    return re.sub(r"\s+", " ", str(label).replace("_", " ")).strip()


def unique_labels(labels: Sequence[str]) -> tuple[str, ...]:
    """Cleaned labels, blanks dropped, each kept once (case-insensitively) at its first place."""
    seen: set[str] = set()
    out: list[str] = []
    for label in labels:
        cleaned = clean_label(label)
        if cleaned and cleaned.lower() not in seen:
            seen.add(cleaned.lower())
            out.append(cleaned)
    if not out:
        raise ValueError("no candidate labels to make prompts from")
    return tuple(out)


def read_labels(path: str | Path) -> list[str]:
    """The user's own candidate labels: one a line, blank lines and lines starting with # ignored."""
    from bgtai.errors import BadInputError

    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(str(path), f"cannot read the label list ({error})") from error
    labels = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not labels:
        raise BadInputError(str(path), "holds no labels (one a line)")
    return labels


def picture_prompt(label: str, template: str = DEFAULT_TEMPLATE) -> str:
    """'Dog' -> 'a photo of a dog'; 'Vehicle horn, car horn, honking' -> 'a photo of a vehicle horn'.

    AudioSet names list synonyms after commas: the first is the name. An article is added by
    the first letter unless the label has one (mass nouns get one too: 'a rain' reads oddly to
    a person, not to a diffusion model).
    """
    cleaned = clean_label(label)
    name = (cleaned.split(",")[0].strip() or cleaned).lower()
    if not name.startswith(_ARTICLES):
        name = f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"
    return template.format(name)


def sound_prompts(
    model: Any,
    vector: np.ndarray,
    k: int = 3,
    labels: Sequence[str] | None = None,
    template: str = DEFAULT_TEMPLATE,
    vocabulary: PromptVocabulary | None = None,
) -> list[ScoredPrompt]:
    """The `k` labels nearest `vector` in the joint space as picture prompts, best first, with their cosines.

    Candidates are `labels` (default: the bridges' AudioSet + ImageNet names), embedded by
    `model.encode("text", ...)` once per model and label list (or pass a prebuilt `vocabulary`).
    Equal cosines keep the candidates' order, so the result is deterministic; a prompt that
    repeats a better one is skipped, so fewer than `k` come back only when the labels run out.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    vocabulary = vocabulary if vocabulary is not None else cached_vocabulary(model, labels)
    query = np.asarray(vector, dtype=np.float32)
    if query.ndim != 1 or query.shape[0] != vocabulary.vectors.shape[1] or not np.all(np.isfinite(query)):
        raise ValueError(
            f"the condition vector has shape {query.shape}; the labels live in {vocabulary.vectors.shape[1]} dimensions"
        )
    scores = vocabulary.vectors @ query
    out: list[ScoredPrompt] = []
    seen: set[str] = set()
    for i in sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i)):
        prompt = picture_prompt(vocabulary.labels[i], template)
        if prompt in seen:  # two labels that read the same ("Bark" in two vocabularies' spellings) give one prompt
            continue
        seen.add(prompt)
        out.append(ScoredPrompt(prompt, float(scores[i])))
        if len(out) == k:
            break
    return out


def sound_condition(
    model: Any,
    audio: str | Path,
    k: int = 3,
    labels: Sequence[str] | None = None,
    template: str = DEFAULT_TEMPLATE,
    vocabulary: PromptVocabulary | None = None,
) -> tuple[Condition, list[ScoredPrompt]]:
    """A sound file's condition (its joint-space vector, named by the file, with its k prompts) and the scored prompts."""
    vector = np.asarray(model.encode("audio", [str(audio)]), dtype=np.float32)[0]
    scored = sound_prompts(model, vector, k, labels, template, vocabulary)
    return Condition(vector=vector, source=Path(audio).name, prompts=tuple(p.prompt for p in scored)), scored
