"""A training run's log: `OUT/log.csv` (one row per epoch) and TensorBoard scalars when it is installed."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from bgtai.atomic import write_text

LOG = "log.csv"


class RunLog:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.writer: Any = None

    def open_tensorboard(self, step: int) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return  # tensorboard is optional; the CSV log is always written
        self.writer = SummaryWriter(str(self.out / "tensorboard"), purge_step=step or None)

    def batch(self, loss: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar("train/loss", loss, step)

    def write(self, history: list[dict[str, Any]], validation: float, step: int) -> None:
        """Rewrite the CSV whole from the history, so a resumed run's log has no rows from the lost epoch."""
        fields: list[str] = []
        for record in history:
            fields += [key for key in record if key not in fields]
        text = io.StringIO()
        table = csv.DictWriter(text, fieldnames=fields)
        table.writeheader()
        table.writerows(history)
        write_text(self.out / LOG, text.getvalue())
        if self.writer is not None:
            self.writer.add_scalar("val/loss", validation, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
