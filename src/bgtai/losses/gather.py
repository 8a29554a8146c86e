"""Gathering embeddings across DDP ranks, as identity functions outside a process group.

`gather_with_grad` is an all-gather whose backward sums the gradient of the whole gathered
tensor over ranks and hands each rank its own slice. When every rank computes the same
loss on the gathered batch, rank r thus receives n * dL/d(its rows); DDP's gradient
averaging divides by n again, so the update equals the single-process one. It uses
all_reduce, not reduce_scatter, because gloo (CPU) has no reduce_scatter.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the default process group, (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        rank, world = rank_and_world()
        ctx.rank, ctx.rows = rank, tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All ranks' rows in rank order (equal row counts per rank), differentiable."""
    if rank_and_world()[1] == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


@torch.no_grad()
def gather_no_grad(tensor: torch.Tensor) -> torch.Tensor:
    """All ranks' rows in rank order (equal row counts per rank), detached."""
    world = rank_and_world()[1]
    if world == 1:
        return tensor.detach()
    parts = [torch.empty_like(tensor) for _ in range(world)]
    dist.all_gather(parts, tensor.detach().contiguous())
    return torch.cat(parts, dim=0)


def global_offset(rows: int) -> int:
    """Index of this rank's first row in the gathered batch."""
    return rank_and_world()[0] * rows
