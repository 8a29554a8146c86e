"""The front page's plots: the headline figures as bars, written by `bgtai report` under docs/plots.

Two pictures: the joint-space rows of the headline (`default` beside `bridges` and the
`ridge-baseline`, with chance and the goal marked), and the probe accuracy of each encoder on
ESC-50 and UrbanSound8K with the papers' ESC-50 figures as reference lines. Every bar is a value
of a result file; a picture with nothing to show is not written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from bgtai.atomic import atomic_path
from bgtai.eval.grounded_summary import MeasureRow
from bgtai.eval.results import EvalRecord

JOINT_PLOT = "headline-joint-space.png"
PROBE_PLOT = "headline-probe.png"
COLOURS = {"default": "#1f77b4", "bridges": "#aaaaaa", "ridge-baseline": "#ff7f0e"}
ANCHORED_DATASET = "esc50"  # the papers' probe figures (the anchors) are on ESC-50


def probe_panels(records: Sequence[EvalRecord]) -> list[tuple[str, str]]:
    """(dataset, panel title) per classification set of the registry, e.g. "ESC-50 fold 4 (50 classes)".

    The class count is that of the probe results (their per-class accuracies), so no dataset is loaded."""
    from bgtai.data.registry import classification_sets
    from bgtai.eval.datasets import classification_protocol

    panels = []
    for name in classification_sets():
        classes = next(
            (
                len(r.details["per_class"])
                for r in records
                if r.task == "probe" and r.dataset == name and isinstance(r.details.get("per_class"), dict)
            ),
            None,
        )
        count = f" ({classes} classes)" if classes else ""
        panels.append((name, f"{classification_protocol(name).display}{count}"))
    return panels


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # files only: no display here
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Write the figure atomically: a reader of docs/plots never sees half a PNG."""
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=90)
    return path


def plot_joint_headline(rows: Sequence[MeasureRow], columns: Sequence[str], path: Path) -> Path | None:
    """Grouped horizontal bars, one group per measure; chance as a black tick, the goal as a red one."""
    rows = [row for row in rows if any(c in row.values for c in columns)]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 0.6 * len(rows) + 1.8), layout="constrained")
    height = 0.8 / len(columns)
    for position, row in enumerate(reversed(rows)):
        for index, column in enumerate(columns):
            if column in row.values:
                y = position + (len(columns) - 1 - index - (len(columns) - 1) / 2) * height
                ax.barh(
                    y,
                    row.values[column][0],
                    height=height,
                    color=COLOURS.get(column, "#555555"),
                    label=column if position == 0 else None,
                )
        for value, colour, name in ((row.chance, "black", "chance"), (row.goal, "red", "goal")):
            if value is not None and not math.isnan(value):
                ax.plot(
                    [value, value],
                    [position - 0.45, position + 0.45],
                    color=colour,
                    linewidth=2,
                    label=name if position == 0 else None,
                )
    ax.set_yticks(range(len(rows)), [row.label for row in reversed(rows)], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("value (top-1, MRR or R@1: see the table)")
    ax.set_title("Joint space: default vs its baselines (content-clean test splits)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(columns) + 2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def best_probe_per_encoder(records: Sequence[EvalRecord], dataset: str) -> dict[str, float]:
    """{encoder: its best probe accuracy over configurations (classifier, pooling)} on `dataset`."""
    best: dict[str, float] = {}
    for record in records:
        value = record.metrics.get("accuracy")
        if record.task == "probe" and record.dataset == dataset and value is not None and not math.isnan(value):
            best[record.model] = max(value, best.get(record.model, -math.inf))
    return best


def plot_probe(records: Sequence[EvalRecord], anchors: dict[str, float], path: Path) -> Path | None:
    """One panel per dataset: each encoder's best probe accuracy, the papers' ESC-50 figures as dashed lines."""
    panels = [
        (key, title, best) for key, title in probe_panels(records) if (best := best_probe_per_encoder(records, key))
    ]
    if not panels:
        return None
    plt = _pyplot()
    tallest = max(len(best) for _, _, best in panels)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.5 * len(panels), 0.3 * tallest + 1.8), squeeze=False, layout="constrained"
    )
    for ax, (key, title, best) in zip(axes[0], panels):
        names = sorted(best, key=best.__getitem__)
        ax.barh(range(len(names)), [best[n] for n in names], color="#1f77b4")
        ax.set_yticks(range(len(names)), names, fontsize=7)
        if key == ANCHORED_DATASET:
            for number, (paper, value) in enumerate(sorted(anchors.items())):
                ax.axvline(
                    value,
                    color=("red", "green")[number % 2],
                    linestyle="--",
                    linewidth=1,
                    label=f"{paper} paper {value:.4f}",
                )
            ax.legend(fontsize=7, loc="lower right")
        ax.set_xlim(0, 1)
        ax.set_xlabel("accuracy (best configuration of each encoder)")
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)
