"""The report's per-task tables, in the papers' layout: the body of each detail page.

Each task's layout is its `TaskLayout` in the task registry (`bgtai.eval.tasks`); the datasets' display
names come from the dataset registry (`report_datasets`).

Rows are models (with their configuration), columns are datasets x metrics. Every figure
links to the JSON file it came from; under each table a numbered list of sources gives each
file's command and the commit and date it was recorded at ("not recorded" for files older
than that). Datasets the papers use but this machine lacks show "not available here";
datasets that are here but have no result yet show "not run".
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bgtai.config import data_root
from bgtai.eval.results import EvalRecord
from bgtai.eval.tasks import TaskLayout, layouts
from bgtai.provenance import describe

NOT_AVAILABLE = "not available here"
NOT_RUN = "not run"


def report_datasets() -> dict[str, tuple[str, str | None]]:
    """Dataset key of results -> (display name, folder under the data root; None: never available here).

    The keys of the registered datasets' classification protocols (`bgtai.data.registry`: the probe key is
    the dataset's name, the zero-shot key its protocol's `zeroshot_key`), then the papers' datasets.
    """
    from bgtai.data.registry import classification_sets, dataset_entry
    from bgtai.eval.builtin_tasks import PAPER_DATASETS
    from bgtai.eval.datasets import classification_protocol, zeroshot_display, zeroshot_key

    found: dict[str, tuple[str, str | None]] = {}
    for name in classification_sets():
        folder = dataset_entry(name).folder
        found[name] = (classification_protocol(name).display, folder)
        found.setdefault(zeroshot_key(name), (zeroshot_display(name), folder))
    for key, display in PAPER_DATASETS.items():
        found.setdefault(key, (display, None))
    return found


def __getattr__(name: str) -> object:
    """`TASKS` (task -> layout) and `DATASETS` (key -> display, folder): views of the registries, kept importable."""
    if name == "TASKS":
        return layouts()
    if name == "DATASETS":
        return report_datasets()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def dataset_label(key: str) -> str:
    return report_datasets().get(key, (key, None))[0]


def dataset_available(key: str) -> bool:
    """False for datasets that have no copy here (the papers' larger sets); True for the rest."""
    known = report_datasets()
    if key not in known:
        return True
    folder = known[key][1]
    root = data_root()
    return folder is not None and root is not None and (root / folder).is_dir()


def row_label(record: EvalRecord) -> str:
    configuration = record.details.get("configuration") if isinstance(record.details, dict) else None
    return f"{record.model} ({configuration})" if configuration else record.model


def _format(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"  # 0-100 scales (BLEU, ROUGE) to two decimals


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def _ordered(found: Sequence[str], preferred: Sequence[str]) -> list[str]:
    return [m for m in preferred if m in found] + sorted(m for m in found if m not in preferred)


def split_methods(records: list[EvalRecord]) -> list[EvalRecord]:
    """One record per method for records whose metrics are named "method.metric" (the baselines beside a model).

    With methods as columns a table of 6 methods x 4 metrics x 2 datasets is unreadable; as rows it reads like
    the papers' tables. Metrics without a dot stay on a row named after the record's model.
    """
    expanded: list[EvalRecord] = []
    for record in records:
        by_method: dict[str, dict[str, float]] = {}
        for name, value in record.metrics.items():
            method, dot, metric = name.partition(".")
            key, metric = (method, metric) if dot else ("", name)
            by_method.setdefault(key, {})[metric] = value
        for position, (method, metrics) in enumerate(by_method.items()):
            model = method or record.model  # the baselines are rows of their own, not variants of the model
            plots = record.plots if position == 0 else []  # each plot once
            expanded.append(replace(record, model=model, metrics=metrics, plots=plots))
    return expanded


def _sources(records: list[EvalRecord], out_dir: Path) -> tuple[dict[Path, int], list[str]]:
    sources = sorted({r.path for r in records if r.path is not None})
    number = {path: i + 1 for i, path in enumerate(sources)}
    if not sources:
        return number, []
    by_path = {r.path: r for r in records}
    return number, ["", "Sources (the number after a figure):", ""] + source_table(
        [by_path[p] for p in sources], out_dir
    )


def source_table(records: Sequence[EvalRecord], out_dir: Path, numbered: bool = True) -> list[str]:
    """A table of result files: the command that made each, and the commit and date it was recorded at."""
    header = ["#"] * numbered + ["result file", "command", "commit", "date"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for position, record in enumerate(records, start=1):
        if record.path is None:
            continue
        link = _relative(record.path, out_dir)
        commit, date = describe(record.provenance)
        command = command_text(record)
        cells = ([str(position)] if numbered else []) + [f"[{link}]({link})", command, commit, date]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def command_text(record: EvalRecord) -> str:
    """The evaluation command, and the training command of its model, as one table cell."""
    return f"`{record.command}`{_trained_by(record)}".replace("|", "\\|")  # a pipe would end the cell


def _trained_by(record: EvalRecord) -> str:
    command = record.details.get("trained_by") if isinstance(record.details, dict) else None
    # a string; efficiency results hold one command per configuration, which their own table lists
    return f" (model trained by `{command}`)" if isinstance(command, str) and command else ""


def _cell(record: EvalRecord, metric: str, out_dir: Path, number: dict[Path, int] | None = None) -> str:
    if metric not in record.metrics:
        return ""
    if record.path is None:
        return _format(record.metrics[metric])
    source = f" [{number[record.path]}]" if number else ""
    return f"[{_format(record.metrics[metric])}]({_relative(record.path, out_dir)}){source}"


def render_by_dataset_rows(task: str, layout: TaskLayout, records: list[EvalRecord], out_dir: Path) -> list[str]:
    """One row per (model, dataset): for tasks measured on many pair sets and directions."""
    lines = [f"## {layout.title} (`{task}`)", ""]
    missing = [d for d in layout.datasets if not any(r.dataset == d for r in records)]
    if missing:
        lines += [
            "Not here: "
            + ", ".join(
                f"{dataset_label(d)} ({NOT_AVAILABLE if not dataset_available(d) else NOT_RUN})" for d in missing
            )
            + ".",
            "",
        ]
    found = list(dict.fromkeys(m for r in records for m in r.metrics))
    preferred = [m for m in found if m in layout.metrics]
    metrics = _ordered(preferred if layout.only_preferred and preferred else found, layout.metrics)
    number, source_lines = _sources(records, out_dir)
    lines += ["| model | data, direction | " + " | ".join(metrics) + " | source |", "|" + "---|" * (len(metrics) + 3)]
    # methods of one result stay together, in the order the evaluation listed them (baselines first)
    order = (lambda r: r.dataset) if layout.methods_as_rows else (lambda r: (row_label(r), r.dataset))
    for record in sorted(records, key=order):
        cells = [row_label(record), dataset_label(record.dataset)] + [_cell(record, m, out_dir) for m in metrics]
        cells.append(f"[{number[record.path]}]" if record.path is not None else "")
        lines.append("| " + " | ".join(cells) + " |")
    protocols = sorted({r.protocol for r in records})
    if protocols:
        lines += ["", "Protocols: " + "; ".join(f"`{p}`" for p in protocols) + "."]
    return lines + source_lines + [""]


def render_task(task: str, records: list[EvalRecord], out_dir: Path) -> list[str]:
    layout = layouts().get(task, TaskLayout(task, (), ()))
    if layout.methods_as_rows:
        records = split_methods(records)
    if layout.datasets_as_rows:
        return render_by_dataset_rows(task, layout, records, out_dir)
    datasets = list(layout.datasets) + sorted({r.dataset for r in records} - set(layout.datasets))
    rows = list(dict.fromkeys(row_label(r) for r in sorted(records, key=lambda r: (r.model, row_label(r)))))
    cell: dict[tuple[str, str], EvalRecord] = {(row_label(r), r.dataset): r for r in records}
    columns: list[tuple[str, str | None]] = []  # (dataset, metric or None for a placeholder column)
    for dataset in datasets:
        found = [m for r in records if r.dataset == dataset for m in r.metrics]
        if layout.only_preferred:
            found = [m for m in found if m in layout.metrics]
        metrics = _ordered(list(dict.fromkeys(found)), layout.metrics)
        columns += [(dataset, m) for m in metrics] if metrics else [(dataset, None)]

    number, source_lines = _sources(records, out_dir)
    header = ["model"] + [f"{dataset_label(d)}<br>{m or ''}".removesuffix("<br>") for d, m in columns]
    lines = [f"## {layout.title} (`{task}`)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row]
        for position, (dataset, metric) in enumerate(columns):
            record = cell.get((row, dataset))
            first_of_dataset = position == 0 or columns[position - 1][0] != dataset
            if record is None or metric is None:
                cells.append(NOT_RUN if dataset_available(dataset) else NOT_AVAILABLE)
            elif metric not in record.metrics:
                cells.append("")
            elif record.path is None:
                cells.append(_format(record.metrics[metric]))
            else:
                link = _relative(record.path, out_dir)
                source = f" [{number[record.path]}]" if first_of_dataset else ""  # the command, once per file
                cells.append(f"[{_format(record.metrics[metric])}]({link}){source}")
        lines.append("| " + " | ".join(cells) + " |")
    if not rows:
        placeholders = [NOT_RUN if dataset_available(d) else NOT_AVAILABLE for d, _ in columns]
        lines.append("| " + " | ".join(["(no results)", *placeholders]) + " |")

    protocols = sorted({(r.dataset, r.protocol) for r in records})
    if protocols:
        lines += ["", "Protocols: " + "; ".join(f"{dataset_label(d)}: `{p}`" for d, p in protocols) + "."]
    lines += source_lines
    plots = [(r, plot) for r in records if r.path is not None for plot in r.plots]
    for record, plot in plots:
        image = _relative(record.path.parent / plot, out_dir)  # type: ignore[union-attr]
        lines += ["", f"![{row_label(record)} on {dataset_label(record.dataset)}]({image})"]
    return lines + [""]
