"""DS-Net (BGTAI eqs. 3-4): which source step t each target step q selects, as a monotonic path.

Given a source sequence R (B, T, Ds) and a target sequence h (B, Q, Dt):

1. each is projected to `hidden` dims and contextualised by its own bidirectional GRU
   (neighbouring steps help: a summary sentence follows the previous one's source);
2. the score of (q, t) is the scaled dot product of the two encodings plus a learned
   position prior `-w * |t/(T-1) - q/(Q-1)|` (alignments of summaries, speech and
   transcripts stay near the diagonal; w >= 0 is learned and may go to 0);
3. softmax over t gives p(t | q) (padding masked out);
4. `decode` picks the monotonic path (t_q non-decreasing in q, or strictly increasing
   with `strict=True`) of highest total log-probability by dynamic programming, and
   returns the binary matrix Â (Q, T) with one 1 per row;
5. `apply_path(Y, Â)` = Â @ Y, the selected source steps in target order (eq. 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class DSNetConfig:
    source_dim: int
    target_dim: int
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.1
    position_prior: bool = True


class _SequenceEncoder(nn.Module):
    def __init__(self, dim: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout))
        self.gru = nn.GRU(hidden, hidden // 2, num_layers=layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.project(x)
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        context, _ = self.gru(packed)
        context, _ = nn.utils.rnn.pad_packed_sequence(context, batch_first=True, total_length=x.shape[1])
        return self.out(context + h)  # residual: the step's own content stays visible


class DSNet(nn.Module):
    """Scores every (target q, source t) pair; `forward` returns masked logits (B, Q, T)."""

    def __init__(self, config: DSNetConfig) -> None:
        super().__init__()
        self.config = config
        self.source_encoder = _SequenceEncoder(config.source_dim, config.hidden, config.layers, config.dropout)
        self.target_encoder = _SequenceEncoder(config.target_dim, config.hidden, config.layers, config.dropout)
        # softplus(-1) ~ 0.31: a weak diagonal prior to start from
        self.prior_weight = nn.Parameter(torch.tensor(-1.0)) if config.position_prior else None

    def forward(
        self,
        source: torch.Tensor,
        target: torch.Tensor,
        source_mask: torch.Tensor | None = None,
        target_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        source_mask = _mask_or_full(source_mask, source)
        target_mask = _mask_or_full(target_mask, target)
        r = self.source_encoder(source, source_mask)  # (B, T, H)
        h = self.target_encoder(target, target_mask)  # (B, Q, H)
        logits = h @ r.transpose(1, 2) / math.sqrt(r.shape[-1])
        if self.prior_weight is not None:
            logits = logits - nn.functional.softplus(self.prior_weight) * 10.0 * _diagonal_distance(
                source_mask, target_mask
            )
        return logits.masked_fill(~source_mask[:, None, :], float("-inf"))

    def log_probs(
        self,
        source: torch.Tensor,
        target: torch.Tensor,
        source_mask: torch.Tensor | None = None,
        target_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """log p(t | q), (B, Q, T); rows of padded target steps are meaningless (mask them)."""
        return torch.log_softmax(self(source, target, source_mask, target_mask), dim=-1)

    @torch.no_grad()
    def align(self, source: np.ndarray, target: np.ndarray, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """One pair: (Â as (Q, T) uint8, log p(t | q) as (Q, T)) in eval mode."""
        was_training = self.training
        self.eval()
        s = torch.as_tensor(np.asarray(source, dtype=np.float32))[None]
        t = torch.as_tensor(np.asarray(target, dtype=np.float32))[None]
        log_p = self.log_probs(s, t)[0].numpy()
        self.train(was_training)
        return decode(log_p, strict=strict), log_p


def decode(log_probs: np.ndarray, strict: bool = False) -> np.ndarray:
    """Binary (Q, T) path maximising sum_q log p(t_q | q) with t_q non-decreasing (increasing if strict).

    Dynamic programming over q: best[q, t] = log p(t|q) + max_{t' <= t} best[q-1, t']
    (t' < t when strict), a running maximum per row, so O(Q*T). Strict needs T >= Q.
    """
    scores = np.asarray(log_probs, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] < 1 or scores.shape[1] < 1:
        raise ValueError(f"need a (Q, T) score matrix, got shape {scores.shape}")
    q_len, t_len = scores.shape
    if strict and t_len < q_len:
        raise ValueError(f"a strictly increasing path needs T >= Q, got Q={q_len}, T={t_len}")
    scores = np.where(np.isfinite(scores), scores, -1e30)
    best = np.empty_like(scores)
    came_from = np.zeros((q_len, t_len), dtype=np.int64)
    best[0] = scores[0]
    if strict:
        best[0, t_len - q_len + 1 :] = -np.inf  # leave room for the later rows
    for q in range(1, q_len):
        previous = best[q - 1]
        if strict:  # predecessor must be at t' <= t-1
            previous = np.concatenate([[-np.inf], previous[:-1]])
        running = np.maximum.accumulate(previous)
        # index of the running maximum (first occurrence)
        is_new = np.concatenate([[True], previous[1:] > running[:-1]])
        argmax = np.maximum.accumulate(np.where(is_new, np.arange(t_len), 0))
        best[q] = scores[q] + running
        came_from[q] = argmax - (1 if strict else 0)
        if strict:
            best[q, :q] = -np.inf
            best[q, t_len - q_len + q + 1 :] = -np.inf
    path = np.zeros(q_len, dtype=np.int64)
    path[-1] = int(np.argmax(best[-1]))
    for q in range(q_len - 1, 0, -1):
        path[q - 1] = came_from[q, path[q]]
    return path_matrix(path, t_len)


def path_matrix(indices: np.ndarray, t_len: int) -> np.ndarray:
    """One source index per target step -> the binary (Q, T) matrix."""
    indices = np.asarray(indices, dtype=np.int64)
    out = np.zeros((len(indices), t_len), dtype=np.uint8)
    out[np.arange(len(indices)), indices] = 1
    return out


def path_indices(a_hat: np.ndarray) -> np.ndarray:
    """The selected source index of each target row of a one-per-row binary matrix."""
    return np.asarray(a_hat).argmax(axis=1)


def apply_path(y: np.ndarray | torch.Tensor, a_hat: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Ÿ = Â @ Y: the source steps (T, D) the path selects, one per target step -> (Q, D)."""
    if isinstance(y, torch.Tensor):
        return torch.as_tensor(a_hat, dtype=y.dtype, device=y.device) @ y
    y_array = np.asarray(y)
    if y_array.shape[0] != np.shape(a_hat)[1]:
        raise ValueError(f"Y has {y_array.shape[0]} steps but Â has {np.shape(a_hat)[1]} columns")
    return np.asarray(a_hat, dtype=y_array.dtype) @ y_array


def _mask_or_full(mask: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return mask.bool()


def _diagonal_distance(source_mask: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    """|t/(T-1) - q/(Q-1)| per pair, with each pair's own lengths (B, Q, T)."""
    t_len = source_mask.sum(1, keepdim=True).float()
    q_len = target_mask.sum(1, keepdim=True).float()
    t_pos = torch.arange(source_mask.shape[1], device=source_mask.device)[None].float() / (t_len - 1).clamp(min=1)
    q_pos = torch.arange(target_mask.shape[1], device=target_mask.device)[None].float() / (q_len - 1).clamp(min=1)
    return (t_pos[:, None, :] - q_pos[:, :, None]).abs()
