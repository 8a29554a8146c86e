"""Alignment losses: the Result Filter cross-entropy (eq. 5) and SP-Loss (eq. 6), and DTW targets.

Both compare the predicted distribution p(t | q) (B, Q, T) with a reference path A* that
gives one source index per target step (B, Q). Target steps outside `target_mask` are
ignored; each pair's loss is averaged over its own Q, then over the batch.

- `result_filter_ce`: -(1/Q) sum_q log p(A*_q | q).
- `sp_loss`: (1/Q) sum_q |A*_q/(T-1) - E_p[t]/(T-1)|, the expected index under p making the
  prediction differentiable; positions are normalised by each pair's own T, so the loss
  is in [0, 1] and 0 exactly when p puts all its mass on A*.
- `dtw_targets`: A* for pairs with no annotation (the Result Filter's supervision): the
  source is interpolated to `interpolate_to` steps, aligned to the target by DTW, and each
  target step takes, among the source steps DTW matches to it, the one of lowest local cost
  (mapped back to the source's own index scale).
"""

from __future__ import annotations

import numpy as np
import torch

from bgtai.align.dtw import Metric, dtw, interpolate_sequence, pairwise_cost


def result_filter_ce(
    log_probs: torch.Tensor, targets: torch.Tensor, target_mask: torch.Tensor | None = None, reduce: bool = True
) -> torch.Tensor:
    """Eq. 5 per pair (B,) or its batch mean; `log_probs` (B, Q, T), `targets` (B, Q) source indices."""
    mask = _target_mask(target_mask, targets)
    picked = log_probs.gather(-1, targets.clamp(min=0).long()[..., None])[..., 0]  # (B, Q)
    per_pair = -(picked * mask).sum(1) / mask.sum(1).clamp(min=1)
    return per_pair.mean() if reduce else per_pair


def sp_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    target_mask: torch.Tensor | None = None,
    source_lengths: torch.Tensor | None = None,
    reduce: bool = True,
) -> torch.Tensor:
    """Eq. 6 per pair (B,) or its batch mean, with the expected index as the prediction."""
    distance = _position_distance(log_probs, targets, source_lengths).abs()
    return _mean_over_targets(distance, _target_mask(target_mask, targets), reduce)


def position_l2(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    target_mask: torch.Tensor | None = None,
    source_lengths: torch.Tensor | None = None,
    reduce: bool = True,
) -> torch.Tensor:
    """SP-Loss with squared instead of absolute distances (the "L2" row of BGTAI's Table 4), in [0, 1]."""
    distance = _position_distance(log_probs, targets, source_lengths) ** 2
    return _mean_over_targets(distance, _target_mask(target_mask, targets), reduce)


def _mean_over_targets(values: torch.Tensor, mask: torch.Tensor, reduce: bool) -> torch.Tensor:
    """Each pair's mean of (B, Q) `values` over its real target steps (B,), or their batch mean."""
    per_pair = (values * mask).sum(1) / mask.sum(1).clamp(min=1)
    return per_pair.mean() if reduce else per_pair


def _position_distance(
    log_probs: torch.Tensor, targets: torch.Tensor, source_lengths: torch.Tensor | None
) -> torch.Tensor:
    """(E_p[t] - A*_q) / (T-1) per target step (B, Q), each pair normalised by its own T."""
    t_len = log_probs.shape[-1]
    if source_lengths is None:
        source_lengths = torch.full((log_probs.shape[0],), t_len, device=log_probs.device)
    scale = (source_lengths.float() - 1).clamp(min=1)[:, None]  # (B, 1): T=1 leaves positions at 0
    positions = torch.arange(t_len, device=log_probs.device, dtype=log_probs.dtype)
    expected = (log_probs.exp() * positions).sum(-1)  # (B, Q)
    return (expected - targets.float()) / scale


def path_sp_distance(a: np.ndarray, b: np.ndarray, t_len: int) -> float:
    """SP-Loss between two hard paths (source index per target step), in [0, 1]."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paths differ in length: {a.shape} vs {b.shape}")
    return float(np.mean(np.abs(a - b)) / max(t_len - 1, 1))


def dtw_targets(
    source: np.ndarray,
    target: np.ndarray,
    metric: Metric = "cosine",
    interpolate_to: int | None = None,
    window: int | None = None,
) -> np.ndarray:
    """A*: one source index per target step (Q,), non-decreasing, from DTW on the interpolated source."""
    source = np.asarray(source, dtype=np.float64)
    t_len = source.shape[0]
    steps = t_len if interpolate_to is None else int(interpolate_to)
    resampled = interpolate_sequence(source, steps)
    target_array = np.asarray(target, dtype=np.float64)
    path = dtw(resampled, target_array, metric=metric, window=window).path
    costs = pairwise_cost(resampled, target_array, metric)[path[:, 0], path[:, 1]]
    q_len = target_array.shape[0]
    best_step = np.zeros(q_len, dtype=np.int64)
    best_cost = np.full(q_len, np.inf)
    for (step, q), cost in zip(path, costs):  # every target step is on the path (it is continuous)
        if cost < best_cost[q]:
            best_cost[q], best_step[q] = cost, step
    scale = (t_len - 1) / (steps - 1) if steps > 1 else 0.0
    return np.rint(best_step * scale).astype(np.int64)


def _target_mask(mask: torch.Tensor | None, targets: torch.Tensor) -> torch.Tensor:
    valid = targets >= 0
    if mask is not None:
        valid = valid & mask.bool()
    return valid.float()
