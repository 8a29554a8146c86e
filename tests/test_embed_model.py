"""`bgtai embed ... --model DIR` and `bgtai.load_model(DIR).encode`: the joint space from the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from tiny_models import tiny_model_settings

import bgtai
from bgtai.cli.main import main
from bgtai.losses.infonce import NO_LABEL
from bgtai.train.joint import TrainData, train
from bgtai.train.recipes import Recipe

TEXTS = ["a dog barks", "rain on a tin roof", "church bells ring", "a car passes by", "birds at dawn"]
DIM = 16  # the tiny front-ends' width


def _made_up_data(seed: int = 0, count: int = 24) -> TrainData:
    """Audio-image-text pairs of 4 hidden concepts in the tiny front-ends' feature space."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((4, DIM))
    features: dict[str, list[np.ndarray]] = {"audio": [], "image": [], "text": []}
    for number in range(count):
        for modality in features:
            length = int(rng.integers(2, 6))
            base = prototypes[number % 4] + 0.3 * rng.standard_normal((length, DIM))
            features[modality].append(base.astype(np.float32))
    index = np.arange(count)
    rows = {"audio": index, "image": index, **{f"text:{k}": index for k in ("av", "audio", "visual")}}
    return TrainData(features, rows, np.full(count, NO_LABEL), [f"item{i}" for i in range(count)], ["made-up"] * count)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    recipe = Recipe.from_dict(
        {
            "name": "tiny-embed",
            "model": tiny_model_settings(),
            "objective": {"kind": "moco", "queue_size": 40},
            "stages": [{"variant": "av", "epochs": 1}],
            "optim": {"lr": 3e-3, "batch_size": 8, "val_fraction": 0.2},
        }
    )
    out = tmp_path_factory.mktemp("embed-model") / "run"
    train(recipe, out, data=_made_up_data(), progress=False)
    return out / "best"


def _tone(path: Path, freq: float, rate: int = 16000) -> Path:
    t = np.arange(rate // 4) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _check_unit_float32(vectors: np.ndarray, rows: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape == (rows, 8)
    np.testing.assert_allclose(np.linalg.norm(vectors.astype(np.float64), axis=1), 1.0, atol=1e-6)


def test_api_contract_of_load_model_encode(model_dir: Path) -> None:
    model = bgtai.load_model(model_dir)
    vectors = model.encode("text", TEXTS)
    _check_unit_float32(vectors, len(TEXTS))
    # row i is input i whatever the batch; other batch-mates (other padding) change a vector only by float32
    # rounding, so a vector is bit-identical only for the same inputs in the same order
    np.testing.assert_allclose(model.encode("text", TEXTS[2]), vectors[2:3], rtol=0, atol=1e-6)  # one input: (1, d)
    np.testing.assert_allclose(model.encode("text", TEXTS[::-1]), vectors[::-1], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(model.encode("text", TEXTS), vectors)
    assert model.encode("text", []).shape == (0, 8)
    with pytest.raises(bgtai.embed.BadItemsError, match="not found"):
        model.encode("audio", ["/nonexistent/clip.wav"])


def test_cli_text_round_trip(tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "text.npy"
    code, stdout, err = _run(capsys, "embed", "text", *TEXTS, "--model", model_dir, "--out", out)
    assert code == 0, err
    assert "5 x 8" in stdout and "tiny-text" in stdout
    vectors = np.load(out)
    _check_unit_float32(vectors, len(TEXTS))
    np.testing.assert_array_equal(vectors, bgtai.load_model(model_dir).encode("text", TEXTS))
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["dim"] == 8 and sidecar["normalized"] is True and sidecar["rows"] == [0, 1, 2, 3, 4]
    assert sidecar["settings"] == {"model": str(model_dir.resolve()), "front_end": "tiny-text"}


def test_cli_audio_folder_and_image_list_round_trip(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    files = [str(_tone(clips / f"{i}.wav", 200.0 * (i + 1))) for i in range(3)]
    out = tmp_path / "audio.npy"
    assert _run(capsys, "embed", "audio", clips, "--model", model_dir, "--out", out)[0] == 0
    vectors = np.load(out)
    _check_unit_float32(vectors, 3)
    np.testing.assert_array_equal(vectors, bgtai.load_model(model_dir).encode("audio", files))

    pictures = []
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255), (90, 90, 90)]):
        Image.new("RGB", (40, 30), colour).save(tmp_path / f"p{i}.png")
        pictures.append(str(tmp_path / f"p{i}.png"))
    listing = tmp_path / "pictures.txt"
    listing.write_text("\n".join(pictures) + "\n", encoding="utf-8")
    out = tmp_path / "image.npy"
    assert _run(capsys, "embed", "image", "--from-file", listing, "--model", model_dir, "--out", out)[0] == 0
    vectors = np.load(out)
    _check_unit_float32(vectors, 4)
    np.testing.assert_array_equal(vectors, bgtai.load_model(model_dir).encode("image", pictures))


def test_cli_bad_inputs_fail_or_are_skipped(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [str(_tone(tmp_path / "a.wav", 300)), str(_tone(tmp_path / "b.wav", 500))]
    (tmp_path / "bad.wav").write_text("not audio", encoding="utf-8")
    inputs = [good[0], str(tmp_path / "bad.wav"), good[1]]
    out = tmp_path / "audio.npy"
    code, _, err = _run(capsys, "embed", "audio", *inputs, "--model", model_dir, "--out", out)
    assert code == 2 and "bad.wav" in err and not out.exists()
    code, _, err = _run(capsys, "embed", "audio", *inputs, "--model", model_dir, "--out", out, "--skip-bad")
    assert code == 0 and "skipped 1 bad input" in err
    vectors = np.load(out)
    _check_unit_float32(vectors, 2)
    np.testing.assert_array_equal(vectors, bgtai.load_model(model_dir).encode("audio", good))
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["rows"] == [0, 2] and [b["index"] for b in sidecar["bad"]] == [1]


def test_cli_shards_merge_back_to_the_whole(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = []
    for index in range(2):
        shards.append(tmp_path / f"s{index}.npy")
        code = _run(
            capsys, "embed", "text", *TEXTS, "--model", model_dir, "--shard", f"{index}/2", "--out", shards[-1]
        )[0]
        assert code == 0
    assert _run(capsys, "embed", "merge", tmp_path / "all.npy", *shards)[0] == 0
    merged = np.load(tmp_path / "all.npy")  # each shard was its own batch: equal up to float32 rounding
    _check_unit_float32(merged, len(TEXTS))
    np.testing.assert_allclose(merged, bgtai.load_model(model_dir).encode("text", TEXTS), rtol=0, atol=1e-6)


def test_cli_model_that_is_not_a_model_folder(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.npy"
    (tmp_path / "empty").mkdir()
    code, _, err = _run(capsys, "embed", "text", "hi", "--model", tmp_path / "empty", "--out", out)
    assert code == 2 and "not a saved joint model: config.json is missing" in err and "runs/NAME/best" in err
    code, _, err = _run(capsys, "embed", "text", "hi", "--model", tmp_path / "absent", "--out", out)
    assert code == 2 and f"--model {tmp_path / 'absent'}: no such folder" in err
    code, _, err = _run(capsys, "embed", "text", "hi", "--model", model_dir.parent, "--out", out)  # the run folder
    assert code == 2 and f"did you mean {model_dir}?" in err
    code, _, err = _run(capsys, "embed", "text", "hi", "--model", model_dir, "--encoder", "tiny-text", "--out", out)
    assert code == 2 and "not both" in err
    code, _, err = _run(capsys, "embed", "text", "hi", "--model", model_dir, "--no-normalize", "--out", out)
    assert code == 2 and "--no-normalize does not apply" in err
    assert not out.exists()
