"""Which evaluation classes a pretrained label list already names: the honest split of zero-shot figures.

AudioSet's 521 and ImageNet's 1000 class names include many evaluation classes ("Dog",
"Church bell", "Siren"), so a bridge that reads those heads is zero-shot in training data but
not in label knowledge. The rule used here: a class is *named* by a vocabulary when the
cosine between the text encoder's embeddings of its plain name and of some label's plain name
(each comma-separated synonym of a label counted on its own) is at least `NAMED_THRESHOLD`; zero-shot
figures are then also reported on the classes no vocabulary names, where only what the trained space
learned can help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NAMED_THRESHOLD = 0.7  # MiniLM cosine of plain names; e.g. "dog" vs "Dog" 1.0, "can opening" vs its nearest label below


@dataclass(frozen=True)
class Coverage:
    name: str
    nearest_label: str
    vocabulary: str
    cosine: float

    @property
    def named(self) -> bool:
        return self.cosine >= NAMED_THRESHOLD


def label_coverage(
    classes: Sequence[str], vocabularies: Sequence[str] = ("audioset", "imagenet"), text_encoder: str = "minilm"
) -> dict[str, Coverage]:
    """For each class, the nearest label name over `vocabularies` and their cosine."""
    from bgtai import embed
    from bgtai.bridges.vocabulary import VOCABULARIES, _clean
    from bgtai.eval.zeroshot import clean_class_name

    names = [clean_class_name(c) for c in classes]
    wanted = embed.encode("text", names, encoder=text_encoder, progress=False)
    best: dict[str, Coverage] = {}
    for vocabulary in vocabularies:
        # each synonym of a label on its own ("Bird vocalization, bird call, bird song" names "bird song")
        labels = [
            part
            for n in VOCABULARIES[vocabulary].names()
            for part in dict.fromkeys(p.strip() for p in _clean(n).split(","))
        ]
        vectors = embed.encode("text", labels, encoder=text_encoder, progress=False)
        similarity = wanted @ vectors.T
        for row, cls in enumerate(classes):
            column = int(np.argmax(similarity[row]))
            found = Coverage(cls, labels[column], vocabulary, float(similarity[row, column]))
            if cls not in best or found.cosine > best[cls].cosine:
                best[cls] = found
    return best


def unnamed_accuracy(
    labels: Sequence[str], predictions: Sequence[str], coverage: dict[str, Coverage]
) -> tuple[float, int]:
    """Top-1 over the items whose class no vocabulary names, and how many items that is (NaN when none)."""
    keep = [i for i, label in enumerate(labels) if not coverage[str(label)].named]
    if not keep:
        return float("nan"), 0
    return float(np.mean([str(predictions[i]) == str(labels[i]) for i in keep])), len(keep)
