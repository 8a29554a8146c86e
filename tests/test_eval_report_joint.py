"""The joint-space summary in the report: one row per trained model, the single- versus two-stage verdict,
the leaky-split marks and the grounded headline's verdict against its baselines."""

from __future__ import annotations

from pathlib import Path

from report_records import page, probe_record

from bgtai.eval.report import build_report, write_report
from bgtai.eval.results import EvalRecord, write_result


def test_joint_summary_has_one_row_per_trained_model_in_fixed_columns(tmp_path: Path) -> None:
    results = tmp_path / "results"
    trained = {"recipe": "slava-av", "trained_by": "bgtai train --recipe slava-av"}
    write_result(
        EvalRecord("zeroshot", "esc50", "p", "runs/a/best", {"top1": 0.25}, "bgtai eval zeroshot", trained),
        results / "z.json",
    )
    write_result(
        EvalRecord(
            "retrieval",
            "coco-image-text T->I",
            "p",
            "runs/a/best",
            {"R@1": 0.1, "R@5": 0.3},
            "bgtai eval retrieval",
            trained,
        ),
        results / "r.json",
    )
    write_result(
        EvalRecord("zeroshot", "esc50", "p", "encoder-only", {"top1": 0.9}, "bgtai eval zeroshot"),
        results / "untrained.json",
    )
    pages = build_report(results, tmp_path / "RESULTS.md").pages
    table = pages["joint-space.md"][pages["joint-space.md"].index("## Joint space") :].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == 1 and "slava-av" in rows[0]  # only results of trained models
    cells = rows[0].split(" | ")
    assert cells[2] == "-"  # no Tux Paint/Asterisk retrieval in the row: its split does not matter
    assert cells[3] == "[0.2500](../../results/z.json)" and "not run" in cells[4]  # US8K fold 10 missing
    assert "[0.1000](../../results/r.json)" in rows[0] and "[0.3000](../../results/r.json)" in rows[0]
    assert "(model trained by `bgtai train --recipe slava-av`)" in pages["zeroshot.md"]


def _stage_record(
    recipe: str, stages: int, direction: str, ranks: list[int], fold: int = 0, setting: str = "--set stages.0.epochs=10"
) -> EvalRecord:
    command = f"bgtai train --recipe {recipe} --out runs/{recipe}-{fold} {setting} --set data.test_fold={fold}"
    return EvalRecord(
        "retrieval",
        f"tuxpaint-sound-image {direction}",
        "p",
        f"runs/{recipe}-{fold}/best",
        {"MRR": 0.0},
        "c",
        {"recipe": recipe, "stages": stages, "first_ranks": ranks, "test_fold": fold, "trained_by": command},
    )


def _both_directions(recipe: str, stages: int, ranks: list[int], fold: int = 0, **setting: str) -> list[EvalRecord]:
    return [_stage_record(recipe, stages, d, ranks, fold, **setting) for d in ("A->I", "I->A")]


def test_single_versus_two_stage_verdict_needs_a_clear_query_by_query_difference() -> None:
    from bgtai.eval.joint_summary import stage_comparison

    def compare(single: list[int], two: list[int]) -> str:
        return stage_comparison(_both_directions("one", 1, single) + _both_directions("two", 2, two))[0]

    assert "reproduced" in compare([1] * 30, [5] * 30)  # single stage first every time
    assert "reversed" in compare([5] * 30, [1] * 30)
    assert "not resolved" in compare([1, 5] * 15, [5, 1] * 15)  # same MRR, opposite queries
    assert stage_comparison(_both_directions("one", 1, [1, 2])) == []  # no two-stage model


def test_stage_verdict_averages_each_kind_and_pools_the_folds_of_one_training_setting() -> None:
    from bgtai.eval.joint_summary import stage_comparison

    records = []
    for fold in (0, 1, 2):
        records += _both_directions("good-single", 1, [1] * 10, fold)
        records += _both_directions("poor-single", 1, [3] * 10, fold)
        records += _both_directions("two", 2, [2] * 10, fold)
    records += _both_directions("fold-0-only", 1, [9] * 10, 0)  # not on folds 1-2: left out of the pooled check
    records += _both_directions("other-setting", 2, [1] * 10, 0, setting="--set stages.0.epochs=99")
    lines = stage_comparison(records)
    verdict = lines[0]
    assert "test folds 0, 1, 2 pooled (30 objects" in verdict
    # mean over the single-stage recipes, (1 + 1/3) / 2 = 0.6667, not the best one (1.0); two stage 0.5
    assert "single-stage recipes 0.6667" in verdict and "two-stage recipes 0.5000" in verdict
    assert "reproduced" in verdict and "--set stages.0.epochs=10" in verdict and "test_fold" not in verdict
    table = "\n".join(lines)
    assert "| good-single | 1 | 1.0000 | 1.0000 |" in table and "| two | 2 | 0.5000 | 1.0000 |" in table
    assert "fold-0-only" not in table and "other-setting" not in table
    assert "`runs/two-0/best`, `runs/two-1/best`, `runs/two-2/best`" in table


def test_joint_table_leaves_cross_validation_folds_to_the_stage_comparison(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for fold in (0, 1):
        for number, record in enumerate(_both_directions("slava-av", 1, [1, 2], fold)):
            write_result(record, results / f"r{fold}-{number}.json")
    text = page(results, tmp_path, "joint-space.md")
    table = text[text.index("## Joint space") :].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in rows] == ["| `runs/slava-av-0/best`"]


def test_plots_are_published_to_a_docs_folder_and_linked_there(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_result(probe_record("aisfx", "esc50", 0.5, "bgtai eval probe"), results / "a.json")
    (results / "cm.png").write_bytes(b"png")
    write_report(results, tmp_path / "RESULTS.md", tmp_path / "docs" / "plots")
    page = tmp_path / "docs" / "results" / "probe.md"
    assert (tmp_path / "docs" / "plots" / "cm.png").read_bytes() == b"png"
    assert "(../plots/cm.png)" in page.read_text() and "results/cm.png" not in page.read_text()
    # a fresh clone has the published copy but not the scratch plot: the report keeps linking the copy
    (results / "cm.png").unlink()
    write_report(results, tmp_path / "RESULTS.md", tmp_path / "docs" / "plots")
    assert "(../plots/cm.png)" in page.read_text() and "results/cm.png" not in page.read_text()


def test_joint_summary_says_which_rows_were_scored_on_the_leaky_split(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model, protocol in (
        ("runs/old/best", "item-level pairs; test split: stamps whose id hashes below 0.3"),
        ("runs/new/best", "item-level pairs; test split: content-grouped: stamps sharing ..."),
    ):
        trained = {"recipe": "slava-av", "trained_by": f"bgtai train --recipe slava-av --out {model}"}
        write_result(
            EvalRecord(
                "retrieval",
                "tuxpaint-sound-image A->I",
                protocol,
                model,
                {"R@1": 0.1, "MRR": 0.2},
                "bgtai eval retrieval",
                trained,
            ),
            results / f"{model.split('/')[1]}.json",
        )
    text = page(results, tmp_path, "joint-space.md")
    table = text[text.index("## Joint space") :].split("\n## ")[0]
    rows = {line.split(" | ")[0]: line.split(" | ")[2] for line in table.splitlines() if line.startswith("| `runs/")}
    assert rows == {"| `runs/new/best`": "content-clean", "| `runs/old/best`": "per-id (leaky)"}


def test_grounded_headline_marks_a_trained_model_that_does_not_beat_its_baselines(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model, recipe, top1 in (
        ("runs/default/best", "default", 0.5),
        ("bridges", None, 0.6),
        ("runs/ridge-baseline/best", "ridge-baseline", 0.4),
    ):
        details = (
            {"recipe": recipe, "per_class": {str(i): 0.0 for i in range(50)}}
            if recipe
            else {"per_class": {str(i): 0.0 for i in range(50)}}
        )
        write_result(
            EvalRecord("zeroshot", "esc50", "p", model, {"top1": top1}, "bgtai eval zeroshot", details),
            results / f"{recipe or 'bridges'}.json",
        )
    report = build_report(results, tmp_path / "RESULTS.md")
    full = report.pages["joint-space.md"]
    grounded = full[full.index("## The grounded model") :].split("\n## ")[0]
    row = next(line for line in grounded.splitlines() if line.startswith("| ESC-50 fold 4 zero-shot"))
    default, bridges, ridge, chance = row.split(" | ")[1:5]
    assert "(not above baselines)" in default and bridges.startswith("**") and "not above" not in ridge
    assert chance == "0.0200"
    # the front page's table has the same verdicts, next to the papers' figure
    front = next(line for line in report.front.splitlines() if line.startswith("| ESC-50 fold 4 zero-shot"))
    here, model, bridges, ridge, chance = front.split(" | ")[1:6]
    assert "(not above baselines)" in here and model == "`default`" and bridges.startswith("**")
    assert chance == "0.0200" and "BGTAI 0.5015" in front
