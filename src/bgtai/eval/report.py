"""`bgtai report`: a short front page (RESULTS.md) and one detail page per task (docs/results/).

The front page leads with one table: the figure per task beside the baselines, chance and the
papers' anchors (`bgtai.eval.report_headline`), a few plots of those figures
(`bgtai.eval.report_plots`), and links to the detail pages (`bgtai.eval.report_pages`), which
hold every result file's figures, commands and provenance.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from bgtai.atomic import write_text
from bgtai.eval.grounded_summary import TRAINED, grounded_found, measure_rows
from bgtai.eval.report_headline import HEADLINE_COLUMNS, PROBE_ANCHORS, render_headline_table
from bgtai.eval.report_pages import MARKER, Page, render_pages
from bgtai.eval.report_plots import JOINT_PLOT, PROBE_PLOT, plot_joint_headline, plot_probe
from bgtai.eval.report_tables import NOT_AVAILABLE, NOT_RUN, _relative, dataset_label  # noqa: F401 (re-exported)
from bgtai.eval.results import EvalRecord, read_results
from bgtai.provenance import NOT_RECORDED, UNKNOWN, describe

PAGES_FOLDER = Path("docs") / "results"  # beside the front page, unless told otherwise


@dataclass(frozen=True)
class Report:
    front: str  # the front page's Markdown
    pages: dict[str, str]  # detail page file name -> its Markdown


def publish_plots(records: list[EvalRecord], plots_dir: Path) -> list[EvalRecord]:
    """Copy each record's plots into `plots_dir` and point the records at the copies.

    Plots are made beside their result JSON (a scratch place: not tracked); the report's copies are
    the ones a repository keeps, under a documentation folder.
    """
    plots_dir.mkdir(parents=True, exist_ok=True)
    published = []
    for record in records:
        if record.path is None or not record.plots:
            published.append(record)
            continue
        moved = []
        for plot in record.plots:
            source, copy = record.path.parent / plot, plots_dir / Path(plot).name
            if source.is_file():
                shutil.copyfile(source, copy)
            if copy.is_file():  # copied now, or published by an earlier report (a fresh clone has no scratch plots)
                moved.append(os.path.relpath(copy, record.path.parent))
            else:
                moved.append(plot)  # missing everywhere: the link says where it was expected
        published.append(replace(record, plots=moved))
    return published


def _recorded(records: list[EvalRecord]) -> str:
    """One sentence: when the figures were recorded, and how many files predate provenance records."""
    days = sorted({describe(r.provenance)[1] for r in records} - {NOT_RECORDED, UNKNOWN})
    missing = sum(1 for r in records if not r.provenance)
    when = (
        f"recorded between {days[0]} and {days[-1]} (UTC)"
        if len(days) > 1
        else f"recorded on {days[0]} (UTC)"
        if days
        else ""
    )
    older = (
        (
            f"{missing} of {len(records)} file(s) were written before results recorded their commit and date "
            f'("{NOT_RECORDED}" on the detail pages)'
        )
        if missing
        else ""
    )
    return "; ".join(part for part in (when, older) if part)


def _headline_plots(records: list[EvalRecord], plots_dir: Path, out_dir: Path) -> list[str]:
    found = grounded_found(records)
    columns = [c for c in HEADLINE_COLUMNS if any(key[0] == c for key in found)]
    rows = measure_rows(found, columns) if TRAINED in columns else []
    made = [
        (plot_joint_headline(rows, columns, plots_dir / JOINT_PLOT), "joint space: default vs its baselines"),
        (plot_probe(records, PROBE_ANCHORS, plots_dir / PROBE_PLOT), "probe accuracy per encoder"),
    ]
    # generated pictures: the figure `bgtai eval generation --figure` drew (its path is in the record), not redrawn
    for record in records:
        figure = (
            record.details.get("figure") if record.task == "generation" and isinstance(record.details, dict) else None
        )
        if figure and Path(figure).is_file():
            made.append((Path(figure), f"sounds -> generated pictures: {record.model}"))
    return [f"![{alt}]({_relative(path, out_dir)})" for path, alt in made if path is not None]


def _front_page(
    records: list[EvalRecord], results_dir: Path, out_path: Path, pages_dir: Path, pages: list[Page], plots: list[str]
) -> str:
    out_dir = out_path.parent

    def link(path: Path) -> str:
        return _relative(path, out_dir)

    recorded = _recorded(records)
    joint = next((p for p in pages if p.name == "joint-space.md"), None)
    details = f"[{joint.name}]({link(pages_dir / joint.name)})" if joint else "the detail pages below"
    table, commands = render_headline_table(records, link, details)
    lines = [
        "# bgtai results",
        "",
        (
            f"Made by `bgtai report {_relative(results_dir, out_dir)} --out {out_path.name}` from {len(records)} result "
            f"file(s){'; ' + recorded if recorded else ''}. Every figure was measured here, on small subsets (named on "
            "the detail pages); they are not the papers' numbers. Each figure links to its JSON file."
        ),
        "",
        "## Headline",
        "",
        *table,
    ]
    if plots:
        lines += ["## Plots", "", *plots, ""]
    lines += [
        "## Details",
        "",
        "One page per task; every result file is on one of them, with its command, commit and date.",
        "",
    ]
    lines += [
        f"- [{page.label or page.title}]({link(pages_dir / page.name)}): {page.records} result file(s)"
        for page in pages
    ]
    if commands:
        lines += [
            "",
            "## Commands behind the headline",
            "",
            "Numbered as the table's last column; commit and date "
            f'as recorded with the result ("{NOT_RECORDED}": written before results recorded them).',
            "",
            *commands,
        ]
    return "\n".join(lines).rstrip() + "\n"


def build_report(
    results_dir: str | Path,
    out_path: str | Path,
    plots_dir: str | Path | None = None,
    pages_dir: str | Path | None = None,
) -> Report:
    """The front page for `out_path` and the detail pages for `pages_dir` (default: docs/results beside it).

    With `plots_dir`, the results' plots are copied there and the front page's plots drawn there.
    """
    results_dir, out_path = Path(results_dir), Path(out_path)
    out_dir = out_path.parent
    pages_dir = Path(pages_dir) if pages_dir is not None else out_dir / PAGES_FOLDER
    records = read_results(results_dir)
    plots: list[str] = []
    if plots_dir is not None:
        records = publish_plots(records, Path(plots_dir))
        plots = _headline_plots(records, Path(plots_dir), out_dir)
    pages = render_pages(records, pages_dir)
    back, results = _relative(out_path, pages_dir), _relative(results_dir, out_dir)
    return Report(
        _front_page(records, results_dir, out_path, pages_dir, pages, plots),
        {page.name: page.text(back, results) for page in pages},
    )


def render_report(
    results_dir: str | Path,
    out_path: str | Path,
    plots_dir: str | Path | None = None,
    pages_dir: str | Path | None = None,
) -> str:
    """The front page's Markdown (links relative to `out_path`'s folder)."""
    return build_report(results_dir, out_path, plots_dir, pages_dir).front


def write_report(
    results_dir: str | Path,
    out_path: str | Path,
    plots_dir: str | Path | None = None,
    pages_dir: str | Path | None = None,
) -> Path:
    """Write the front page to `out_path` and the detail pages.

    Pages an earlier report wrote (they carry its mark) and this one does not are removed."""
    out_path = Path(out_path)
    pages_dir = Path(pages_dir) if pages_dir is not None else out_path.parent / PAGES_FOLDER
    report = build_report(results_dir, out_path, plots_dir, pages_dir)
    for name, text in report.pages.items():
        write_text(pages_dir / name, text)
    for stale in sorted(pages_dir.glob("*.md")):  # only pages carrying the report's mark: never a hand-written one
        if stale.name not in report.pages and stale.read_text(encoding="utf-8").startswith(MARKER):
            stale.unlink()
    write_text(out_path, report.front)
    return out_path
