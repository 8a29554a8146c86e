"""Audio datasets in their official layouts, built tiny in tmp_path: ESC-50, UrbanSound8K,
FSDD, Asterisk-style transcript TSVs, the sound library and Clotho."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.data import (
    load_asterisk,
    load_clotho,
    load_esc50,
    load_fsdd,
    load_sound_library,
    load_transcript_tsv,
    load_urbansound8k,
)
from bgtai.errors import BadInputError


def write_audio(path: Path, sample_rate: int = 8000, fmt: str | None = None, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tone = 0.1 * np.sin(np.linspace(0, 200, sample_rate // 10)).astype(np.float32)
    sf.write(path, tone, sample_rate, format=fmt, subtype=subtype)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ESC_HEADER = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]


def make_esc50(root: Path, missing: bool = False) -> Path:
    rows = [
        ["4-100038-A-14.wav", 4, 14, "chirping_birds", "False", 100038, "A"],
        ["4-100038-B-14.wav", 4, 14, "chirping_birds", "False", 100038, "B"],
        ["4-181286-A-10.wav", 4, 10, "rain", "True", 181286, "A"],
        ["2-109505-A-21.wav", 2, 21, "sneezing", "False", 109505, "A"],
    ]
    for row in rows[: 3 if missing else 4]:
        write_audio((root / "audio" / str(row[0])).with_suffix(".flac"), 44100)
    write_csv(root / "meta" / "esc50.csv", ESC_HEADER, rows)
    return root


def test_esc50_labels_groups_folds_and_wav_resolved_to_flac(tmp_path: Path) -> None:
    data = load_esc50(make_esc50(tmp_path / "esc50"))
    assert len(data) == 4
    assert [item.label for item in data] == ["chirping_birds", "chirping_birds", "rain", "sneezing"]
    assert [item.group for item in data] == ["100038", "100038", "181286", "109505"]
    assert [item.fold for item in data] == [4, 4, 4, 2]
    assert all(item.audio is not None and item.audio.suffix == ".flac" and item.audio.is_file() for item in data)
    assert data.classes == ["rain", "chirping_birds", "sneezing"]  # ordered by official target number
    assert len(data.filter(fold=4)) == 3 and data.filter(fold=[2]).labels() == ["sneezing"]


def test_esc50_missing_file_error_names_metadata_row_and_path(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "esc50", missing=True)
    with pytest.raises(BadInputError) as caught:
        load_esc50(root)
    message = str(caught.value)
    assert "esc50.csv" in message and "line 5" in message and "2-109505-A-21.wav" in message


def test_esc50_missing_file_skip_warns_and_keep_keeps_without_audio(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "esc50", missing=True)
    with pytest.warns(UserWarning, match="skipped 1 row"):
        skipped = load_esc50(root, on_missing="skip")
    assert len(skipped) == 3 and len(skipped.missing) == 1 and "2-109505-A-21.wav" in skipped.missing[0]
    kept = load_esc50(root, on_missing="keep")
    assert len(kept) == 4 and kept.items[-1].audio is None and kept.items[-1].label == "sneezing"


def test_esc50_wrong_columns_are_named(tmp_path: Path) -> None:
    root = tmp_path / "esc50"
    write_csv(root / "meta" / "esc50.csv", ["file", "fold", "category"], [["a.wav", 1, "dog"]])
    with pytest.raises(BadInputError, match=r"esc50\.csv.*'filename'.*columns: file, fold, category"):
        load_esc50(root)


def test_urbansound8k_opus_in_fold_folders(tmp_path: Path) -> None:
    root = tmp_path / "us8k"
    header = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
    rows = [
        ["101415-3-0-2.wav", 101415, "", "", "", 1, 3, "dog_bark"],
        ["101415-3-0-3.wav", 101415, "", "", "", 1, 3, "dog_bark"],
        ["7061-6-0-0.wav", 7061, 0.5, 4.5, 1, 10, 6, "gun_shot"],
    ]
    for name, fold in (("101415-3-0-2", 1), ("101415-3-0-3", 1), ("7061-6-0-0", 10)):
        write_audio(root / "audio" / f"fold{fold}" / f"{name}.opus", 48000, "OGG", "OPUS")
    write_csv(root / "metadata" / "UrbanSound8K.csv", header, rows)
    data = load_urbansound8k(root)
    assert [item.fold for item in data] == [1, 1, 10]
    assert [item.group for item in data] == ["101415", "101415", "7061"]
    assert data.classes == ["dog_bark", "gun_shot"]
    assert all(item.audio.suffix == ".opus" for item in data)
    assert data.items[2].meta["salience"] == "1" and data.items[0].meta["start"] == ""
    assert len(data.filter(fold=10)) == 1


def test_fsdd_digit_word_label_and_speaker_group(tmp_path: Path) -> None:
    recordings = tmp_path / "fsdd" / "recordings"
    for name in ("0_george_0", "7_theo_12", "7_george_3"):
        write_audio(recordings / f"{name}.flac")
    write_audio(recordings / "7_theo_12.opus", 48000, "OGG", "OPUS")  # the same recording twice counts once
    (recordings / "README.md").write_text("not audio")
    data = load_fsdd(tmp_path / "fsdd")
    assert [item.id for item in data] == ["0_george_0", "7_george_3", "7_theo_12"]
    assert [item.texts for item in data] == [("zero",), ("seven",), ("seven",)]
    assert [item.label for item in data] == ["0", "7", "7"]
    assert [item.group for item in data] == ["george", "george", "theo"]
    assert data.items[2].audio.suffix == ".flac"


def test_fsdd_badly_named_recording_is_an_error(tmp_path: Path) -> None:
    write_audio(tmp_path / "fsdd" / "recordings" / "seven-theo.flac")
    with pytest.raises(BadInputError, match="seven-theo.flac"):
        load_fsdd(tmp_path / "fsdd")


def test_transcript_tsv_keeps_quotes_and_resolves_relative_paths(tmp_path: Path) -> None:
    root = tmp_path / "asterisk_prompts"
    write_audio(root / "audio" / "digits" / "1.flac")
    write_audio(root / "audio" / "spy-iax2.flac")
    (root / "transcripts.tsv").write_text(
        'file\ttranscript\naudio/digits/1.wav\tOne.\naudio/spy-iax2.flac\tIAX (note: does not say "2")\n',
        encoding="utf-8",
    )
    data = load_asterisk(root)
    assert [item.texts for item in data] == [("One.",), ('IAX (note: does not say "2")',)]
    assert data.items[0].audio == root / "audio" / "digits" / "1.flac"
    assert data.items[0].id == "audio/digits/1"


def test_transcript_tsv_custom_columns_and_wrong_column(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.flac")
    tsv = write_csv(tmp_path / "list.tsv", ["path", "sentence", "speaker"], [["a.flac", "hello there", "s1"]], "\t")
    data = load_transcript_tsv(tsv, audio_col="path", text_col="sentence")
    assert data.items[0].texts == ("hello there",) and data.items[0].meta["speaker"] == "s1"
    with pytest.raises(BadInputError, match=r"list\.tsv.*'file'.*columns: path, sentence, speaker"):
        load_transcript_tsv(tsv)


def test_sound_library_caption_label_and_source_file_group(tmp_path: Path) -> None:
    root = tmp_path / "sound_library"
    header = ["audio", "caption", "source", "license", "origin", "duration"]
    rows = [
        ["audio/a_00001_rain.ogg", "rain falling", "pkg", "CC0", "share/x/rain.ogg [segment 0-10s]", 10.0],
        ["audio/a_00002_rain.ogg", "rain falling", "pkg", "CC0", "share/x/rain.ogg [segment 10-20s]", 10.0],
        ["audio/a_00003_cow.ogg", "a cow mooing", "pkg", "GPL", 'bank.cat#"Cow"', 1.5],
    ]
    for row in rows:
        write_audio(root / str(row[0]), 48000, "OGG", "OPUS")
    write_csv(root / "manifest.csv", header, rows)
    data = load_sound_library(root)
    assert data.labels() == ["rain falling", "rain falling", "a cow mooing"]
    assert [item.group for item in data] == ["share/x/rain.ogg", "share/x/rain.ogg", 'bank.cat#"Cow"']
    assert data.classes == ["a cow mooing", "rain falling"]
    assert data.items[2].meta["license"] == "GPL"


def _clotho_rows(names: list[str]) -> list[list[str]]:
    return [[name, *(f"{name} caption {i}" for i in range(1, 6))] for name in names]


CLOTHO_HEADER = ["file_name", *(f"caption_{i}" for i in range(1, 6))]


def test_clotho_five_captions_audio_in_both_layouts_and_missing_kept(tmp_path: Path) -> None:
    root = tmp_path / "clotho"
    write_csv(root / "clotho_captions_development.csv", CLOTHO_HEADER, _clotho_rows(["Rain.wav", "Wind.wav"]))
    write_csv(root / "clotho_captions_evaluation.csv", CLOTHO_HEADER, _clotho_rows(["Santa Motor.wav"]))
    write_audio(root / "development" / "Rain.wav")  # official per-split folder
    write_audio(root / "audio" / "Santa Motor.flac")  # flat folder, another suffix
    data = load_clotho(root)
    assert [item.split for item in data] == ["development", "development", "evaluation"]
    assert all(len(item.texts) == 5 for item in data)
    assert data.items[0].audio == root / "development" / "Rain.wav"
    assert data.items[1].audio is None
    assert data.items[2].audio == root / "audio" / "Santa Motor.flac"
    with_audio = load_clotho(root, require_audio=True)
    assert [item.id for item in with_audio] == ["development/Rain", "evaluation/Santa Motor"]
    assert [item.id for item in load_clotho(root, split="evaluation")] == ["evaluation/Santa Motor"]


def test_clotho_wrong_columns(tmp_path: Path) -> None:
    write_csv(tmp_path / "clotho_captions_evaluation.csv", ["file_name", "caption"], [["a.wav", "x"]])
    with pytest.raises(BadInputError, match="'caption_1'"):
        load_clotho(tmp_path)
