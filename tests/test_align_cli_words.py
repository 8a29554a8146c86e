"""`bgtai align SPEECH "TRANSCRIPT"`: a table of each transcript word with its seconds, a plot, DS-Net times beside."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.align import speech_words
from bgtai.align.word_times import edit_pairs, match_words, transcript_words
from bgtai.cli.main import main

# what "Whisper" hears in the made-up clip: "seven" is missing, "four" is heard as "for", "PIN" ends the clip
HEARD = [
    ("Please,", 0.10, 0.50),
    ("enter", 0.50, 0.80),
    ("your", 0.80, 1.00),
    ("for", 1.40, 1.60),
    ("digit", 1.60, 1.90),
    ("PIN.", 1.90, 2.60),
]
TRANSCRIPT = "Please enter your seven four digit PIN"


def _clip(tmp_path: Path, seconds: float = 2.5) -> Path:
    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    path = tmp_path / "speech.wav"
    sf.write(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _rows(stdout: str) -> dict[str, list[str]]:
    """The table rows by word: '#', 'word', 'start s', 'end s', 'how', ... split on runs of spaces."""
    rows = [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines() if re.match(r"^\d+\s{2,}", line)]
    return {row[1]: row for row in rows}


@pytest.fixture
def fake_whisper(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace Whisper's word timings by HEARD; record the status lines it is given."""
    said: list[str] = []

    def word_timings(
        paths: list, progress: object = None, status: object = None
    ) -> list[list[tuple[str, float, float]]]:
        assert callable(status)
        status("transcribing (fake) ...")
        said.append(str(paths[0]))
        return [list(HEARD)]

    monkeypatch.setattr(speech_words, "word_timings", word_timings)
    return said


def test_cli_prints_each_word_with_its_seconds_and_interpolates_the_missing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_whisper: list[str]
) -> None:
    code, out, err = _run(capsys, "align", _clip(tmp_path), TRANSCRIPT)
    assert code == 0 and fake_whisper and "transcribing" in err  # the slow step is announced, on stderr
    rows = _rows(out)
    assert list(rows) == ["Please", "enter", "your", "seven", "four", "digit", "PIN"]
    assert rows["Please"][2:5] == ["0.10", "0.50", "heard"]
    assert rows["PIN"][2:5] == ["1.90", "2.50", "heard"]  # Whisper's end (2.6 s) is clipped to the clip's 2.5 s
    assert rows["four"][2:6] == ["1.40", "1.60", "misheard", "for"]
    # "seven" was not heard: it fills the gap between "your" (ends 1.00) and "for" (starts 1.40), and says so
    assert rows["seven"][2:5] == ["1.00", "1.40", "interpolated"]
    assert "interpolated: no single word heard" in out and "1 interpolated" in out
    assert not (tmp_path / "alignment.png").exists()  # no plot unless asked


def test_cli_writes_the_plot_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_whisper: list[str]
) -> None:
    plot = tmp_path / "plots" / "words.png"
    code, out, _ = _run(capsys, "align", _clip(tmp_path), TRANSCRIPT, "--plot", plot)
    assert code == 0 and f"wrote plot: {plot.resolve()}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_cli_rejects_bad_inputs_before_transcribing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_whisper: list[str]
) -> None:
    clip = _clip(tmp_path)
    assert _run(capsys, "align", tmp_path / "missing.flac", TRANSCRIPT)[0] == 2
    assert _run(capsys, "align", clip, TRANSCRIPT, "--plot", tmp_path)[0] == 2  # a folder
    code, _, err = _run(capsys, "align", clip, TRANSCRIPT, "--dsnet", tmp_path / "rf.pt")
    assert code == 2 and "rf.pt" in err and "--save-model" in err
    assert _run(capsys, "align", clip, "... !")[0] == 2  # no words
    assert fake_whisper == []


def test_cli_prints_the_aligner_times_beside_the_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_whisper: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model_file = tmp_path / "rf.pt"
    model_file.write_bytes(b"stand-in")
    words = [w.lower() for w in TRANSCRIPT.split()]
    monkeypatch.setattr(
        speech_words,
        "load_aligner",
        lambda path: ("model", {"audio": {"encoder": "whisper-tiny-en", "pool": 5}, "text": "words"}),
    )
    at = np.array([0.25, 0.65, 0.95, 1.15, 1.45, 1.75, 2.25])
    monkeypatch.setattr(speech_words, "aligner_times", lambda model, inputs, audio, text: (words, at))
    code, out, _ = _run(capsys, "align", _clip(tmp_path), TRANSCRIPT, "--dsnet", model_file)
    assert code == 0
    rows = _rows(out)
    assert rows["Please"][-2:] == ["0.25", "-0.05"]  # Whisper's midpoint is 0.30 s
    assert rows["seven"][-2:] == ["1.15", "-0.05"]
    assert re.search(r"DS-Net - Whisper mid", out) and "of words within 0.1 s" in out


def test_edit_alignment_pairs_similar_words_and_skips_the_missing_one() -> None:
    assert edit_pairs(["seven", "four", "digit"], ["for", "digit"]) == [(1, 0), (2, 1)]
    assert edit_pairs(["a", "b", "c"], ["a", "x", "c", "e"]) == [(0, 0), (1, 1), (2, 2)]
    assert edit_pairs([], ["a"]) == [] and edit_pairs(["a"], []) == []


def test_a_word_merged_into_its_neighbour_shares_that_span_and_edges_reach_the_clip() -> None:
    heard = [("the", 0.5, 1.0), ("poundkey", 1.0, 2.0), ("now", 2.0, 2.5)]
    times = match_words(["the", "pound", "key", "now", "please"], heard, duration=3.0)
    assert [t.status for t in times] == ["heard", "interpolated", "interpolated", "heard", "interpolated"]
    # no room between "poundkey" and "now": "pound" and "key" share poundkey's second by length (5:3)
    assert (times[1].start, times[1].end, times[2].end) == pytest.approx((1.0, 1.625, 2.0))
    assert times[1].heard == "poundkey"
    # "please" was not heard: it runs from "now" to the end of the clip
    assert (times[4].start, times[4].end, times[4].heard) == (2.5, 3.0, None)
    nothing = match_words(["hello", "you"], [], duration=2.0)  # Whisper heard nothing: the clip is shared
    assert [(t.start, t.end, t.status) for t in nothing] == [(0.0, 1.25, "interpolated"), (1.25, 2.0, "interpolated")]


def test_digits_match_their_names_and_punctuation_only_tokens_are_no_words() -> None:
    times = match_words(
        transcript_words("Press 3 - then four."),
        [("press", 0, 0.4), ("three", 0.4, 0.8), ("then", 0.8, 1.0), ("4.", 1.0, 1.3)],
        2.0,
    )
    assert [(t.word, t.status) for t in times] == [
        ("Press", "heard"),
        ("3", "heard"),
        ("then", "heard"),
        ("four", "heard"),
    ]


def test_load_aligner_reads_a_saved_aligner_and_names_a_foreign_file(tmp_path: Path) -> None:
    import torch

    from bgtai.align.dsnet import DSNet, DSNetConfig
    from bgtai.errors import BadInputError

    model = DSNet(DSNetConfig(source_dim=4, target_dim=4, hidden=8))
    speech_words.save_aligner(model, tmp_path / "rf.pt", "words")
    loaded, inputs = speech_words.load_aligner(tmp_path / "rf.pt")
    assert inputs == {"audio": {"encoder": "whisper-tiny-en", "pool": 5}, "text": "words"}
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    torch.save({"config": {}, "state": {}}, tmp_path / "plain.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    for name in ("plain.pt", "junk.pt", "absent.pt"):
        with pytest.raises(BadInputError, match=name):
            speech_words.load_aligner(tmp_path / name)


@pytest.mark.integration
@pytest.mark.needs_data
def test_real_asterisk_prompt_gives_its_words_in_order_within_the_clip(capsys: pytest.CaptureFixture[str]) -> None:
    from bgtai.config import data_root
    from bgtai.encoders.whisper import WhisperTinyEnEncoder

    if not WhisperTinyEnEncoder().weights_present():
        pytest.skip("whisper-tiny-en: weights not installed")
    root = data_root()
    assert root is not None
    clip = root / "asterisk_prompts" / "audio" / "agent-alreadyon.flac"
    transcript = "That agent is already logged on.  Please enter your agent number followed by the pound key."
    code, out, _ = _run(capsys, "align", clip, transcript)
    assert code == 0
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if re.match(r"^\d+\s{2,}", line)]
    assert [row[1] for row in rows] == transcript_words(transcript)
    starts, ends = np.array([float(r[2]) for r in rows]), np.array([float(r[3]) for r in rows])
    duration = sf.info(clip).duration
    assert np.all(np.diff(starts) >= 0) and np.all(ends >= starts) and ends[-1] <= duration + 1e-6
    assert sum(row[4] == "heard" for row in rows) >= len(rows) - 2  # a clean prompt: nearly every word heard
