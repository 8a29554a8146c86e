"""Made-up result records and the report's pages, shared by the report tests."""

from __future__ import annotations

from pathlib import Path

from bgtai.eval.report import build_report
from bgtai.eval.results import EvalRecord


def page(results: Path, root: Path, name: str) -> str:
    """A detail page as the report writes it for RESULTS.md in `root` (links relative to root/docs/results)."""
    return build_report(results, root / "RESULTS.md").pages[name]


def probe_record(model: str, dataset: str, acc: float, command: str) -> EvalRecord:
    return EvalRecord(
        "probe",
        dataset,
        f"{dataset}-protocol",
        model,
        {"accuracy": acc, "std": 0.01},
        command,
        details={"configuration": "linear"},
        plots=["cm.png"],
    )
