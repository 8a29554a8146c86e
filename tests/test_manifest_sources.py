"""Recipes that train on CSV manifests of your own pairs: pair building, tiny training, and every kind of bad row."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from tiny_models import tiny_model_settings

from bgtai.cli.main import main
from bgtai.data.manifest_pairs import ManifestSource, manifest_pairs
from bgtai.data.pairs import PairOptions, build_pairs
from bgtai.errors import BadInputError
from bgtai.model.joint import load_model
from bgtai.train.joint import TRAINING_FILE, train
from bgtai.train.recipes import Recipe

CONCEPTS = [
    ("dog", 220.0, (200, 40, 40)),
    ("rain", 440.0, (40, 200, 40)),
    ("bell", 880.0, (40, 40, 200)),
    ("car", 330.0, (200, 200, 40)),
]


def _tone(path: Path, freq: float, seconds: float = 0.3, rate: int = 16000) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path.name


def _picture(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 24), colour).save(path)


def _write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def make_manifests(folder: Path, copies: int = 3) -> dict[str, Path]:
    """One manifest of each kind under folder/pairs/, with its media in folders beside it (relative paths)."""
    base = folder / "pairs"
    rows: dict[str, list[str]] = {"audio,caption": [], "image,caption": [], "audio,image": [], "speech,transcript": []}
    for copy in range(copies):
        for name, freq, colour in CONCEPTS:
            _tone(base / "sounds" / f"{name}{copy}.wav", freq * (1 + copy / 10))
            _picture(base / "pictures" / f"{name}{copy}.png", tuple(min(255, c + 10 * copy) for c in colour))
            _tone(base / "speech" / f"{name}{copy}.flac", freq * 1.5, seconds=0.2)
            rows["audio,caption"].append(f"sounds/{name}{copy}.wav,the sound of a {name} number {copy}")
            rows["image,caption"].append(f"pictures/{name}{copy}.png,a picture of a {name} number {copy}")
            rows["audio,image"].append(f"sounds/{name}{copy}.wav,pictures/{name}{copy}.png")
            rows["speech,transcript"].append(f"speech/{name}{copy}.flac,{name}")
    return {kind: _write_csv(base / f"{kind.replace(',', '-')}.csv", kind, lines) for kind, lines in rows.items()}


def tiny_recipe(data: dict, epochs: int = 2) -> dict:
    return {
        "name": "tiny-manifest",
        "model": tiny_model_settings(),
        "objective": {"kind": "slava", "queue_size": 40},
        "stages": [{"variant": "av", "epochs": epochs}],
        "optim": {"lr": 3e-3, "batch_size": 4, "val_fraction": 0.25, "warmup_fraction": 0.1},
        "data": data,
        "seed": 1,
    }


# ---------------------------------------------------------------------------------------------
# pairs


def test_each_kind_gives_one_pair_a_row_with_paths_relative_to_the_manifest(tmp_path: Path) -> None:
    manifests = make_manifests(tmp_path, copies=1)
    options = PairOptions(sources=[], manifests=[ManifestSource(str(p)) for p in manifests.values()])  # kinds found
    pairs = build_pairs(options)
    by_how: dict[str, list] = {}
    for pair in pairs:
        by_how.setdefault(pair.how, []).append(pair)
    assert {how: len(found) for how, found in by_how.items()} == {
        "manifest audio caption": 4,
        "manifest picture caption": 4,
        "manifest audio-picture": 4,
        "manifest speech transcript": 4,
    }
    sound = by_how["manifest audio caption"][0]
    assert sound.audio == tmp_path / "pairs" / "sounds" / "dog0.wav" and sound.audio_caption == sound.caption
    assert sound.caption == "the sound of a dog number 0" and sound.image is None
    picture = by_how["manifest picture caption"][1]
    assert picture.image == tmp_path / "pairs" / "pictures" / "rain0.png" and picture.visual_caption == picture.caption
    both = by_how["manifest audio-picture"][2]
    assert both.audio.name == "bell0.wav" and both.image.name == "bell0.png" and both.caption is None
    speech = by_how["manifest speech transcript"][3]
    assert speech.audio.name == "car0.flac" and speech.caption == "car" and speech.audio_caption is None
    # the same clip in two manifests stays in one group (one side of the validation split)
    dog_both = by_how["manifest audio-picture"][0]
    assert sound.group == dog_both.group == f"manifest:{tmp_path / 'pairs' / 'sounds' / 'dog0.wav'}"


def test_group_and_label_columns_are_used(tmp_path: Path) -> None:
    _tone(tmp_path / "a.wav", 300)
    _tone(tmp_path / "b.wav", 600)
    manifest = _write_csv(
        tmp_path / "m.csv", "audio,caption,group,label", ["a.wav,a hum,rec1,hum", "b.wav,a whine,rec1,"]
    )
    first, second = manifest_pairs(ManifestSource(str(manifest), "audio,caption"))
    assert first.group == second.group == "manifest:rec1"
    assert first.label == "manifest:hum" and second.label == "a whine"  # an empty label falls back to the caption


def test_pair_options_round_trip_and_reject_a_bad_kind(tmp_path: Path) -> None:
    options = PairOptions.from_dict({"sources": [], "manifests": [{"path": "x.csv", "kind": "image,caption"}, "y.csv"]})
    assert options.manifests == [ManifestSource("x.csv", "image,caption"), ManifestSource("y.csv")]
    assert PairOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
    with pytest.raises(ValueError, match="unknown kind 'video,caption'"):
        PairOptions.from_dict({"manifests": [{"path": "x.csv", "kind": "video,caption"}]})
    with pytest.raises(ValueError, match="unknown keys"):
        PairOptions.from_dict({"manifests": [{"path": "x.csv", "columns": "audio"}]})


# ---------------------------------------------------------------------------------------------
# training


def test_a_recipe_with_manifests_trains_a_tiny_joint_model(tmp_path: Path) -> None:
    manifests = make_manifests(tmp_path)
    data = {"sources": [], "manifests": [{"path": str(p), "kind": kind} for kind, p in manifests.items()]}
    summary = train(Recipe.from_dict(tiny_recipe(data, epochs=5)), tmp_path / "run", progress=False)
    assert len(summary.history) == 5 and summary.steps > 0
    assert all(np.isfinite(row["train_loss"]) for row in summary.history)
    # it learns from the manifests' pairs: the training loss falls (the validation split of 48 pairs, hashed from
    # paths under tmp_path, changes from run to run, so its loss over two epochs was too noisy to assert on)
    assert summary.history[-1]["train_loss"] < summary.history[0]["train_loss"]
    model = load_model(tmp_path / "run" / "best")
    assert model.encode("text", ["a dog"]).shape == (1, 8)
    provenance = json.loads((tmp_path / "run" / "best" / TRAINING_FILE).read_text())
    assert provenance["pairs"] == {
        "manifest audio caption": 12,
        "manifest audio-picture": 12,
        "manifest picture caption": 12,
        "manifest speech transcript": 12,
    }
    assert provenance["recipe"]["data"]["manifests"][0]["path"] == str(manifests["audio,caption"])


def test_cli_train_with_manifest_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = make_manifests(tmp_path, copies=2)
    recipe = tmp_path / "tiny.json"
    recipe.write_text(json.dumps(tiny_recipe({}, epochs=1)), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "pairs")  # --manifest is relative to the current folder
    code = main(
        [
            "train",
            "--recipe",
            str(recipe),
            "--manifest",
            "audio-caption.csv",
            "--manifest",
            "image-caption.csv",
            "--set",
            "data.sources=[]",
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out.splitlines()[0])["epochs"] == 1
    provenance = json.loads((tmp_path / "run" / "best" / TRAINING_FILE).read_text())
    assert provenance["pairs"] == {"manifest audio caption": 8, "manifest picture caption": 8}
    assert [m["path"] for m in provenance["recipe"]["data"]["manifests"]] == [
        str(manifests["audio,caption"]),
        str(manifests["image,caption"]),
    ]


# ---------------------------------------------------------------------------------------------
# bad rows: one clear error naming the file, the line and the problem, before any training


def _bad_manifest(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A manifest with one bad row (or header) of the kind `case`, and the words its error must hold."""
    _tone(tmp_path / "good.wav", 300)
    _picture(tmp_path / "good.png", (10, 20, 30))
    (tmp_path / "noise.wav").write_text("this is not audio", encoding="utf-8")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (tmp_path / "empty.wav").write_bytes(b"")
    good = "good.wav,a hum"
    cases = {
        "missing file": (
            "audio,caption",
            [good, "gone.wav,a hum"],
            f"line 3: audio file not found: {tmp_path / 'gone.wav'}",
        ),
        "empty caption": ("audio,caption", [good, "good.wav,  "], "line 3: empty caption"),
        "empty path": ("audio,caption", [",a hum", good], "line 2: empty audio cell"),
        "audio does not decode": ("audio,caption", [good, "noise.wav,a hum"], "line 3: audio"),
        "image does not decode": ("image,caption", ["good.png,a square", "broken.png,a square"], "line 3: image"),
        "empty file": ("audio,image", ["empty.wav,good.png"], "line 2: audio"),
        "unknown column": ("audio,caption,speaker", ["good.wav,a hum,s1"], "line 1 (header): unknown column 'speaker'"),
        "missing column": ("audio,label", ["good.wav,x"], "line 1 (header)"),
    }
    header, rows, expected = cases[case]
    return _write_csv(tmp_path / "bad.csv", header, rows), expected


BAD_CASES = [
    "missing file",
    "empty caption",
    "empty path",
    "audio does not decode",
    "image does not decode",
    "empty file",
    "unknown column",
    "missing column",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_a_bad_row_is_named_by_file_line_and_problem(tmp_path: Path, case: str) -> None:
    manifest, expected = _bad_manifest(tmp_path, case)
    with pytest.raises(BadInputError) as caught:
        build_pairs(PairOptions(sources=[], manifests=[ManifestSource(str(manifest))]))
    assert caught.value.source == str(manifest)
    assert expected in caught.value.problem
    if "decode" in case or case == "empty file":
        assert "does not decode" in caught.value.problem
    if case == "empty file":
        assert "empty file (0 bytes)" in caught.value.problem


def test_every_bad_row_is_listed_at_once(tmp_path: Path) -> None:
    _tone(tmp_path / "good.wav", 300)
    manifest = _write_csv(
        tmp_path / "m.csv", "speech,transcript", ["good.wav,yes", "gone.wav,no", "good.wav,", ",maybe"]
    )
    with pytest.raises(BadInputError) as caught:
        manifest_pairs(ManifestSource(str(manifest), "speech,transcript"))
    problem = caught.value.problem
    assert problem.startswith("3 bad row(s) in this speech,transcript manifest")
    assert "line 3: speech file not found" in problem and "line 4: empty transcript" in problem
    assert "line 5: empty speech cell" in problem and "line 2" not in problem


def test_a_kind_that_does_not_match_the_header_is_an_error(tmp_path: Path) -> None:
    _tone(tmp_path / "good.wav", 300)
    manifest = _write_csv(tmp_path / "m.csv", "audio,caption", ["good.wav,a hum"])
    with pytest.raises(
        BadInputError, match=r"no column 'image'.*an image,caption manifest has the columns image, caption"
    ):
        manifest_pairs(ManifestSource(str(manifest), "image,caption"))
    with pytest.raises(BadInputError, match="must be a .csv"):
        manifest_pairs(ManifestSource(str(tmp_path / "m.jsonl")))
    with pytest.raises(BadInputError, match="not found"):
        manifest_pairs(ManifestSource(str(tmp_path / "absent.csv")))


def test_cli_train_stops_on_a_bad_row_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, expected = _bad_manifest(tmp_path, "empty caption")
    recipe = tmp_path / "tiny.json"
    recipe.write_text(json.dumps(tiny_recipe({"sources": []}, epochs=1)), encoding="utf-8")
    code = main(
        ["train", "--recipe", str(recipe), "--manifest", str(manifest), "--out", str(tmp_path / "run"), "--no-progress"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert str(manifest) in err and expected in err
    assert not (tmp_path / "run").exists()  # no run folder: nothing was trained or written
