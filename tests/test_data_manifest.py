"""The generic CSV/JSONL manifest, the Dataset helpers and the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from bgtai.data import Dataset, Item, load_manifest
from bgtai.data.catalog import DATASETS, list_datasets
from bgtai.errors import BadInputError


def write_audio(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(800, dtype=np.float32), 8000)
    return path


def test_csv_manifest_resolves_relative_paths_against_its_folder(tmp_path: Path) -> None:
    write_audio(tmp_path / "clips" / "dog.flac")
    Image.new("RGB", (4, 4)).save(tmp_path / "dog.png")
    manifest = tmp_path / "pairs.csv"
    manifest.write_text(
        "audio,image,text,label,fold,speaker\nclips/dog.wav,dog.png,a dog barks,dog,2,s1\n", encoding="utf-8"
    )
    data = load_manifest(manifest)
    item = data.items[0]
    assert item.audio == tmp_path / "clips" / "dog.flac"  # listed as .wav, stored as .flac
    assert item.image == tmp_path / "dog.png"
    assert item.texts == ("a dog barks",) and item.label == "dog" and item.fold == 2
    assert item.meta == {"speaker": "s1"} and data.classes == ["dog"] and data.name == "pairs"


def test_jsonl_manifest_with_several_texts_and_custom_columns(tmp_path: Path) -> None:
    write_audio(tmp_path / "a.flac")
    lines = [
        {"wav": "a.flac", "captions": ["rain", "rain on a roof"], "cls": "rain", "source": "rec1"},
        {"wav": str(tmp_path / "a.flac"), "captions": "more rain", "cls": "rain", "source": "rec1"},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    data = load_manifest(manifest, audio_col="wav", text_col="captions", label_col="cls", group_col="source")
    assert [item.texts for item in data] == [("rain", "rain on a roof"), ("more rain",)]
    assert [item.group for item in data] == ["rec1", "rec1"] and data.labels() == ["rain", "rain"]


def test_manifest_wrong_column_names_the_file_and_its_columns(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,caption\na.wav,hello\n", encoding="utf-8")
    with pytest.raises(
        BadInputError, match=r"m\.csv: no audio column 'audio'; the manifest has columns: path, caption"
    ):
        load_manifest(manifest, audio_col="audio")
    with pytest.raises(BadInputError, match=r"m\.csv: no audio, image or text column \(columns: path, caption\)"):
        load_manifest(manifest)


def test_manifest_missing_file_and_bad_json(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("audio,label\nnone.wav,x\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"m\.csv: line 2 names .*none\.wav"):
        load_manifest(manifest)
    assert load_manifest(manifest, on_missing="keep").items[0].audio is None
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(BadInputError, match=r"m\.jsonl: line 2: not JSON"):
        load_manifest(bad)


def test_dataset_filter_and_labels() -> None:
    items = [
        Item("a", label="dog", fold=1, split="train"),
        Item("b", label="cat", fold=2, split="test"),
        Item("c", label=None, fold=2, split="train"),
    ]
    data = Dataset("toy", Path("."), items, ["cat", "dog"])
    assert [i.id for i in data.filter(fold=2)] == ["b", "c"]
    assert [i.id for i in data.filter(fold=[1, 2], split="train")] == ["a", "c"]
    assert data.filter(split="test").labels() == ["cat"] and data.filter(fold=2).classes == ["cat", "dog"]
    with pytest.raises(BadInputError, match="1 item"):
        data.labels()


def test_catalog_lists_present_and_absent_datasets(tmp_path: Path) -> None:
    recordings = tmp_path / "fsdd" / "recordings"
    write_audio(recordings / "3_theo_0.flac")
    write_audio(recordings / "4_theo_1.flac")
    (tmp_path / "gloss").mkdir()
    (tmp_path / "gloss" / "aslg.dev.en").write_text("a .\nb .\n", encoding="utf-8")
    (tmp_path / "gloss" / "aslg.dev.gloss.asl").write_text("A .\nB .\n", encoding="utf-8")
    (tmp_path / "esc50").mkdir()  # present but without its metadata
    summaries = {s.name: s for s in list_datasets(tmp_path)}
    assert set(DATASETS) < set(summaries)
    fsdd = summaries["fsdd"]
    assert (fsdd.present, fsdd.items, fsdd.with_audio, fsdd.with_text, fsdd.with_image) == (True, 2, 2, 2, 0)
    assert summaries["gloss"].items == 2 and "aslg dev: 2" in summaries["gloss"].note
    assert summaries["esc50"].present and summaries["esc50"].items == 0 and "esc50.csv" in summaries["esc50"].note
    assert not summaries["coco"].present and summaries["coco"].note == "not found"
