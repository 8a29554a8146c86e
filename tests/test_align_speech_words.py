"""Speech-to-words alignment items: frame pooling, gold steps from word times, and the TTS bridge's DTW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.align.speech_words import (
    STEP_S,
    bridge_steps,
    gold_steps,
    normalise_word,
    pool_frames,
)
from bgtai.io import tts

needs_espeak = pytest.mark.skipif(tts.shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def test_pool_frames_averages_runs_and_keeps_a_short_tail() -> None:
    frames = np.arange(12, dtype=np.float32).reshape(6, 2)
    pooled = pool_frames(frames, pool=4)
    assert pooled.shape == (2, 2)
    assert pooled[0].tolist() == [3.0, 4.0] and pooled[1].tolist() == [9.0, 10.0]


def test_gold_step_is_the_step_of_the_word_midpoint_clipped_to_the_sequence() -> None:
    timings = [("hello", 0.0, 0.18), ("there", 0.25, 0.55), ("late", 9.0, 9.4)]
    assert gold_steps(timings, steps=20).tolist() == [0, 4, 19]


def test_gloss_tokens_keep_the_word_they_came_from_and_say_their_lemma() -> None:
    from bgtai.align.speech_words import gloss_with_sources, speakable

    tokens = gloss_with_sources(["the", "agent", "is", "already", "logged", "on"])
    assert [source for _, source in tokens] == [1, 3, 4, 5]  # "the" and "is" are dropped
    assert tokens[2][0] == "LOG" and speakable("LOG") == "log" and speakable(tokens[1][0]) == "already"


def test_words_are_compared_without_case_or_punctuation() -> None:
    assert normalise_word(" Hello,") == "hello" and normalise_word("don't!") == "don't" and normalise_word("...") == ""


@needs_espeak
def test_bridge_finds_words_in_slower_speech_with_other_pauses(tmp_path: Path) -> None:
    """The 'speech' is the words spoken slower with long pauses: the bridge must follow the warping."""
    from bgtai.align.summary_features import spoken_summary
    from bgtai.io.audio import load_audio

    words = ["seven", "blue", "elephants", "marching", "home"]
    pieces, middles, clock = [], [], 0.0
    gap = np.zeros(int(0.6 * 16_000), dtype=np.float32)
    for word in words:
        samples = load_audio(tts.speak_cached(word, rate=110, folder=tmp_path), target_sr=16_000).samples
        middles.append(clock + len(samples) / 2 / 16_000)
        pieces += [samples, gap]
        clock += (len(samples) + len(gap)) / 16_000
    speech = tmp_path / "speech.wav"
    sf.write(speech, np.concatenate(pieces), 16_000)
    spoken, spans = spoken_summary(words)
    steps = int(np.ceil(clock / STEP_S))
    found = bridge_steps(speech, spoken, spans, steps)
    expected = (np.array(middles) / STEP_S).astype(int)
    assert np.all(np.diff(found) > 0)  # in order
    assert np.abs(found - expected).max() <= 2, (found, expected)


@pytest.mark.integration
@pytest.mark.needs_data
@needs_espeak
def test_eval_align_on_asterisk_scores_every_aligner_and_saves_one_for_bgtai_align(tmp_path: Path, capsys) -> None:
    import re

    from bgtai.cli.main import main
    from bgtai.eval.results import read_result

    out, model = tmp_path / "align.json", tmp_path / "result-filter.pt"
    assert (
        main(
            [
                "eval",
                "align",
                "--dataset",
                "asterisk",
                "--limit",
                "8",
                "--epochs",
                "2",
                "--json",
                str(out),
                "--save-model",
                str(model),
            ]
        )
        == 0
    )
    record = read_result(out)
    for method in ("uniform", "tts-dtw", "result-filter", "dsnet-gold"):
        value = record.metrics[f"{method}.word_accuracy"]
        assert 0.0 <= value <= 1.0 and record.metrics[f"{method}.within_1"] >= value
    details = record.details
    assert details["train_utterances"] > 0 and details["test_utterances"] > 0
    assert details["train_utterances"] + details["test_utterances"] + sum(details["skipped"].values()) == 8
    assert "subset: first 8 prompts" in record.protocol

    # the saved Result Filter aligns a new recording with its words, in order, inside the clip
    speech = tts.speak_cached("please enter your mailbox number", folder=tmp_path)
    capsys.readouterr()
    assert (
        main(
            [
                "align",
                str(speech),
                "Please enter your mailbox number.",
                "--dsnet",
                str(model),
                "--plot",
                str(tmp_path / "a.png"),
            ]
        )
        == 0
    )
    # the word table: one row per word, the DS-Net time second to last (`bgtai.cli.align`)
    rows = [re.split(r"\s{2,}", x.strip()) for x in capsys.readouterr().out.splitlines() if re.match(r"^\d+\s{2,}", x)]
    assert [row[1] for row in rows] == ["Please", "enter", "your", "mailbox", "number"]
    times = [float(row[-2]) for row in rows]
    assert times == sorted(times) and times[-1] <= sf.info(str(speech)).duration
    assert (tmp_path / "a.png").stat().st_size > 0
