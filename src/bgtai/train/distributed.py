"""Multi-process training helpers: join the process group `torchrun` describes, or run alone.

`torchrun --nproc_per_node=2 -m bgtai.cli.main train --recipe NAME` sets RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT; `setup()` then joins a gloo group on CPU (NCCL with CUDA).
Without those variables everything runs in one process and the helpers are identities.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.distributed as dist

from bgtai.losses.gather import rank_and_world


def setup() -> bool:
    """Join the process group named by the torchrun environment; True when this call created it."""
    if dist.is_initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend)
    return True


def teardown(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()


def is_main() -> bool:
    return rank_and_world()[0] == 0


def world_size() -> int:
    return rank_and_world()[1]


def mean_over_ranks(value: float) -> float:
    """The mean of a float over all ranks (the value itself in one process)."""
    if world_size() == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor.item()) / world_size()


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def concatenate_over_ranks(values: np.ndarray) -> np.ndarray:
    """Every rank's equally long 1-d array, joined in rank order (the array itself in one process)."""
    if world_size() == 1:
        return values
    local = torch.as_tensor(np.asarray(values, dtype=np.float64))
    parts = [torch.empty_like(local) for _ in range(world_size())]
    dist.all_gather(parts, local)
    return torch.cat(parts).numpy()
