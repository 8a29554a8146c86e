"""Training checkpoints of the shared loop: written atomically, the one before kept as a fallback.

`OUT/checkpoint.pt` is replaced at every save and the checkpoint it replaces stays as
`OUT/checkpoint.previous.pt`: a damaged newest one (a truncated copy, a full disk) is
reported and the previous one is read instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from bgtai.atomic import atomic_path, check_target, sweep
from bgtai.train import distributed

CHECKPOINT = "checkpoint.pt"
PREVIOUS_CHECKPOINT = "checkpoint.previous.pt"  # the one before: the fallback when checkpoint.pt is damaged
FORMAT = 2  # 1: the joint trainer's own layout before the shared loop (not resumable by this version)


def save_checkpoint(out: Path, state: dict[str, Any]) -> Path:
    """Write `state` as `out/checkpoint.pt`, atomically; the replaced one becomes `checkpoint.previous.pt`."""
    path = out / CHECKPOINT
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        torch.save({**state, "format": FORMAT}, temporary)
        if path.exists():
            # the new checkpoint takes its place as the block ends: a kill between these two
            # renames leaves only the previous checkpoint, which resuming reads
            os.replace(path, out / PREVIOUS_CHECKPOINT)
    return path


def read_checkpoint(out: Path) -> tuple[Path | None, dict[str, Any] | None, list[str]]:
    """(path, state, problems): the newest checkpoint of `out` that reads; problems name each one that did not.

    (None, None, []) when there is no checkpoint at all.
    """
    problems: list[str] = []
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        candidate = out / name
        if not candidate.exists():
            continue
        try:
            state = torch.load(candidate, map_location="cpu", weights_only=False)
        except Exception as error:  # noqa: BLE001 - whatever fails while reading it, the file is unusable
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            problems.append(f"{candidate} is damaged ({first})")
            continue
        if isinstance(state, dict) and state.get("format") == FORMAT:
            return candidate, state, problems
        if isinstance(state, dict) and "recipe" in state and "format" not in state:
            problems.append(f"{candidate} was written by an earlier bgtai's own joint trainer and cannot be resumed")
        else:
            problems.append(f"{candidate} is damaged (not a training checkpoint)")
    return None, None, problems


def prepare_run_folder(out: Path, resume: bool, keep: tuple[str, ...]) -> None:
    """Before any work: `out` must be a folder that can be written; an existing checkpoint needs `resume`.

    The main process then sweeps what a killed run left there: temporaries of the checkpoint and of
    each name in `keep` (the best model); a name ending in "/" is a folder whose every temporary goes
    (the snapshots).
    """
    check_target(out, folder=True)
    checkpoints = [out / name for name in (CHECKPOINT, PREVIOUS_CHECKPOINT) if (out / name).exists()]
    if checkpoints and not resume:
        raise FileExistsError(f"{checkpoints[0]} exists: pass resume=True (--resume) or choose another --out")
    if distributed.is_main():
        sweep(out, CHECKPOINT)
        for target in keep:
            if target.endswith("/"):
                sweep(out / target.rstrip("/"), None)
            else:
                sweep(out, target)
