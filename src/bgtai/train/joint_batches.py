"""The joint trainer's batches: one kind of pair each (same modalities present), and a caption kind.

A batch of sound-library clips and captions never waits for a missing picture; per SLAVA variant
a batch also has a caption kind (audio, visual or audio-visual caption) and its loss terms. Each
epoch's batch order comes from `numpy.random.default_rng([seed, stage, epoch])`, so a resumed
run plans the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bgtai.losses import PAIR_TERMS, SLAVA_VARIANTS, slava_terms
from bgtai.model.joint import pad_sequences
from bgtai.train.joint_data import TrainData


@dataclass(frozen=True)
class Batch:
    rows: np.ndarray  # global batch, in the order ranks slice it
    kind: str  # caption kind
    terms: tuple[str, ...]


def caption_kind_choices(variant: str) -> tuple[str, ...]:
    policy = SLAVA_VARIANTS[variant].captions
    return ("audio", "visual") if policy == "audio-or-visual" else (policy,)


def plan_epoch(
    data: TrainData, rows: np.ndarray, variant: str, batch_size: int, world: int, seed: Sequence[int]
) -> list[Batch]:
    """The epoch's global batches: rows grouped by the modalities they have, shuffled, cut, interleaved.

    A group smaller than `batch_size` gives one batch of all of it (rounded down to a multiple
    of `world`); leftovers are dropped (the next epoch's shuffle uses them). Batches with no
    loss term or fewer than 2 pairs are skipped.
    """
    rng = np.random.default_rng(list(seed))
    kinds = caption_kind_choices(variant)
    groups: dict[tuple[bool, bool, bool], list[int]] = {}
    for row in rows:
        key = (data.rows["audio"][row] >= 0, data.rows["image"][row] >= 0, data.text_slot("av")[row] >= 0)
        groups.setdefault(key, []).append(int(row))
    batches: list[Batch] = []
    for key in sorted(groups):
        members = rng.permutation(np.asarray(groups[key], dtype=np.int64))
        # the caption kinds that give this group a loss term (A&V: a picture-caption group never draws audio captions)
        usable = [k for k in kinds if slava_terms(variant, k, data.present(int(members[0]), k))]
        size = min(batch_size, len(members) - len(members) % world)
        if not usable or size < max(2, world):
            continue
        for start in range(0, len(members) - size + 1, size):
            kind = str(rng.choice(usable))
            terms = tuple(slava_terms(variant, kind, data.present(int(members[0]), kind)))
            batches.append(Batch(members[start : start + size], kind, terms))
    return [batches[i] for i in rng.permutation(len(batches))]


def batch_inputs(
    data: TrainData, rows: np.ndarray, kind: str, modalities: Sequence[str]
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    slots = {"audio": data.rows["audio"], "image": data.rows["image"], "text": data.text_slot(kind)}
    return {m: pad_sequences([data.features[m][int(i)] for i in slots[m][rows]]) for m in modalities}


def modalities_of(terms: Sequence[str]) -> list[str]:
    return sorted({m for t in terms for m in PAIR_TERMS[t]})
