"""The alignment-ablation table: settings read from the training command, one row per model."""

from __future__ import annotations

from pathlib import Path

from bgtai.eval.ablation_report import alignment_settings
from bgtai.eval.report import build_report
from bgtai.eval.results import EvalRecord, write_result


def test_settings_come_from_the_training_command() -> None:
    command = (
        "bgtai train --recipe r --out runs/x --ds-net --result-filter --set alignment.loss=l2 "
        "--set data.max_audio_frames=3 --set 'model.language={\"width\": 128}'"
    )
    assert alignment_settings(command) == {
        "loss": "L2",
        "D": "yes",
        "audio": "first 3 block(s), 4.6 s",
        "result filter": "yes",
    }
    plain = alignment_settings("bgtai train --recipe r --result-filter")
    assert plain == {"loss": "CE + SP", "D": "no", "audio": "whole clips", "result filter": "yes"}
    assert alignment_settings("bgtai train --recipe r --set optim.lr=1e-3") is None


def test_only_models_trained_with_alignment_get_a_row(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for name, command in (
        ("aligned", "bgtai train --recipe r --ds-net --result-filter"),
        ("plain", "bgtai train --recipe r"),
    ):
        details = {"trained_by": command, "recipe": "r"}
        write_result(
            EvalRecord("zeroshot", "esc50", "p", f"runs/{name}/best", {"top1": 0.25}, "bgtai eval", details),
            results / f"zs-{name}.json",
        )
    report = build_report(results, tmp_path / "RESULTS.md")
    section = report.pages["ablation.md"]  # its own detail page, linked from the front page
    rows = [line for line in section.splitlines() if line.startswith("| runs/")]
    assert len(rows) == 1 and rows[0].startswith("| runs/aligned/best | CE + SP | yes | yes | whole clips |")
    assert "[0.2500](../../results/zs-aligned.json)" in rows[0] and rows[0].count("not run") == 4
    assert "(docs/results/ablation.md)" in report.front
