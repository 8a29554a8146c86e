"""Frozen features for probes: one or several encoders, pooled, each L2-normalised, concatenated.

Pooling:
- `mean`: the encoder's own pooled vector (`bgtai.encode`, the mean over blocks/frames);
- `mean+std`: the mean and the standard deviation over the encoder's sequence
  (`bgtai.encode_sequence`), concatenated: the spread over time says what the mean hides
  (a dog barking twice and a steady hum can share a mean).
Each encoder's block is L2-normalised before concatenation, so no encoder dominates
because its features happen to be larger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

Pooling = Literal["mean", "mean+std"]
POOLINGS: tuple[str, ...] = ("mean", "mean+std")


def split_encoder_names(spec: str) -> list[str]:
    """'aisfx+whisper-tiny-en' -> ['aisfx', 'whisper-tiny-en']."""
    names = [n.strip() for n in spec.split("+") if n.strip()]
    if not names:
        raise ValueError(f"no encoder named in {spec!r}")
    return names


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def mean_std(sequences: Sequence[np.ndarray]) -> np.ndarray:
    """(N, 2D): each (T_i, D) sequence's mean and population std over its positions (std 0 when T_i = 1)."""
    rows = []
    for sequence in sequences:
        sequence = np.asarray(sequence, dtype=np.float64)
        if len(sequence) == 0:
            raise ValueError("an empty feature sequence has no mean")
        rows.append(np.concatenate([sequence.mean(axis=0), sequence.std(axis=0)]))
    return np.stack(rows)


def encoder_features(
    inputs: Sequence[Any], encoder: str, modality: str = "audio", pooling: Pooling = "mean"
) -> np.ndarray:
    """(N, D) features of one encoder (cached by `bgtai.encode`)."""
    from bgtai import embed

    if pooling == "mean":
        return np.asarray(embed.encode(modality, list(inputs), encoder=encoder), dtype=np.float64)
    if pooling == "mean+std":
        return mean_std(embed.encode_sequence(modality, list(inputs), encoder=encoder).features)
    raise ValueError(f"unknown pooling {pooling!r}: use one of {', '.join(POOLINGS)}")


def probe_features(
    inputs: Sequence[Any], encoders: Sequence[str], pooling: Pooling = "mean", modality: str = "audio"
) -> np.ndarray:
    """The concatenation of each encoder's L2-normalised features."""
    return np.concatenate(
        [l2_normalise(encoder_features(inputs, name, modality, pooling)) for name in encoders], axis=1
    )
