"""The report's training-efficiency section: one row per configuration, the curves as a plot.

Reads `efficiency` results (`bgtai eval efficiency`). Columns: training wall time, pairs
trained over all epochs, and each metric at the last epoch with the best epoch's value beside
it. CPU time (one training thread) is the fair cost on a shared machine, where other jobs
stretch wall time; the ratio column compares it with the configuration named `base`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bgtai.eval.efficiency import METRIC_LABELS, METRICS
from bgtai.eval.results import EvalRecord


def render_efficiency(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> list[str]:
    found = [r for r in records if r.task == "efficiency"]
    if not found:
        return []
    lines = ["## Training efficiency (BGTAI Fig. 2; `efficiency`)", ""]
    for record in found:
        curves = record.details.get("curves", {}) if isinstance(record.details, dict) else {}
        source = f"[{link(record.path)}]({link(record.path)})" if record.path is not None else "(not saved)"
        lines += [
            (
                f"Recipe {record.model}; protocol: `{record.protocol}`. Each cell: last epoch (best epoch). "
                f"Source: {source}, made by `{record.command}`."
            ),
            "",
        ]
        header = ["configuration", "wall time (s)", "CPU time (s)", "CPU time vs base", "pairs trained"]
        header += [METRIC_LABELS[m] for m in METRICS]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        base_cpu = record.metrics.get("base/cpu_seconds")
        for name in curves:
            seconds = record.metrics.get(f"{name}/seconds", float("nan"))
            cpu = record.metrics.get(f"{name}/cpu_seconds")
            ratio = f"{cpu / base_cpu:.2f}x" if cpu is not None and base_cpu else ""
            cells = [
                name,
                f"{seconds:.0f}",
                "" if cpu is None else f"{cpu:.0f}",
                ratio,
                f"{record.metrics.get(f'{name}/pairs', 0):.0f}",
            ]
            for metric in METRICS:
                last, best = record.metrics.get(f"{name}/{metric}"), record.metrics.get(f"{name}/best-{metric}")
                cells.append("" if last is None else f"{last:.4f} ({best:.4f})")
            lines.append("| " + " | ".join(cells) + " |")
        trained = record.details.get("trained_by", {}) if isinstance(record.details, dict) else {}
        if trained:
            lines += ["", "Trained by:", ""] + [f"- {name}: `{command}`" for name, command in trained.items()]
        for plot in record.plots:
            if record.path is not None:
                lines += ["", f"![training efficiency]({link(record.path.parent / plot)})"]
        lines.append("")
    return lines
