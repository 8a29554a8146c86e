"""Result files round-trip; the report puts every figure in its cell with a link and its command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgtai.errors import BadInputError
from bgtai.eval.report import NOT_AVAILABLE, NOT_RUN, render_report, write_report
from bgtai.eval.results import EvalRecord, read_result, read_results, write_result


def _probe(model: str, dataset: str, acc: float, command: str) -> EvalRecord:
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


def test_result_round_trip_and_nan(tmp_path: Path) -> None:
    record = EvalRecord(
        "zeroshot",
        "esc50",
        "p",
        "m",
        {"top1": 0.5, "top5": float("nan")},
        "bgtai eval zeroshot",
        details={"per_class": {"empty": float("nan")}},
    )
    path = write_result(record, tmp_path / "sub" / "r.json")
    data = json.loads(path.read_text())
    assert set(data) >= {"task", "dataset", "protocol", "model", "metrics", "command"}
    assert data["metrics"]["top5"] is None and data["details"]["per_class"]["empty"] is None
    back = read_result(path)
    assert back.metrics["top1"] == 0.5 and back.path == path
    assert not list(tmp_path.rglob("*.tmp"))


def test_bad_result_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(BadInputError, match="broken.json"):
        read_results(tmp_path)
    (tmp_path / "broken.json").write_text(json.dumps({"task": "probe"}))
    with pytest.raises(BadInputError, match="missing key"):
        read_results(tmp_path)


def test_report_layout_links_and_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    (data / "esc50").mkdir(parents=True)  # ESC-50 is here, UrbanSound8K is not
    monkeypatch.setenv("BGTAI_DATA", str(data))
    results = tmp_path / "results"
    write_result(
        _probe("aisfx", "esc50", 0.61234, "bgtai eval probe --dataset esc50 --encoder aisfx"), results / "a.json"
    )
    write_result(
        _probe("whisper", "esc50", 0.55, "bgtai eval probe --dataset esc50 --encoder whisper"), results / "b.json"
    )
    (results / "cm.png").write_bytes(b"png")
    text = render_report(results, tmp_path / "RESULTS.md")
    table = [line for line in text.splitlines() if line.startswith("| aisfx")][0]
    # the source number (pointing at the command) follows the first figure of each file only
    assert "[0.6123](results/a.json) [1] | [0.0100](results/a.json) |" in table
    assert "ESC-50 fold 4<br>accuracy" in text
    # UrbanSound8K: no data here -> not available; FSD50K never here
    assert NOT_AVAILABLE in table
    assert "`bgtai eval probe --dataset esc50 --encoder aisfx`" in text
    assert "![aisfx (linear) on ESC-50 fold 4](results/cm.png)" in text
    (data / "urbansound8k").mkdir()
    text = render_report(results, tmp_path / "RESULTS.md")
    row = [line for line in text.splitlines() if line.startswith("| aisfx")][0]
    assert NOT_RUN in row
    # tasks written by other modules get a generic table
    write_result(EvalRecord("custom", "aslg", "test", "rules", {"BLEU-4": 0.2}, "bgtai eval x"), results / "g.json")
    out = write_report(results, tmp_path / "out" / "R.md")
    assert "[0.2000](../results/g.json)" in out.read_text()


def test_align_methods_become_rows(tmp_path: Path) -> None:
    results = tmp_path / "results"
    metrics = {"dsnet.f1": 0.4, "dsnet.sp": 0.1, "dtw.f1": 0.3, "dtw.sp": 0.2}
    write_result(EvalRecord("align", "bbc speech", "held-out topic", "dsnet", metrics, "bgtai eval align"),
                 results / "align.json")
    text = render_report(results, tmp_path / "RESULTS.md")
    table = text[text.index("(`align`)"):]
    header = next(line for line in table.splitlines() if line.startswith("| model"))
    assert "dtw" not in header and "| f1 | sp |" in header  # columns: metrics, not methods
    lines = [line for line in table.splitlines() if line.startswith("| d")]
    rows = {line.split(" | ")[0].strip("| "): line for line in lines}
    assert list(rows) == ["dsnet", "dtw"]  # in the result's own order
    assert all("| bbc speech |" in line for line in lines)  # one row per (method, data set)
    assert "[0.3000]" in rows["dtw"] and "[0.2000]" in rows["dtw"] and "0.4000" not in rows["dtw"]


def test_retrieval_has_one_row_per_model_and_direction(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for direction, r1 in (("sound->picture", 0.25), ("picture->sound", 0.5)):
        write_result(EvalRecord("retrieval", f"tuxpaint {direction}", "p", "runs/x/best",
                                {"R@1": r1, "R@10": 0.9, "MRR": 0.4}, "bgtai eval retrieval"),
                     results / f"{direction.replace('->', '-')}.json")
    text = render_report(results, tmp_path / "RESULTS.md")
    table = text[text.index("(`retrieval`)"):].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| runs/x/best")]
    assert len(rows) == 2
    by_direction = {row.split(" | ")[1]: row for row in rows}
    assert "[0.2500]" in by_direction["tuxpaint sound->picture"] and "[0.5000]" in by_direction["tuxpaint picture->sound"]


def test_joint_summary_has_one_row_per_trained_model_in_fixed_columns(tmp_path: Path) -> None:
    results = tmp_path / "results"
    trained = {"recipe": "slava-av", "trained_by": "bgtai train --recipe slava-av"}
    write_result(EvalRecord("zeroshot", "esc50", "p", "runs/a/best", {"top1": 0.25}, "bgtai eval zeroshot", trained),
                 results / "z.json")
    write_result(EvalRecord("retrieval", "coco-image-text T->I", "p", "runs/a/best", {"R@1": 0.1, "R@5": 0.3},
                            "bgtai eval retrieval", trained), results / "r.json")
    write_result(EvalRecord("zeroshot", "esc50", "p", "encoder-only", {"top1": 0.9}, "bgtai eval zeroshot"),
                 results / "untrained.json")
    text = render_report(results, tmp_path / "RESULTS.md")
    table = text[text.index("## Joint space"):].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == 1 and "slava-av" in rows[0]  # only results of trained models
    cells = rows[0].split(" | ")
    assert cells[2] == "-"  # no Tux Paint/Asterisk retrieval in the row: its split does not matter
    assert cells[3] == "[0.2500](results/z.json)" and "not run" in cells[4]  # US8K fold 10 missing
    assert "[0.1000](results/r.json)" in rows[0] and "[0.3000](results/r.json)" in rows[0]
    assert "(model trained by `bgtai train --recipe slava-av`)" in text


def _stage_record(recipe: str, stages: int, direction: str, ranks: list[int], fold: int = 0,
                  setting: str = "--set stages.0.epochs=10") -> EvalRecord:
    command = f"bgtai train --recipe {recipe} --out runs/{recipe}-{fold} {setting} --set data.test_fold={fold}"
    return EvalRecord("retrieval", f"tuxpaint-sound-image {direction}", "p", f"runs/{recipe}-{fold}/best",
                      {"MRR": 0.0}, "c", {"recipe": recipe, "stages": stages, "first_ranks": ranks,
                                          "test_fold": fold, "trained_by": command})


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
    text = render_report(results, tmp_path / "RESULTS.md")
    table = text[text.index("## Joint space"):].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in rows] == ["| `runs/slava-av-0/best`"]


def test_plots_are_published_to_a_docs_folder_and_linked_there(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_result(_probe("aisfx", "esc50", 0.5, "bgtai eval probe"), results / "a.json")
    (results / "cm.png").write_bytes(b"png")
    out = write_report(results, tmp_path / "RESULTS.md", tmp_path / "docs" / "plots")
    assert (tmp_path / "docs" / "plots" / "cm.png").read_bytes() == b"png"
    assert "(docs/plots/cm.png)" in out.read_text() and "(results/cm.png)" not in out.read_text()
    # a fresh clone has the published copy but not the scratch plot: the report keeps linking the copy
    (results / "cm.png").unlink()
    again = write_report(results, tmp_path / "RESULTS.md", tmp_path / "docs" / "plots")
    assert "(docs/plots/cm.png)" in again.read_text() and "(results/cm.png)" not in again.read_text()


def test_joint_summary_says_which_rows_were_scored_on_the_leaky_split(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model, protocol in (("runs/old/best", "item-level pairs; test split: stamps whose id hashes below 0.3"),
                            ("runs/new/best", "item-level pairs; test split: content-grouped: stamps sharing ...")):
        trained = {"recipe": "slava-av", "trained_by": f"bgtai train --recipe slava-av --out {model}"}
        write_result(EvalRecord("retrieval", "tuxpaint-sound-image A->I", protocol, model, {"R@1": 0.1, "MRR": 0.2},
                                "bgtai eval retrieval", trained), results / f"{model.split('/')[1]}.json")
    text = render_report(results, tmp_path / "RESULTS.md")
    rows = {line.split(" | ")[0]: line.split(" | ")[2] for line in text.splitlines() if line.startswith("| `runs/")}
    assert rows == {"| `runs/new/best`": "content-clean", "| `runs/old/best`": "per-id (leaky)"}


def test_grounded_headline_marks_a_trained_model_that_does_not_beat_its_baselines(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for model, recipe, top1 in (("runs/default/best", "default", 0.5), ("bridges", None, 0.6),
                                ("runs/ridge-baseline/best", "ridge-baseline", 0.4)):
        details = {"recipe": recipe, "per_class": {str(i): 0.0 for i in range(50)}} if recipe else {
            "per_class": {str(i): 0.0 for i in range(50)}}
        write_result(EvalRecord("zeroshot", "esc50", "p", model, {"top1": top1}, "bgtai eval zeroshot", details),
                     results / f"{recipe or 'bridges'}.json")
    text = render_report(results, tmp_path / "RESULTS.md")
    headline = text[text.index("## Headline"):].split("\n## ")[0]
    row = next(line for line in headline.splitlines() if line.startswith("| ESC-50 fold 4 zero-shot"))
    default, bridges, ridge, chance = row.split(" | ")[1:5]
    assert "(not above baselines)" in default and bridges.startswith("**") and "not above" not in ridge
    assert chance == "0.0200"
