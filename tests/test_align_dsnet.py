"""DS-Net decode, path application, the alignment losses and self-paced selection."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bgtai.align.dsnet import (
    DSNet,
    DSNetConfig,
    apply_path,
    decode,
    path_indices,
    path_matrix,
)
from bgtai.align.selection import SelfPacedSelector
from bgtai.losses.alignment import (
    dtw_targets,
    path_sp_distance,
    position_l2,
    result_filter_ce,
    sp_loss,
)

score_matrices = st.tuples(st.integers(1, 5), st.integers(1, 6), st.integers(0, 10_000)).map(
    lambda a: np.log(np.random.default_rng(a[2]).dirichlet(np.ones(a[1]), size=a[0]))
)


def best_monotone(scores: np.ndarray, strict: bool) -> float:
    q_len, t_len = scores.shape
    best = -np.inf
    for path in itertools.product(range(t_len), repeat=q_len):
        steps = np.diff(path)
        if np.all(steps > 0) if strict else np.all(steps >= 0):
            best = max(best, scores[np.arange(q_len), path].sum())
    return best


@settings(max_examples=60, deadline=None)
@given(scores=score_matrices, strict=st.booleans())
def test_decode_is_the_best_monotone_path(scores: np.ndarray, strict: bool) -> None:
    if strict and scores.shape[1] < scores.shape[0]:
        with pytest.raises(ValueError, match="T >= Q"):
            decode(scores, strict=True)
        return
    a_hat = decode(scores, strict=strict)
    assert a_hat.shape == scores.shape
    assert np.all(a_hat.sum(1) == 1)
    path = path_indices(a_hat)
    assert np.all(np.diff(path) > 0) if strict else np.all(np.diff(path) >= 0)
    assert scores[np.arange(len(path)), path].sum() == pytest.approx(best_monotone(scores, strict))


def test_apply_path_selects_rows_in_target_order() -> None:
    y = np.arange(12.0).reshape(4, 3)
    a_hat = path_matrix(np.array([0, 2, 2]), 4)
    np.testing.assert_array_equal(apply_path(y, a_hat), y[[0, 2, 2]])
    out = apply_path(torch.tensor(y), a_hat)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), y[[0, 2, 2]])


def test_result_filter_ce_by_hand() -> None:
    probs = torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]])
    targets = torch.tensor([[0, 2]])
    expected = -(math.log(0.5) + math.log(0.8)) / 2
    assert result_filter_ce(probs.log(), targets).item() == pytest.approx(expected)
    # a masked target step does not count
    mask = torch.tensor([[True, False]])
    assert result_filter_ce(probs.log(), targets, mask).item() == pytest.approx(-math.log(0.5))


def test_sp_loss_by_hand() -> None:
    probs = torch.tensor([[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]])  # expected indices 0.5 and 2
    targets = torch.tensor([[0, 0]])
    # |0.5-0|/2 and |2-0|/2, averaged
    assert sp_loss(probs.clamp(min=1e-30).log(), targets).item() == pytest.approx((0.25 + 1.0) / 2)
    # the L2 variant squares the same normalised distances
    assert position_l2(probs.clamp(min=1e-30).log(), targets).item() == pytest.approx((0.25**2 + 1.0) / 2)


@settings(max_examples=40, deadline=None)
@given(q_len=st.integers(1, 6), t_len=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_sp_loss_bounds(q_len: int, t_len: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    targets = torch.tensor(rng.integers(0, t_len, size=(2, q_len)))
    one_hot = torch.nn.functional.one_hot(targets, t_len).float()
    assert sp_loss(one_hot.clamp(min=1e-30).log(), targets).item() == pytest.approx(0.0, abs=1e-6)
    probs = torch.tensor(rng.dirichlet(np.ones(t_len), size=(2, q_len)), dtype=torch.float32)
    value = sp_loss(probs.log(), targets).item()
    assert -1e-6 <= value <= 1.0 + 1e-6
    other = rng.integers(0, t_len, size=q_len)
    assert path_sp_distance(targets[0].numpy(), targets[0].numpy(), t_len) == 0.0
    assert 0.0 <= path_sp_distance(targets[0].numpy(), other, t_len) <= 1.0


def test_sp_loss_gradient_reaches_the_scores() -> None:
    logits = torch.zeros(1, 2, 5, requires_grad=True)
    sp_loss(torch.log_softmax(logits, -1), torch.tensor([[0, 4]])).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_dtw_targets_recover_a_stretched_copy() -> None:
    rng = np.random.default_rng(0)
    source = rng.normal(size=(10, 8))
    chosen = np.array([0, 2, 3, 7, 9])
    targets = dtw_targets(source, source[chosen] + 0.01 * rng.normal(size=(5, 8)), metric="euclidean")
    assert np.all(np.diff(targets) >= 0)
    assert targets[0] == 0 and targets[-1] == 9
    # interpolating the source to twice its length maps back to the same index scale
    doubled = dtw_targets(source, source[[0, 9]], metric="euclidean", interpolate_to=19)
    np.testing.assert_array_equal(doubled, [0, 9])


def test_tiny_dsnet_learns_a_synthetic_alignment() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    dim, t_len, q_len = 8, 12, 4
    mixing = rng.normal(size=(dim, dim))  # the target lives in another space than the source

    def sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        source = rng.normal(size=(t_len, dim))
        chosen = np.sort(rng.choice(t_len, size=q_len, replace=False))
        return source, source[chosen] @ mixing + 0.05 * rng.normal(size=(q_len, dim)), chosen

    train = [sample() for _ in range(256)]
    model = DSNet(DSNetConfig(dim, dim, hidden=32, dropout=0.0))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    source = torch.tensor(np.stack([s for s, _, _ in train]), dtype=torch.float32)
    target = torch.tensor(np.stack([t for _, t, _ in train]), dtype=torch.float32)
    chosen = torch.tensor(np.stack([c for _, _, c in train]))
    for _ in range(60):
        optimiser.zero_grad()
        loss = result_filter_ce(model.log_probs(source, target), chosen)
        loss.backward()
        optimiser.step()
    test = [sample() for _ in range(50)]
    correct = [np.mean(path_indices(model.align(s, t, strict=True)[0]) == c) for s, t, c in test]
    assert np.mean(correct) > 0.9  # chance is about 1/3 for a strictly increasing guess


def test_self_paced_selector_grows_and_keeps_a_floor() -> None:
    selector = SelfPacedSelector(initial=0.1, growth=2.0, final=0.5, min_fraction=0.25)
    losses = np.array([0.05, 0.3, 0.15, 0.45, np.nan])
    assert selector.select(losses).tolist() == [True, False, False, False, False]
    assert selector.update(1) == pytest.approx(0.2)
    assert selector.select(losses).tolist() == [True, False, True, False, False]
    assert selector.update(10) == 0.5  # capped at final
    assert selector.select(losses).tolist() == [True, True, True, True, False]
    strict = SelfPacedSelector(initial=0.01, min_fraction=0.5)
    assert strict.select(losses).tolist() == [True, False, True, False, False]  # the easiest half
