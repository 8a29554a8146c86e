"""The real linear probe on ESC-50 fold 4 with aiSFX features (real weights, real data)."""

from __future__ import annotations

import pytest

from bgtai.eval.datasets import load_classification_set
from bgtai.eval.features import probe_features
from bgtai.eval.probe import run_probe

pytestmark = [pytest.mark.integration, pytest.mark.needs_data]


def test_aisfx_linear_probe_on_esc50_fold4() -> None:
    from bgtai.encoders.registry import get_encoder

    if not get_encoder("aisfx").weights_present():
        pytest.skip("aiSFX weights not installed")
    data = load_classification_set("esc50")
    assert len(data.labels) == 400 and len(set(data.labels)) == 50
    features = probe_features(data.inputs, ["aisfx"])
    result = run_probe(features, data.labels, data.splits(), data.groups, "linear")
    print(f"ESC-50 fold 4, grouped 4-fold CV, aisfx mean, linear probe: {result.mean:.4f} ± {result.std:.4f}")
    # chance is 0.02; frozen aiSFX features are known to separate most ESC-50 classes
    assert result.mean > 0.45
    assert len(result.fold_accuracies) == 4
