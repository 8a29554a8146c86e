"""SLAVA's pairwise trimodal loss and the variants of its paper, as data.

`PairwiseLoss` sums symmetric InfoNCE terms over pairs of modalities, each with its own
learned logit scale: `L = L_AV + L_AT + L_VT` (A audio, V image, T text). Which terms a
batch uses, and which caption its text is, depends on the variant:

- `a-and-v`: each batch draws audio captions or visual captions at random; audio captions
  give `L_AV + L_AT`, visual captions `L_AV + L_VT` (SLAVA A&V);
- `av`: audio-visual captions, `L_AT + L_VT + L_AV`; `av-no-av`: the same without `L_AV`;
- `audioclip`: one stage, audio captions only, all three terms;
- `wav2clip-stage1`: visual captions, `L_VT`; `wav2clip-stage2`: audio captions, `L_AT`
  (the trainer freezes or trains the text side; the loss is the same).
A term whose two modalities are not both in the batch is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from bgtai.losses.infonce import InfoNCE

# term name -> (modality, modality); the names follow the paper's subscripts
PAIR_TERMS: dict[str, tuple[str, str]] = {"AV": ("audio", "image"), "AT": ("audio", "text"), "VT": ("image", "text")}


@dataclass(frozen=True)
class SlavaVariant:
    """Caption policy ('audio', 'visual', 'av', or 'audio-or-visual') and the terms per caption kind."""

    captions: str
    terms: Mapping[str, tuple[str, ...]]  # caption kind actually used -> loss terms


SLAVA_VARIANTS: dict[str, SlavaVariant] = {
    "a-and-v": SlavaVariant("audio-or-visual", {"audio": ("AV", "AT"), "visual": ("AV", "VT")}),
    "av": SlavaVariant("av", {"av": ("AT", "VT", "AV")}),
    "av-no-av": SlavaVariant("av", {"av": ("AT", "VT")}),
    "audioclip": SlavaVariant("audio", {"audio": ("AV", "AT", "VT")}),
    "wav2clip-stage1": SlavaVariant("visual", {"visual": ("VT",)}),
    "wav2clip-stage2": SlavaVariant("audio", {"audio": ("AT",)}),
}


def slava_terms(variant: str, caption_kind: str, present: Sequence[str]) -> list[str]:
    """The loss terms of `variant` for a batch with captions of `caption_kind` and these modalities."""
    if variant not in SLAVA_VARIANTS:
        raise ValueError(f"unknown SLAVA variant {variant!r}; known: {', '.join(SLAVA_VARIANTS)}")
    terms = SLAVA_VARIANTS[variant].terms.get(caption_kind)
    if terms is None:
        raise ValueError(f"variant {variant!r} has no terms for {caption_kind!r} captions")
    return [t for t in terms if all(m in present for m in PAIR_TERMS[t])]


class PairwiseLoss(nn.Module):
    """Sum of symmetric InfoNCE terms, one logit scale per pair of modalities (learned by default)."""

    def __init__(
        self,
        terms: Sequence[str] = ("AV", "AT", "VT"),
        temperature: float = 0.07,
        learn_scale: bool = True,
        max_scale: float = 100.0,
    ) -> None:
        super().__init__()
        unknown = [t for t in terms if t not in PAIR_TERMS]
        if unknown:
            raise ValueError(f"unknown pair terms {unknown}; known: {', '.join(PAIR_TERMS)}")
        self.terms = nn.ModuleDict({t: InfoNCE(temperature, learn_scale, max_scale) for t in terms})

    def forward(
        self,
        embeddings: Mapping[str, torch.Tensor],
        terms: Sequence[str] | None = None,
        labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(total, {term: value}) over `terms` (default: every term whose modalities are present)."""
        if terms is None:
            terms = [t for t in self.terms if all(m in embeddings for m in PAIR_TERMS[t])]
        if not terms:
            raise ValueError(f"no loss term applies to modalities {sorted(embeddings)}")
        parts = {}
        for term in terms:
            x, y = PAIR_TERMS[term]
            parts[term] = self.terms[term](embeddings[x], embeddings[y], labels)
        return sum(parts.values()), parts  # type: ignore[return-value]
