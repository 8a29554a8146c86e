"""The report's detail pages: one Markdown page per task under docs/results, everything the front page leaves out.

Pages: `joint-space` (the grounded table with its ablations and seeds, one row per trained
model, single vs two stage), one per task (the ranked tasks of `bgtai.eval.tasks` always:
`zeroshot`, `retrieval`, `probe`, `gloss`, `align`; any other task found), `efficiency` and
`ablation`. Every result file appears on its task's
page (efficiency results on `efficiency`), with its command and the commit and date it was
recorded at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bgtai.eval.ablation_report import alignment_settings, render_ablation
from bgtai.eval.efficiency_report import render_efficiency
from bgtai.eval.grounded_summary import column_of, render_grounded_headline
from bgtai.eval.joint_summary import recipe_of, render_joint_summary
from bgtai.eval.report_tables import _relative, render_task, source_table
from bgtai.eval.results import EvalRecord
from bgtai.eval.tasks import eval_task, layouts, report_order, task_names
from bgtai.provenance import describe

MARKER = "<!-- made by `bgtai report`: rewritten on every run, do not edit -->"
JOINT_TASKS = ("zeroshot", "retrieval")


@dataclass(frozen=True)
class Page:
    name: str  # file name under the pages folder
    title: str
    lines: list[str]  # the body, links relative to the pages folder
    records: int  # result files shown
    label: str = ""  # the front page's link text; the title when empty

    def text(self, back: str, results: str) -> str:
        return (
            "\n".join(
                [
                    MARKER,
                    "",
                    f"# {self.title}",
                    "",
                    (
                        f"[Back to the headline]({back}). Made by `bgtai report` from {self.records} result file(s) in "
                        f"`{results}`. Every figure was measured here, on the subsets and protocols named with it; they are not "
                        "the papers' numbers (which use full datasets). Each figure links to its JSON file."
                    ),
                    "",
                    *self.lines,
                ]
            ).rstrip()
            + "\n"
        )


def _without_heading(lines: list[str]) -> list[str]:
    """A section's body without its "## title" line: the page's own title says it."""
    return lines[2:] if lines and lines[0].startswith("## ") else lines


def _on_joint_page(record: EvalRecord) -> bool:
    return record.task in JOINT_TASKS and (recipe_of(record) is not None or column_of(record) is not None)


def _trained_with_alignment(record: EvalRecord) -> bool:
    command = record.details.get("trained_by") if isinstance(record.details, dict) else None
    return record.task in JOINT_TASKS and isinstance(command, str) and alignment_settings(command) is not None


def recorded_by_model(records: Sequence[EvalRecord]) -> list[str]:
    """Per model: how many result files, and the commits and days they were recorded at."""
    by_model: dict[str, list[EvalRecord]] = {}
    for record in records:
        by_model.setdefault(record.model, []).append(record)
    lines = ["| model | result files | commit | date |", "|---|---|---|---|"]
    for model in sorted(by_model):
        described = [describe(r.provenance) for r in by_model[model]]
        commits = ", ".join(sorted({c for c, _ in described}))
        dates = ", ".join(sorted({d for _, d in described}))
        lines.append(f"| `{model}` | {len(by_model[model])} | {commits} | {dates} |")
    return lines


def _joint_page(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> Page | None:
    shown = [r for r in records if _on_joint_page(r)]
    grounded = render_grounded_headline(records, link, "## The grounded model beside its baselines and ablations")
    body = grounded + render_joint_summary(records, link)
    if not shown or not body:
        return None
    body += [
        "## When each model's figures were recorded",
        "",
        "Commands are on the [zeroshot](zeroshot.md) and [retrieval](retrieval.md) pages.",
        "",
        *recorded_by_model(shown),
        "",
    ]
    return Page(
        "joint-space.md",
        "Joint space: the grounded model, every trained model, single vs two stage",
        body,
        len(shown),
        "Joint space: the full grounded table, every trained model, single vs two stage",
    )


def _ablation_page(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> Page | None:
    shown = [r for r in records if _trained_with_alignment(r)]
    body = _without_heading(render_ablation(records, link))
    if not body:
        return None
    body += [
        "## When each model's figures were recorded",
        "",
        "Commands are on the [zeroshot](zeroshot.md) and [retrieval](retrieval.md) pages.",
        "",
        *recorded_by_model(shown),
        "",
    ]
    return Page("ablation.md", "Alignment ablation (BGTAI Table 4)", body, len(shown))


def _efficiency_page(records: Sequence[EvalRecord], link: Callable[[Path], str], pages_dir: Path) -> Page | None:
    shown = [r for r in records if r.task == "efficiency"]
    body = _without_heading(render_efficiency(records, link))
    if not body:
        return None
    body += ["Sources:", "", *source_table(shown, pages_dir, numbered=False), ""]
    return Page("efficiency.md", "Training efficiency (BGTAI Fig. 2)", body, len(shown))


def render_pages(records: Sequence[EvalRecord], pages_dir: Path) -> list[Page]:
    """Every page that has something to show, in the front page's order."""

    def link(path: Path) -> str:
        return _relative(path, pages_dir)

    pages = [_joint_page(records, link)]
    found = {r.task for r in records}
    # the ranked tasks (the papers') always: their placeholders say what is not run here; then any other task
    # found, registered or not, except those with a page of their own
    ranked = [t.name for t in report_order() if t.report_rank is not None]
    own = {name for name in task_names() if eval_task(name).own_page}
    tasks = ranked + sorted(found - set(ranked) - own)
    tables = layouts()
    for task in tasks:
        shown = [r for r in records if r.task == task]
        title = tables[task].title if task in tables else f"Task `{task}`"
        short = eval_task(task).short_title if task in task_names() else ""
        body = _without_heading(render_task(task, shown, pages_dir))
        pages.append(Page(f"{task}.md", f"{title} (`{task}`)", body, len(shown), short or title))
    pages += [_efficiency_page(records, link, pages_dir), _ablation_page(records, link)]
    return [page for page in pages if page is not None]
