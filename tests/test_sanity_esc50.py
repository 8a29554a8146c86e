"""Sanity of real frozen features: aiSFX nearest neighbours on ESC-50 fold 4 are far above chance."""

from __future__ import annotations

import numpy as np
import pytest

import bgtai
from bgtai.data import load_esc50
from bgtai.eval.knn import nearest_neighbour_accuracy

CHANCE = 1 / 50


@pytest.mark.integration
@pytest.mark.needs_data
def test_aisfx_nearest_neighbour_on_esc50_fold4_is_far_above_chance() -> None:
    clips = load_esc50().filter(fold=4)
    assert len(clips) == 400
    vectors = bgtai.encode("audio", [clip.audio for clip in clips], encoder="aisfx", progress=False)
    result = nearest_neighbour_accuracy(
        vectors, np.array([clip.label for clip in clips]), np.array([clip.group for clip in clips])
    )
    print(f"\naiSFX 1-NN accuracy, ESC-50 fold 4, leave-one-source-out: {result.accuracy:.4f} (chance {CHANCE:.3f})")
    assert result.evaluated == 400
    assert result.accuracy > 10 * CHANCE
