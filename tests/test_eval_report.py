"""Result files round-trip with their provenance; the report's front page leads with the headline table and
links one detail page per task, where every figure sits in its cell with a link, its command and provenance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_records import page, probe_record

from bgtai.errors import BadInputError
from bgtai.eval.report import NOT_AVAILABLE, NOT_RUN, render_report, write_report
from bgtai.eval.results import EvalRecord, read_result, read_results, write_result
from bgtai.provenance import NOT_RECORDED


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
        probe_record("aisfx", "esc50", 0.61234, "bgtai eval probe --dataset esc50 --encoder aisfx"), results / "a.json"
    )
    write_result(
        probe_record("whisper", "esc50", 0.55, "bgtai eval probe --dataset esc50 --encoder whisper"), results / "b.json"
    )
    (results / "cm.png").write_bytes(b"png")
    text = page(results, tmp_path, "probe.md")
    table = [line for line in text.splitlines() if line.startswith("| aisfx")][0]
    # the source number (pointing at the command) follows the first figure of each file only
    assert "[0.6123](../../results/a.json) [1] | [0.0100](../../results/a.json) |" in table
    assert "ESC-50 fold 4<br>accuracy" in text
    # UrbanSound8K: no data here -> not available; FSD50K never here
    assert NOT_AVAILABLE in table
    assert "`bgtai eval probe --dataset esc50 --encoder aisfx`" in text
    assert "![aisfx (linear) on ESC-50 fold 4](../../results/cm.png)" in text
    (data / "urbansound8k").mkdir()
    text = page(results, tmp_path, "probe.md")
    row = [line for line in text.splitlines() if line.startswith("| aisfx")][0]
    assert NOT_RUN in row
    # tasks written by other modules get a generic page of their own
    write_result(EvalRecord("custom", "aslg", "test", "rules", {"BLEU-4": 0.2}, "bgtai eval x"), results / "g.json")
    out = write_report(results, tmp_path / "out" / "R.md")
    assert "[0.2000](../../../results/g.json)" in (tmp_path / "out" / "docs" / "results" / "custom.md").read_text()
    assert "(docs/results/custom.md)" in out.read_text()


def test_align_methods_become_rows(tmp_path: Path) -> None:
    results = tmp_path / "results"
    metrics = {"dsnet.f1": 0.4, "dsnet.sp": 0.1, "dtw.f1": 0.3, "dtw.sp": 0.2}
    write_result(
        EvalRecord("align", "bbc speech", "held-out topic", "dsnet", metrics, "bgtai eval align"),
        results / "align.json",
    )
    table = page(results, tmp_path, "align.md")
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
        write_result(
            EvalRecord(
                "retrieval",
                f"tuxpaint {direction}",
                "p",
                "runs/x/best",
                {"R@1": r1, "R@10": 0.9, "MRR": 0.4},
                "bgtai eval retrieval",
            ),
            results / f"{direction.replace('->', '-')}.json",
        )
    table = page(results, tmp_path, "retrieval.md")
    rows = [line for line in table.splitlines() if line.startswith("| runs/x/best")]
    assert len(rows) == 2
    by_direction = {row.split(" | ")[1]: row for row in rows}
    assert (
        "[0.2500]" in by_direction["tuxpaint sound->picture"] and "[0.5000]" in by_direction["tuxpaint picture->sound"]
    )


def _grounded(results: Path) -> None:
    """The default model beside its two baselines on ESC-50 zero-shot, as scripts/grounded_results.sh writes them."""
    classes = {str(i): 0.0 for i in range(50)}
    for model, recipe, top1 in (
        ("runs/default/best", "default", 0.6),
        ("bridges", None, 0.5),
        ("runs/ridge-baseline/best", "ridge-baseline", 0.4),
    ):
        details = {
            "per_class": classes,
            **({"recipe": recipe, "trained_by": f"bgtai train --recipe {recipe}"} if recipe else {}),
        }
        write_result(
            EvalRecord(
                "zeroshot", "esc50", "p", model, {"top1": top1}, f"bgtai eval zeroshot --model {model}", details
            ),
            results / f"zeroshot-{recipe or 'bridges'}.json",
        )


def _other_tasks(results: Path) -> None:
    classes = {str(i): 0.5 for i in range(50)}
    for encoder, accuracy in (("aisfx", 0.6), ("yamnet", 0.7)):
        write_result(
            EvalRecord(
                "probe",
                "esc50",
                "p",
                encoder,
                {"accuracy": accuracy, "std": 0.01},
                f"bgtai eval probe --encoder {encoder}",
                {"per_class": classes},
            ),
            results / f"probe-{encoder}.json",
        )
    write_result(
        EvalRecord("gloss", "ASLG-PC12 test (1000 pairs)", "p", "rules", {"bleu4": 50.0}, "bgtai eval gloss"),
        results / "gloss.json",
    )
    write_result(
        EvalRecord(
            "align",
            "bbc speech",
            "p",
            "dsnet",
            {"uniform.sentence_accuracy": 0.1, "dtw.sentence_accuracy": 0.3, "dsnet.sentence_accuracy": 0.2},
            "bgtai eval align",
        ),
        results / "align.json",
    )
    write_result(
        EvalRecord(
            "efficiency", "esc50", "p", "tiny", {"base/seconds": 2.0}, "bgtai eval efficiency", {"curves": {"base": []}}
        ),
        results / "efficiency.json",
    )


def test_front_page_leads_with_the_headline_and_links_every_detail_page(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _grounded(results)
    _other_tasks(results)
    out = write_report(results, tmp_path / "RESULTS.md")
    front = out.read_text()
    assert front.startswith("# bgtai results\n")
    headline, details = front.index("## Headline"), front.index("## Details")
    assert headline < details and front[headline:].split("\n")[2].startswith(
        "| measure | measured here | model | `bridges` |"
    )
    rows = {
        line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in front.splitlines() if line.startswith("| ")
    }
    probe = rows["ESC-50 fold 4 probe accuracy"]
    assert probe[1] == "[0.7000](results/probe-yamnet.json)" and probe[2] == "yamnet"  # the best of the two encoders
    assert probe[5] == "0.0200" and "BGTAI 0.9455" in probe[7]  # chance of 50 classes; the paper's figure
    align = rows["BBC spoken summary->article, sentence accuracy"]
    assert align[1].startswith("[0.3000]") and align[2] == "`dtw`" and align[5] == "0.1000 (uniform)"
    assert rows["ASLG-PC12 text->gloss BLEU-4"][1] == "[50.00](results/gloss.json)"
    zeroshot = rows["ESC-50 fold 4 zero-shot top-1"]
    assert (
        zeroshot[1] == "**[0.6000](results/zeroshot-default.json)**"
        and zeroshot[3] == "[0.5000](results/zeroshot-bridges.json)"
    )
    # the commands behind the figures: the probe's source number points at its command
    number = probe[-1].strip(" |")
    assert f"| {number.strip('[]')} | `bgtai eval probe --encoder yamnet` |" in front
    # every detail page is written and linked from the front page, and every result file is on one of them
    pages = sorted((tmp_path / "docs" / "results").glob("*.md"))
    assert {p.stem for p in pages} >= {"joint-space", "zeroshot", "probe", "gloss", "align", "efficiency", "retrieval"}
    assert all(f"(docs/results/{p.name})" in front for p in pages)
    texts = "\n".join(p.read_text() for p in pages)
    for path in sorted(results.glob("*.json")):
        assert f"(../../results/{path.name})" in texts, path.name
    assert all("[Back to the headline](../../RESULTS.md)" in p.read_text() for p in pages)


def test_provenance_is_written_read_back_and_shown_and_old_files_say_not_recorded(tmp_path: Path) -> None:
    results = tmp_path / "results"
    path = write_result(
        EvalRecord("gloss", "aslg", "p", "rules", {"bleu4": 50.0}, "bgtai eval gloss --new"), results / "new.json"
    )
    block = json.loads(path.read_text())["provenance"]
    assert set(block) == {"git_commit", "date", "python", "packages"}
    assert block["date"].endswith("Z") and {"bgtai", "torch", "numpy"} <= set(block["packages"])
    assert read_result(path).provenance == block
    # a file from before provenance was recorded still reads, with an empty block
    old = {
        "task": "gloss",
        "dataset": "aslg",
        "protocol": "p",
        "model": "old",
        "metrics": {"bleu4": 40.0},
        "command": "bgtai eval gloss --old",
    }
    (results / "old.json").write_text(json.dumps(old))
    assert read_result(results / "old.json").provenance == {}
    gloss_page = page(results, tmp_path, "gloss.md")
    new_row = next(line for line in gloss_page.splitlines() if "`bgtai eval gloss --new`" in line)
    old_row = next(line for line in gloss_page.splitlines() if "`bgtai eval gloss --old`" in line)
    assert new_row.endswith(f"| {block['git_commit'][:10]}{block['git_commit'][40:]} | {block['date'][:10]} |")
    assert old_row.endswith(f"| {NOT_RECORDED} | {NOT_RECORDED} |")
    # rewriting a record read back keeps the provenance it came with, not today's
    again = write_result(read_result(path), tmp_path / "copy.json")
    assert json.loads(again.read_text())["provenance"] == block
    assert "1 of 2 file(s) were written before results recorded their commit" in render_report(
        results, tmp_path / "R.md"
    )


def test_stale_detail_pages_go_but_hand_written_ones_stay(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _other_tasks(results)
    pages = tmp_path / "docs" / "results"
    write_result(EvalRecord("custom", "x", "p", "m", {"a": 1.0}, "bgtai eval x"), results / "custom.json")
    write_report(results, tmp_path / "RESULTS.md")
    assert (pages / "custom.md").is_file()
    (results / "custom.json").unlink()
    (pages / "notes.md").write_text("# my notes\n")
    write_report(results, tmp_path / "RESULTS.md")
    assert not (pages / "custom.md").exists() and (pages / "notes.md").read_text() == "# my notes\n"


def test_headline_plots_are_drawn_under_the_plots_folder_and_shown_on_the_front_page(tmp_path: Path) -> None:
    results = tmp_path / "results"
    _grounded(results)
    _other_tasks(results)
    front = write_report(results, tmp_path / "RESULTS.md", tmp_path / "docs" / "plots").read_text()
    for name in ("headline-joint-space.png", "headline-probe.png"):
        assert (tmp_path / "docs" / "plots" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"(docs/plots/{name})" in front
    assert front.index("## Plots") < front.index("## Details")


def test_generation_headline_row_shows_the_best_two_choice_beside_chance_and_control(tmp_path: Path) -> None:
    from bgtai.eval.report import render_report

    results = tmp_path / "results"
    for name, value, control in (("a", 0.55, 0.5), ("b", 0.61, 0.48)):
        write_result(
            EvalRecord(
                "generation",
                "esc50+tuxpaint",
                "p",
                f"runs/{name}",
                {"two_choice": value, "two_choice_control": control},
                f"bgtai eval generation --generator runs/{name}",
            ),
            results / f"generation-{name}.json",
        )
    front = render_report(results, tmp_path / "RESULTS.md")
    row = next(line for line in front.splitlines() if line.startswith("| ESC-50 sound->generated picture"))
    assert "0.6100" in row and "runs/b" in row and "0.5000 (control 0.4800)" in row
