"""Probe features: pooling over sequences, one L2-normalised block per encoder."""

from __future__ import annotations

import numpy as np
import pytest

from bgtai.eval.features import mean_std, probe_features, split_encoder_names


def test_mean_std_per_sequence() -> None:
    sequences = [np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([[5.0, 5.0]])]
    out = mean_std(sequences)
    assert out.tolist() == [[2.0, 4.0, 1.0, 2.0], [5.0, 5.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="empty"):
        mean_std([np.zeros((0, 2))])


def test_encoder_names_split_on_plus() -> None:
    assert split_encoder_names("aisfx+whisper-tiny-en") == ["aisfx", "whisper-tiny-en"]
    with pytest.raises(ValueError):
        split_encoder_names("+")


@pytest.mark.parametrize("pooling, width", [("mean", 16), ("mean+std", 32)])
def test_each_encoder_block_is_unit_length(pooling: str, width: int) -> None:
    rng = np.random.default_rng(0)
    clips = [(rng.normal(size=16000).astype(np.float32) * 0.1, 16000) for _ in range(3)]
    features = probe_features(clips, ["tiny-audio", "tiny-audio"], pooling=pooling)  # type: ignore[arg-type]
    assert features.shape == (3, 2 * width)
    np.testing.assert_allclose(np.linalg.norm(features[:, :width], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(features[:, :width], features[:, width:])
