"""The front page's one table: the figure per task beside its baselines, chance and the papers' anchors.

Its core is the grounded model's table (`bgtai.eval.grounded_summary`): the `default` joint space
beside the untrained `bridges` and the `ridge-baseline`, one row per measure with a goal. Below
them, one row per other task: the best configuration measured here (probe, gloss, alignment).
Every value comes from a result file; the papers' figures are quoted from the method guide
(METHOD.md section 5) and are on the papers' full datasets, not on the subsets scored here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bgtai.eval.grounded_summary import (
    BASELINES,
    TRAINED,
    MeasureRow,
    brief_caveats,
    cell_text,
    grounded_found,
    measure_rows,
)
from bgtai.eval.report_tables import _format, command_text, row_label
from bgtai.eval.results import EvalRecord
from bgtai.eval.tasks import Pick, headline_picks
from bgtai.provenance import describe

HEADLINE_COLUMNS = (TRAINED, *BASELINES)
# measure label -> the papers' figure for it (METHOD.md section 5: full datasets, the papers' own protocols)
PAPER_ANCHORS: dict[str, str] = {
    "ESC-50 fold 4 zero-shot top-1": "BGTAI 0.5015, UniBriVL 0.412 (all ESC-50)",
    "ESC-50 fold 4 probe accuracy": "BGTAI 0.9455, UniBriVL 0.9307 (5 folds)",
}
# ESC-50 probe anchors as numbers, for the plot's reference lines (the papers quote none for the other sets)
PROBE_ANCHORS: dict[str, float] = {"BGTAI": 0.9455, "UniBriVL": 0.9307}
PROBE_ANCHORS_DATASET = "esc50"
ALIGN_BASELINE = "uniform"  # an even path: what an aligner knowing nothing gets (the chance column)


GENERATION_CHANCE = 0.5  # the two-choice test picks one of two classes


@dataclass(frozen=True)
class Best:
    value: float
    record: EvalRecord
    model: str
    chance: str  # formatted, "-" when none


def _matches(record: EvalRecord, pick: Pick) -> bool:
    return record.task == pick.task and (
        record.dataset == pick.dataset or (pick.dataset.endswith("(") and record.dataset.startswith(pick.dataset))
    )


def best_of(records: Sequence[EvalRecord], pick: Pick) -> Best | None:
    """The highest value of `pick.metric` among the matching results (align: among each result's methods)."""
    found: list[Best] = []
    for record in records:
        if not _matches(record, pick):
            continue
        if record.task == "align":  # metrics are "method.metric"; the even path is the no-knowledge baseline
            baseline = record.metrics.get(f"{ALIGN_BASELINE}.{pick.metric}")
            chance = f"{_format(baseline)} ({ALIGN_BASELINE})" if baseline is not None else "-"
            for name, value in record.metrics.items():
                method, _, metric = name.partition(".")
                if metric == pick.metric and method != ALIGN_BASELINE and not math.isnan(value):
                    found.append(Best(value, record, f"`{method}`", chance))
            continue
        value = record.metrics.get(pick.metric)
        if value is None or math.isnan(value):
            continue
        classes = record.details.get("per_class") if isinstance(record.details, dict) else None
        chance = _format(1.0 / len(classes)) if record.task == "probe" and classes else "-"
        if record.task == "generation":
            control = record.metrics.get("two_choice_control")
            chance = _format(GENERATION_CHANCE) + (f" (control {_format(control)})" if control is not None else "")
        found.append(Best(value, record, row_label(record), chance))
    return max(found, key=lambda b: b.value, default=None)  # ties: the first, in file order


def render_headline_table(
    records: Sequence[EvalRecord], link: Callable[[Path], str], details_link: str
) -> tuple[list[str], list[str]]:
    """(the table with its short caveats, the commands behind its figures)."""
    found = grounded_found(records)
    columns = [c for c in HEADLINE_COLUMNS if any(key[0] == c for key in found)]
    grounded = measure_rows(found, columns) if TRAINED in columns else []
    # one row per task outside the joint space: each registered task's headline picks (bgtai.eval.tasks)
    others = [(pick, best) for pick in headline_picks() if (best := best_of(records, pick)) is not None]
    if not grounded and not others:
        return ['No result yet: run the evaluations (README, "Evaluating") and then `bgtai report results`.', ""], []
    sources: dict[str, list[EvalRecord]] = {}  # command -> its results, in order of first use: the last column

    def source(record: EvalRecord) -> str:
        command = command_text(record)
        sources.setdefault(command, []).append(record)
        return f"[{list(sources).index(command) + 1}]"

    lines = [
        "| measure | measured here | model | `bridges` | `ridge-baseline` | chance | goal | paper | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in grounded:
        lines.append(_grounded_line(row, columns, link, source))
    for pick, best in others:
        value = _format(best.value)
        here = f"[{value}]({link(best.record.path)})" if best.record.path is not None else value
        paper = PAPER_ANCHORS.get(pick.label, "-")
        lines.append(
            f"| {pick.label} | {here} | {best.model} | - | - | {best.chance} | - | {paper} | {source(best.record)} |"
        )
    return lines + [""] + _reading_notes(found, bool(grounded), details_link) + [""], command_lines(sources)


def command_lines(sources: dict[str, list[EvalRecord]]) -> list[str]:
    """The commands behind the table's figures, numbered as its last column, with when they were recorded."""
    lines = ["| # | command | commit | date |", "|---|---|---|---|"]
    for number, (command, records) in enumerate(sources.items(), start=1):
        described = [describe(r.provenance) for r in records]
        commits = ", ".join(sorted({c for c, _ in described}))
        dates = ", ".join(sorted({d for _, d in described}))
        lines.append(f"| {number} | {command} | {commits} | {dates} |")
    return lines + [""]


def _grounded_line(
    row: MeasureRow, columns: list[str], link: Callable[[Path], str], source: Callable[[EvalRecord], str]
) -> str:
    def cell(column: str) -> str:
        return cell_text(row, column, link) if column in columns else "not run"

    here = cell(TRAINED)
    record = row.values[TRAINED][1] if TRAINED in row.values else None
    chance = f"{row.chance:.4f}" if row.chance is not None else "-"
    goal = "-" if row.goal is None else f">= {row.goal:.2f}"
    paper = PAPER_ANCHORS.get(row.label, "-")
    return (
        f"| {row.label} | {here} | `{TRAINED}` | {cell(BASELINES[0])} | {cell(BASELINES[1])} | {chance} | {goal} | "
        f"{paper} | {source(record) if record is not None else '-'} |"
    )


def _reading_notes(found: dict[tuple[str, str, str], EvalRecord], grounded: bool, details_link: str) -> list[str]:
    notes = []
    if grounded:
        notes.append(
            "- `default` is the grounded model (`bgtai train --recipe default`: concept bridges plus a residual tower "
            "per modality), `bridges` the same space untrained, `ridge-baseline` a ridge map from the same features "
            "and pairs; all on content-clean test splits. **Bold**: the best of the three; `(not above baselines)`: "
            "the trained model does not beat both."
        )
        notes += [f"- {line}" for line in brief_caveats(found)]
    notes.append(
        "- Other rows: the best configuration scored here, which is chosen on the test figures too. The "
        "papers' figures are on their full datasets and protocols, not on these subsets."
    )
    notes.append(
        f"- The full grounded table, with its ablations and seed runs: {details_link}; every other "
        "figure: the pages under Details."
    )
    return notes
