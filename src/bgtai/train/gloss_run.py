"""What the two gloss trainers (Langue2Gloss, `bgtai.train.gloss`; the edit tagger, `bgtai.train.tagger`)
share around the training loop: its settings, the run folder, resuming, and the run's clock and summary.

Both select on the validation BLEU-4 (greedy), higher is better, clip the gradient norm at 1.0
and follow `bgtai.train.schedule.warmup_decay` by step. A checkpoint may be resumed with another
`threads` or `max_minutes` (how fast and how long, not what is trained); any other setting must
be the one it was written with.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bgtai.atomic import write_text
from bgtai.train.checkpoint import prepare_run_folder, read_checkpoint
from bgtai.train.gloss_settings import GlossTrainSettings
from bgtai.train.loop import LoopSettings, LoopSummary, Task, TrainingLoop

BEST = "best"
HISTORY = "history.json"  # the run's summary, its per-epoch history included
SELECT_ON = "valid_bleu4"
FREE_SETTINGS = ("threads", "max_minutes")  # may differ between a run and its resumption


def settings_identity(settings: GlossTrainSettings) -> dict[str, Any]:
    """What a checkpoint must have been written with to be resumed by a run of `settings`."""
    return {key: value for key, value in asdict(settings).items() if key not in FREE_SETTINGS}


def check_same_settings(identity: dict[str, Any], saved: dict[str, Any], path: Path) -> None:
    differing = sorted(key for key in set(identity) | set(saved) if identity.get(key) != saved.get(key))
    if differing:
        raise ValueError(
            f"{path} was written with other gloss settings ({', '.join(differing)} differ): "
            "resume with the settings it was started with, or use another --out"
        )


def prepare_folder(out: Path, resume: bool) -> None:
    """Before any data is read: `out` must be writable; an existing checkpoint needs `resume`; leftovers go."""
    prepare_run_folder(out, resume, keep=(BEST,))


def saved_task_state(out: Path) -> dict[str, Any] | None:
    """The task part of the newest checkpoint of `out` that reads (None when there is none)."""
    _, state, _ = read_checkpoint(out)
    return None if state is None else state["task"]


class RunClock:
    """Wall and CPU time since the run (this process's part of it) started."""

    def __init__(self) -> None:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()

    def wall(self) -> float:
        return time.perf_counter() - self.started

    def cpu(self) -> float:
        return time.process_time() - self.cpu_started


def run_loop(
    task: Task,
    settings: GlossTrainSettings,
    out: Path,
    resume: bool,
    progress: bool,
    on_step: Callable[[int], None] | None,
) -> LoopSummary:
    """Train `task` on the shared loop into `out` (from its checkpoint with `resume`) to the end."""
    loop_settings = LoopSettings(
        select_on=SELECT_ON,
        higher_is_better=True,
        grad_clip=1.0,
        max_minutes=settings.max_minutes,
        best_name=BEST,
        progress=progress,
    )
    loop = TrainingLoop(task, loop_settings, out, identity=settings_identity(settings), on_step=on_step)
    if resume:
        loop.resume()
    return loop.run()


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    write_text(out / HISTORY, json.dumps(summary, indent=2) + "\n")
