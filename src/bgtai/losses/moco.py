"""Cross-modal MoCo (BriVL, UniBriVL): queries from the trained model, keys from a momentum copy.

For a pair of modalities (x, y), x's queries are scored against y's keys and y's queries
against x's keys (`CXLoss = L(f(x), y) + L(x, g(y))`). The negatives of a query are the
other keys of the (global) batch, when `in_batch_negatives`, plus a queue of keys from
earlier batches, one queue per modality (UniBriVL: image keys and language keys, 9600
each). Keys that share the query's label are masked: with class-level pairs they are not
negatives. The temperature is fixed (0.07).

Order within a training step: compute the loss against the queue as it stands, step the
optimiser, update the momentum copy, and only then `enqueue` this batch's keys, so a batch
never meets its own keys in the queue. Under DDP the keys of all ranks are gathered in rank
order before they are used or queued, so every rank holds the same queues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bgtai.losses.gather import gather_no_grad, global_offset
from bgtai.losses.infonce import NO_LABEL, same_label_mask


@torch.no_grad()
def momentum_update(online: nn.Module, target: nn.Module, momentum: float = 0.99) -> None:
    """target <- momentum * target + (1 - momentum) * online, parameter by parameter; buffers copied."""
    for p_target, p_online in zip(target.parameters(), online.parameters(), strict=True):
        p_target.mul_(momentum).add_(p_online.detach(), alpha=1.0 - momentum)
    for b_target, b_online in zip(target.buffers(), online.buffers(), strict=True):
        b_target.copy_(b_online)


class CrossModalMoCo(nn.Module):
    """MoCo contrastive loss across modalities with one key queue per modality."""

    def __init__(
        self,
        modalities: Sequence[str],
        dim: int,
        queue_size: int = 9600,
        temperature: float = 0.07,
        in_batch_negatives: bool = True,
    ) -> None:
        super().__init__()
        if queue_size < 0 or temperature <= 0:
            raise ValueError(f"need queue_size >= 0 and temperature > 0, got {queue_size}, {temperature}")
        self.modalities = list(modalities)
        self.queue_size = int(queue_size)
        self.temperature = float(temperature)
        self.in_batch_negatives = bool(in_batch_negatives)
        for m in self.modalities:
            self.register_buffer(f"queue_{m}", torch.zeros(self.queue_size, dim))
            self.register_buffer(f"queue_labels_{m}", torch.full((self.queue_size,), NO_LABEL, dtype=torch.long))
            self.register_buffer(f"queue_valid_{m}", torch.zeros(self.queue_size, dtype=torch.bool))
            self.register_buffer(f"queue_ptr_{m}", torch.zeros((), dtype=torch.long))

    def queue(self, modality: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(keys (K, D), labels (K,), valid (K,)) of one modality's queue."""
        return (
            getattr(self, f"queue_{modality}"),
            getattr(self, f"queue_labels_{modality}"),
            getattr(self, f"queue_valid_{modality}"),
        )

    def direction(
        self, queries: torch.Tensor, keys: torch.Tensor, key_modality: str, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean cross-entropy of local `queries` (B, D) against the global keys and `key_modality`'s queue.

        `keys` are this rank's (B, D) keys, the positives of `queries` row by row.
        """
        all_keys = gather_no_grad(keys)
        all_labels = gather_no_grad(labels) if labels is not None else None
        positives = global_offset(len(queries)) + torch.arange(len(queries), device=queries.device)
        batch_logits = queries @ all_keys.T
        hide = torch.zeros_like(batch_logits, dtype=torch.bool)
        if not self.in_batch_negatives:
            hide[:] = True
        same = same_label_mask(labels, all_labels)
        if same is not None:
            hide |= same
        hide[torch.arange(len(queries)), positives] = False  # the positive always counts
        queue_keys, queue_labels, queue_valid = self.queue(key_modality)
        queue_logits = queries @ queue_keys.T
        queue_hide = ~queue_valid.unsqueeze(0).expand_as(queue_logits)
        same_queue = same_label_mask(labels, queue_labels)
        if same_queue is not None:
            queue_hide = queue_hide | same_queue
        logits = torch.cat([batch_logits, queue_logits], dim=1) / self.temperature
        logits = logits.masked_fill(torch.cat([hide, queue_hide], dim=1), float("-inf"))
        return F.cross_entropy(logits, positives)

    def forward(
        self,
        queries: Mapping[str, torch.Tensor],
        keys: Mapping[str, torch.Tensor],
        pairs: Sequence[tuple[str, str]],
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sum over `pairs` (x, y) of L(x queries, y keys) + L(y queries, x keys)."""
        total = queries[pairs[0][0]].new_zeros(())
        for x, y in pairs:
            total = total + self.direction(queries[x], keys[y], y, labels)
            total = total + self.direction(queries[y], keys[x], x, labels)
        return total

    @torch.no_grad()
    def enqueue(self, keys: Mapping[str, torch.Tensor], labels: torch.Tensor | None = None) -> None:
        """Push this step's keys (all ranks', rank order) into their queues, oldest first out."""
        for modality, local in keys.items():
            if modality not in self.modalities or self.queue_size == 0:
                continue
            new = gather_no_grad(local)
            new_labels = (
                gather_no_grad(labels)
                if labels is not None
                else torch.full((len(new),), NO_LABEL, dtype=torch.long, device=new.device)
            )
            new, new_labels = new[-self.queue_size :], new_labels[-self.queue_size :]
            queue_keys, queue_labels, queue_valid = self.queue(modality)
            pointer = getattr(self, f"queue_ptr_{modality}")
            slots = (int(pointer) + torch.arange(len(new), device=new.device)) % self.queue_size
            queue_keys[slots] = new.to(queue_keys.dtype)
            queue_labels[slots] = new_labels
            queue_valid[slots] = True
            pointer.fill_((int(pointer) + len(new)) % self.queue_size)
