"""InfoNCE against a loop-by-loop reference on tiny tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bgtai.losses import InfoNCE, info_nce


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    return F.normalize(
        torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), dim=1
    )


def reference(a: np.ndarray, b: np.ndarray, scale: float, labels: list[int] | None = None) -> float:
    """-log softmax of the positive, averaged over rows, both directions; same-label negatives dropped."""

    def one_way(x: np.ndarray, y: np.ndarray) -> float:
        total = 0.0
        for i in range(len(x)):
            keep = [j for j in range(len(y)) if j == i or labels is None or labels[j] < 0 or labels[j] != labels[i]]
            logits = np.array([scale * float(x[i] @ y[j]) for j in keep])
            total += -(logits[keep.index(i)] - math.log(np.exp(logits).sum()))
        return total / len(x)

    return 0.5 * (one_way(a, b) + one_way(b, a))


def test_matches_reference() -> None:
    a, b = _unit(5, 4, 0), _unit(5, 4, 1)
    got = info_nce(a, b, 1 / 0.07)
    assert got.item() == pytest.approx(reference(a.numpy(), b.numpy(), 1 / 0.07), rel=1e-10)


def test_same_label_negatives_are_masked() -> None:
    a, b = _unit(6, 4, 2), _unit(6, 4, 3)
    labels = [0, 0, 1, -1, -1, 2]
    got = info_nce(a, b, 10.0, torch.tensor(labels))
    assert got.item() == pytest.approx(reference(a.numpy(), b.numpy(), 10.0, labels), rel=1e-10)
    assert got.item() != pytest.approx(info_nce(a, b, 10.0).item(), rel=1e-6)


def test_module_fixed_temperature_has_no_parameters() -> None:
    loss = InfoNCE(temperature=0.07)
    assert list(loss.parameters()) == []
    assert loss.scale().item() == pytest.approx(1 / 0.07)
    a, b = _unit(4, 3, 4).float(), _unit(4, 3, 5).float()
    assert loss(a, b).item() == pytest.approx(reference(a.double().numpy(), b.double().numpy(), 1 / 0.07), rel=1e-5)


def test_learned_scale_is_clamped_to_100() -> None:
    loss = InfoNCE(temperature=0.07, learn_scale=True)
    assert [p.shape for p in loss.parameters()] == [torch.Size([])]
    with torch.no_grad():
        loss.log_scale.fill_(math.log(1000.0))
    assert loss.scale().item() == pytest.approx(100.0)
    a, b = _unit(4, 3, 6).float(), _unit(4, 3, 7).float()
    loss(a, b).backward()
    assert loss.log_scale.grad.item() == 0.0  # past the clamp the scale gets no gradient
    with torch.no_grad():
        loss.log_scale.fill_(math.log(20.0))
    loss.log_scale.grad = None
    loss(a, b).backward()
    assert loss.log_scale.grad.item() != 0.0


def test_perfect_alignment_beats_random() -> None:
    a = _unit(8, 16, 8)
    assert info_nce(a, a, 1 / 0.07).item() < info_nce(a, _unit(8, 16, 9), 1 / 0.07).item()
