"""`bgtai demo` quick (the default) vs `--full`: which jobs, probes and recipe settings each runs (no data needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgtai.cli.demo import FULL_WHISPER, QUICK_WHISPER, DemoPlan, EmbedJob, _stage_embed, jobs, probe_plan
from bgtai.cli.demo_joint import QUICK_OVERRIDES, recipe_overrides, run_folder, train_demo_model
from bgtai.train.recipes import load_grounded_recipe, recipe_path

QUICK, FULL, EVERYTHING = DemoPlan(), DemoPlan(full=True), DemoPlan(full=True, whisper_all=True)


def _runs(plan: DemoPlan) -> list[tuple[str, str, str]]:
    return [(job.dataset, job.what, job.encoder) for job in jobs(plan) if plan.skipped(job.needs) is None]


def test_quick_demo_never_runs_whispers_30_s_window_nor_aisfx_over_urbansound() -> None:
    ran = _runs(QUICK)
    assert all(encoder != FULL_WHISPER for _, _, encoder in ran)
    assert ("esc50", "clips", QUICK_WHISPER) in ran and ("tuxpaint", "spoken descriptions", QUICK_WHISPER) in ran
    assert ("urbansound8k", "clips", "aisfx") not in ran and ("urbansound8k", "clips", "yamnet") in ran
    assert not {"fsdd", "asterisk_prompts"} & {d for d, what, _ in ran if what == "utterances"}


def test_full_demo_runs_the_committed_encoders_and_whisper_all_adds_the_speech_sets() -> None:
    full, everything = _runs(FULL), _runs(EVERYTHING)
    assert ("esc50", "clips", FULL_WHISPER) in full and ("urbansound8k", "clips", "aisfx") in full
    assert all(encoder != QUICK_WHISPER for _, _, encoder in everything)
    added = set(everything) - set(full)
    assert added == {
        ("urbansound8k", "clips", FULL_WHISPER),
        ("fsdd", "utterances", FULL_WHISPER),
        ("asterisk_prompts", "utterances", FULL_WHISPER),
    }
    assert len(everything) == len(jobs(EVERYTHING))  # nothing is skipped in the longest run


def test_whisper_all_needs_full() -> None:
    with pytest.raises(ValueError, match="--full"):
        DemoPlan(whisper_all=True)
    from bgtai.cli.main import main

    assert main(["demo", "--whisper-all", "--no-train"]) == 2  # refused before any work


def test_probe_rows_are_the_same_in_both_sizes_and_skipped_ones_say_why() -> None:
    quick, full = probe_plan(QUICK), probe_plan(FULL)
    assert [d for d, _, _ in quick] == [d for d, _, _ in full]  # the same rows, in the same order
    assert [(d, s) for d, s, why in quick if why is None] == [
        ("esc50", "aisfx"),
        ("esc50", QUICK_WHISPER),
        ("esc50", "yamnet+aisfx"),
        ("urbansound8k", "yamnet"),
    ]
    assert all("--full" in why for _, _, why in quick if why is not None)
    assert [(d, s) for d, s, why in full if why is not None] == [("urbansound8k", FULL_WHISPER)]
    assert all(why is None for _, _, why in probe_plan(EVERYTHING))


@pytest.mark.parametrize("name", ["default", "ridge-baseline"])
def test_quick_recipe_is_the_committed_one_with_yamnet_only_and_no_transcripts(name: str) -> None:
    committed = json.loads(recipe_path(name).read_text(encoding="utf-8"))
    assert recipe_overrides(name, full=True) == []
    full = load_grounded_recipe(name, recipe_overrides(name, full=True))
    assert (
        full.name == name and full.model_config().bridges.speech and "aisfx" in full.model_config().front_ends["audio"]
    )
    quick = load_grounded_recipe(name, recipe_overrides(name, full=False))
    config = quick.model_config()
    assert quick.name == f"{name}-quick" and all(o in quick.description for o in QUICK_OVERRIDES)
    assert config.front_ends == {"audio": ["yamnet"], "image": committed["model"]["front_ends"]["image"]}
    assert config.bridges.speech is False
    # everything else as committed: the same pairs (test items still left out), design and optimiser
    assert quick.pair_options() == full.pair_options() and quick.pair_options().exclude_test
    assert (config.design, quick.epochs, quick.lr, quick.seed) == (
        committed["model"]["design"],
        committed["epochs"],
        committed["lr"],
        committed["seed"],
    )


def test_quick_and_full_runs_never_share_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_folder(tmp_path, "default", full=False) != run_folder(tmp_path, "default", full=True)
    finished = run_folder(tmp_path, "default", full=False)
    (finished / "best").mkdir(parents=True)
    (finished / ".done").write_text("best epoch 1\n", encoding="utf-8")
    assert train_demo_model("default", runs=tmp_path, full=False) == finished / "best"  # reused, not trained
    assert "using the finished run" in capsys.readouterr().out
    assert not run_folder(tmp_path, "default", full=True).exists()


def test_embed_stage_runs_the_quick_jobs_and_lists_the_skipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    def never() -> list[str]:
        raise AssertionError("a job the quick demo skips was loaded")

    planned = [
        EmbedJob("made-up", "sentences", "text", "tiny-text", lambda: ["a dog barks", "rain", "a bell"]),
        EmbedJob("made-up", "long clips", "audio", "tiny-audio", never, needs="full"),
    ]
    _stage_embed(QUICK, planned)
    lines = capsys.readouterr().out.splitlines()
    ran = next(line for line in lines if line.startswith("made-up") and "sentences" in line).split()
    assert ran[2:4] == ["tiny-text", "3"]  # encoder, count
    skipped = next(line for line in lines if line.startswith("made-up") and "long clips" in line)
    assert "skipped (quick demo: bgtai demo --full)" in skipped
