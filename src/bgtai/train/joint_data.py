"""The joint trainer's data: frozen feature sequences per modality and pair rows pointing into them.

Frozen front-end features of every training input are computed once through the feature
cache (`bgtai.encode_sequence`) and kept in memory; training then touches only the trainable
parts.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgtai.losses.infonce import NO_LABEL

CAPTION_KINDS = ("av", "audio", "visual")


@dataclass
class TrainData:
    """Frozen feature sequences per modality, and pair rows pointing into them (-1 = absent).

    `rows` has one (N,) index array per slot: "audio", "image", and "text:av", "text:audio",
    "text:visual" (the caption of each kind, each falling back to the general caption).
    """

    features: dict[str, list[np.ndarray]]
    rows: dict[str, np.ndarray]
    labels: np.ndarray  # (N,) class id per pair, NO_LABEL when the pair has none
    groups: list[str]  # what must not straddle train and validation (a recording, an object)
    how: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> TrainData:
        return TrainData(
            self.features,
            {slot: values[index] for slot, values in self.rows.items()},
            self.labels[index],
            [self.groups[i] for i in index],
            [self.how[i] for i in index] if self.how else [],
        )

    def text_slot(self, kind: str) -> np.ndarray:
        return self.rows[f"text:{kind}"]

    def present(self, row: int, kind: str) -> list[str]:
        found = [m for m in ("audio", "image") if self.rows[m][row] >= 0]
        if self.text_slot(kind)[row] >= 0:
            found.append("text")
        return found

    @classmethod
    def from_pairs(cls, pairs: Sequence[Any], front_ends: dict[str, str], progress: bool = True) -> TrainData:
        """Embed every distinct input of `pairs` (`bgtai.data.pairs.Pair`) with its frozen front-end, cached."""
        from bgtai.embed import encode_sequence

        inputs: dict[str, dict[Any, int]] = {"audio": {}, "image": {}, "text": {}}

        def slot(modality: str, value: Any) -> int:
            if value is None:
                return -1
            key = str(value)
            return inputs[modality].setdefault(key, len(inputs[modality]))

        rows: dict[str, list[int]] = {"audio": [], "image": [], **{f"text:{k}": [] for k in CAPTION_KINDS}}
        label_ids: dict[str, int] = {}
        labels = []
        for pair in pairs:
            rows["audio"].append(slot("audio", pair.audio))
            rows["image"].append(slot("image", pair.image))
            general = pair.caption or pair.audio_caption or pair.visual_caption
            rows["text:av"].append(slot("text", general))
            rows["text:audio"].append(slot("text", pair.audio_caption or general))
            rows["text:visual"].append(slot("text", pair.visual_caption or general))
            labels.append(NO_LABEL if pair.label is None else label_ids.setdefault(str(pair.label), len(label_ids)))
        features = {}
        for modality, table in inputs.items():
            if not table:
                features[modality] = []
                continue
            if modality not in front_ends:
                raise ValueError(f"the pairs have {modality} inputs but the model has no {modality} front-end")
            batch = encode_sequence(
                modality, list(table), encoder=front_ends[modality], progress=progress, skip_bad=True
            )
            features[modality] = batch.features
            if batch.bad:
                warnings.warn(
                    f"{len(batch.bad)} {modality} input(s) could not be embedded; their pairs are left out: "
                    + "; ".join(f"{b.source}: {b.problem}" for b in batch.bad[:5]),
                    stacklevel=2,
                )
        data = cls(
            features,
            {k: np.asarray(v, dtype=np.int64) for k, v in rows.items()},
            np.asarray(labels, dtype=np.int64),
            [p.group for p in pairs],
            [p.how for p in pairs],
        )
        return data.subset(np.flatnonzero(data.usable()))

    def with_audio_cut(self, frames: int) -> TrainData:
        """The same pairs with every audio sequence cut to its first `frames` frames (0: unchanged)."""
        if frames <= 0:
            return self
        features = {**self.features, "audio": [sequence[:frames] for sequence in self.features["audio"]]}
        return TrainData(features, self.rows, self.labels, self.groups, self.how)

    def usable(self) -> np.ndarray:
        """(N,) True for rows whose every input has features (a bad input has an empty sequence)."""
        ok = np.ones(len(self), dtype=bool)
        for slot, index in self.rows.items():
            table = self.features["text" if slot.startswith("text") else slot]
            lengths = np.array([len(table[i]) if i >= 0 else 1 for i in index], dtype=np.int64)
            ok &= lengths > 0
        return ok


def split_validation(data: TrainData, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): whole groups go to validation when their hash falls below `fraction`."""
    if fraction <= 0:
        return np.arange(len(data)), np.zeros(0, dtype=np.int64)

    def draw(group: str) -> float:
        digest = hashlib.blake2b(f"{seed}:{group}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2**64

    held = np.array([draw(g) < fraction for g in data.groups], dtype=bool)
    return np.flatnonzero(~held), np.flatnonzero(held)
