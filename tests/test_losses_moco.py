"""Cross-modal MoCo: reference computation, queue update order, label masking, momentum update."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bgtai.losses import CrossModalMoCo, momentum_update


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    return F.normalize(
        torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64), dim=1
    )


def reference_direction(q, k, queue, queue_labels, labels, temperature, in_batch=True) -> float:
    total = 0.0
    for i in range(len(q)):
        logits = [float(q[i] @ k[i]) / temperature]
        for j in range(len(k)):
            if j != i and in_batch and not (labels is not None and labels[i] >= 0 and labels[j] == labels[i]):
                logits.append(float(q[i] @ k[j]) / temperature)
        for j in range(len(queue)):
            if not (labels is not None and labels[i] >= 0 and queue_labels[j] == labels[i]):
                logits.append(float(q[i] @ queue[j]) / temperature)
        logits = np.array(logits)
        total += -(logits[0] - math.log(np.exp(logits).sum()))
    return total / len(q)


def _moco(queue_size: int = 6, **kwargs) -> CrossModalMoCo:
    return CrossModalMoCo(["image", "text"], dim=4, queue_size=queue_size, **kwargs).double()


def test_empty_queue_is_in_batch_infonce_per_direction() -> None:
    moco = _moco()
    q_img, q_txt, k_img, k_txt = (_unit(3, 4, s) for s in range(4))
    got = moco({"image": q_img, "text": q_txt}, {"image": k_img, "text": k_txt}, [("image", "text")])
    want = reference_direction(q_img, k_txt, [], [], None, 0.07) + reference_direction(q_txt, k_img, [], [], None, 0.07)
    assert got.item() == pytest.approx(want, rel=1e-10)


def test_queue_negatives_and_label_masking_match_reference() -> None:
    moco = _moco()
    old_img, old_txt = _unit(4, 4, 10), _unit(4, 4, 11)
    old_labels = torch.tensor([0, 1, 2, -1])
    moco.enqueue({"image": old_img, "text": old_txt}, old_labels)
    q_img, q_txt, k_img, k_txt = (_unit(3, 4, s) for s in range(20, 24))
    labels = torch.tensor([0, 0, 5])
    got = moco({"image": q_img, "text": q_txt}, {"image": k_img, "text": k_txt}, [("image", "text")], labels)
    want = reference_direction(q_img, k_txt, old_txt, old_labels, labels, 0.07) + reference_direction(
        q_txt, k_img, old_img, old_labels, labels, 0.07
    )
    assert got.item() == pytest.approx(want, rel=1e-10)


def test_a_queued_key_with_the_positive_label_does_not_change_the_loss() -> None:
    q_img, q_txt, k_img, k_txt = (_unit(2, 4, s) for s in range(30, 34))
    labels = torch.tensor([7, 8])
    losses = []
    for queued_label in (7, 9):
        moco = _moco()
        moco.enqueue({"image": _unit(1, 4, 40), "text": _unit(1, 4, 41)}, torch.tensor([queued_label]))
        losses.append(moco.direction(q_img[:1], k_txt[:1], "text", labels[:1]).item())
    empty = _moco().direction(q_img[:1], k_txt[:1], "text", labels[:1]).item()
    assert losses[0] == pytest.approx(empty, rel=1e-12)  # label 7 = the query's: masked
    assert losses[1] > empty  # label 9: a real negative


def test_queue_update_order_fifo_with_wraparound() -> None:
    moco = _moco(queue_size=5)
    batches = [_unit(2, 4, s) for s in range(50, 53)]
    for number, keys in enumerate(batches):
        moco.enqueue({"image": keys, "text": keys}, torch.tensor([number, number]))
    queue, labels, valid = moco.queue("image")
    # 6 keys into 5 slots: slots 0..4 got batch0[0], batch0[1], batch1[0], batch1[1], batch2[0], then batch2[1] overwrote slot 0
    assert torch.equal(queue[0], batches[2][1]) and torch.equal(queue[4], batches[2][0])
    assert torch.equal(queue[1], batches[0][1]) and torch.equal(queue[2], batches[1][0])
    assert labels.tolist() == [2, 0, 1, 1, 2]
    assert bool(valid.all()) and int(moco.queue_ptr_image) == 1


def test_a_batch_never_meets_its_own_keys_in_the_queue() -> None:
    """The loss of step t uses the queue before step t's keys are pushed."""
    moco = _moco()
    q, k = _unit(3, 4, 60), _unit(3, 4, 61)
    before = moco({"image": q, "text": q}, {"image": k, "text": k}, [("image", "text")]).item()
    moco.enqueue({"image": k, "text": k})
    after = moco({"image": q, "text": q}, {"image": k, "text": k}, [("image", "text")]).item()
    assert after > before  # now the same keys are also queue negatives
    unfilled = _moco()
    assert unfilled.queue("text")[2].sum() == 0


def test_without_in_batch_negatives_only_the_queue_counts() -> None:
    moco = _moco(in_batch_negatives=False)
    q, k = _unit(3, 4, 70), _unit(3, 4, 71)
    assert moco.direction(q, k, "text").item() == pytest.approx(0.0, abs=1e-12)  # only the positive
    queued = _unit(2, 4, 72)
    moco.enqueue({"text": queued})
    want = reference_direction(q, k, queued, [-1, -1], None, 0.07, in_batch=False)
    assert moco.direction(q, k, "text").item() == pytest.approx(want, rel=1e-10)


def test_momentum_update() -> None:
    online, target = nn.Linear(2, 2), nn.Linear(2, 2)
    before = [p.detach().clone() for p in target.parameters()]
    momentum_update(online, target, 0.99)
    for p_t, p_o, p_before in zip(target.parameters(), online.parameters(), before):
        assert torch.allclose(p_t, 0.99 * p_before + 0.01 * p_o)
        assert not p_t.requires_grad or p_t.grad is None
