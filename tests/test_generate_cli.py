"""`bgtai generate` and `bgtai eval generation` end to end, on a tiny joint model and a tiny decoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image
from tiny_models import tiny_model_settings

from bgtai.cli import CommandError
from bgtai.cli.generate import volume_factors
from bgtai.cli.main import main
from bgtai.eval.generation import frechet_distance, shuffled_partners, two_choice_passes
from bgtai.generate.decoder import DecoderConfig, EmbeddingDecoder
from bgtai.model.config import JointConfig
from bgtai.model.joint import JointModel, load_model


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(joint model folder, generator run folder): untrained, tiny, made in a second."""
    root = tmp_path_factory.mktemp("generate")
    torch.manual_seed(0)
    JointModel(JointConfig.from_dict(tiny_model_settings())).save(root / "joint")
    dim = load_model(root / "joint").encode("text", ["x"]).shape[1]
    EmbeddingDecoder(DecoderConfig(size=8, condition_dim=dim, channels=(8, 16), train_timesteps=50)).save(
        root / "run" / "model"
    )
    return root / "joint", root / "run"


@pytest.fixture()
def tone(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    t = np.arange(8000) / 16000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    return path


def test_generate_writes_ranked_pictures_scores_and_a_sheet(tiny_pair, tone: Path, tmp_path: Path, capsys) -> None:
    joint, run = tiny_pair
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                str(tone),
                "--model",
                str(joint),
                "--generator",
                str(run),
                "-n",
                "3",
                "--steps",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads((out / "scores.json").read_text())
    scores = [p["score"] for p in record["pictures"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert sorted(p["candidate"] for p in record["pictures"]) == [0, 1, 2]
    for picture in record["pictures"]:
        assert Image.open(out / picture["file"]).size == (8, 8)
    assert Image.open(out / "sheet.png").size[0] > 3 * 8
    assert "ranked by the joint space" in capsys.readouterr().out


def test_volume_study_makes_one_row_per_factor(tiny_pair, tone: Path, tmp_path: Path) -> None:
    joint, run = tiny_pair
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                str(tone),
                "--volume",
                "0.5,2",
                "--model",
                str(joint),
                "--generator",
                str(run),
                "-n",
                "2",
                "--steps",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads((out / "scores.json").read_text())
    assert [p["condition"] for p in record["pictures"]] == ["x0.5", "x0.5", "x2", "x2"]


def test_text_and_image_conditions_go_through_the_same_space(tiny_pair, tmp_path: Path) -> None:
    joint, run = tiny_pair
    picture = tmp_path / "red.png"
    Image.new("RGB", (20, 20), (200, 10, 10)).save(picture)
    for condition in (["--text", "a dog barking"], ["--image", str(picture)]):
        out = tmp_path / condition[0].strip("-")
        assert (
            main(
                [
                    "generate",
                    *condition,
                    "--model",
                    str(joint),
                    "--generator",
                    str(run),
                    "-n",
                    "2",
                    "--steps",
                    "2",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
        assert len(json.loads((out / "scores.json").read_text())["pictures"]) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "exactly one of"),
        (["x.wav", "--text", "hello"], "exactly one of"),
        (["--text", "hello", "--volume", "1,2"], "--volume scales a sound"),
        (["missing.wav"], "no such file"),
    ],
)
def test_bad_requests_say_what_is_wrong(argv: list[str], message: str, capsys) -> None:
    assert main(["generate", *argv]) != 0
    assert message in capsys.readouterr().err


def test_volume_factors_are_checked() -> None:
    assert volume_factors("0.25, 0.5,1,2") == [0.25, 0.5, 1.0, 2.0]
    for bad in ("loud", "0,1", "-1", ""):
        with pytest.raises(CommandError):
            volume_factors(bad)


def test_a_folder_that_is_no_generator_is_named(tiny_pair, tone: Path, tmp_path: Path, capsys) -> None:
    joint, _ = tiny_pair
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "config.json").write_text("{}")
    assert (
        main(
            [
                "generate",
                str(tone),
                "--model",
                str(joint),
                "--generator",
                str(tmp_path / "notes.txt"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        != 0
    )
    assert "notes.txt" in capsys.readouterr().err


def test_two_choice_judgement_and_partners() -> None:
    judged = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.7], [0.5, 0.5, 0.1]])
    passes = two_choice_passes(judged, own=np.array([0, 1, 0]), other=np.array([1, 2, 1]))
    assert passes.tolist() == [True, False, False]  # a tie is not a pass
    labels = ["dog", "dog", "cat", "cat", "pig", "pig"]
    partner, control = shuffled_partners(labels, seed=0)
    for i, label in enumerate(labels):
        assert labels[partner[i]] != label
        assert labels[control[i]] not in (label, labels[partner[i]])


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift() -> None:
    features = np.random.default_rng(0).standard_normal((200, 4))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    shifted = features + np.array([2.0, 0, 0, 0])
    assert frechet_distance(features, shifted) == pytest.approx(4.0, rel=1e-6)
    with pytest.raises(ValueError, match="two pictures"):
        frechet_distance(features[:1], features)


@pytest.mark.integration
def test_eval_generation_writes_every_measure(tiny_pair, tmp_path: Path) -> None:
    """Real ESC-50 and Tux Paint sounds, the real bridges as judge; tiny untrained model and decoder."""
    from bgtai.eval.generation import esc50_sounds

    try:
        esc50_sounds(1, 0)
    except Exception as error:  # data or weights missing on this machine
        pytest.skip(f"ESC-50 or the judge's weights are not here: {error}")
    joint, run = tiny_pair
    out = tmp_path / "generation.json"
    assert (
        main(
            [
                "eval",
                "generation",
                "--model",
                str(joint),
                "--generator",
                str(run),
                "--per-class",
                "1",
                "-n",
                "2",
                "--tuxpaint-sounds",
                "4",
                "--reference-pictures",
                "6",
                "--steps",
                "2",
                "--json",
                str(out),
                "--figure",
                str(tmp_path / "f.png"),
            ]
        )
        == 0
    )
    metrics = json.loads(out.read_text())["metrics"]
    for name in (
        "two_choice",
        "rerank_gain",
        "two_choice_control",
        "fid_efficientnet",
        "paired_match",
        "fid_efficientnet_real_train",
    ):
        assert name in metrics
    assert 0.0 <= metrics["two_choice"] <= 1.0
    assert metrics["rerank_gain"] == pytest.approx(metrics["two_choice"] - metrics["two_choice_random"])
    assert Image.open(tmp_path / "f.png").size[0] > 0


def test_a_text_to_image_pipeline_gets_prompts_from_the_sound(tiny_pair, tone: Path, tmp_path: Path, capsys) -> None:
    """`--generator tiny`: the diffusers path end to end offline (a tiny random Stable Diffusion pipeline)."""
    joint, _ = tiny_pair
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                str(tone),
                "--model",
                str(joint),
                "--generator",
                "tiny",
                "-n",
                "2",
                "--steps",
                "2",
                "--prompts",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads((out / "scores.json").read_text())
    assert record["generator"].startswith("diffusers:")
    assert all(len(p["prompts"]) == 2 and p["prompts"][0].startswith("a photo of") for p in record["pictures"])
    assert "prompts" in capsys.readouterr().out


def test_a_missing_generator_named_by_the_environment_is_named(
    tiny_pair, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    joint, _ = tiny_pair
    monkeypatch.setenv("BGTAI_GENERATOR", str(tmp_path / "gone"))
    assert main(["generate", "--text", "a dog", "--model", str(joint), "--out", str(tmp_path / "o")]) != 0
    assert "gone: no such generator folder (named by $BGTAI_GENERATOR)" in capsys.readouterr().err


def test_trainer_flags_come_from_the_settings_fields() -> None:
    import argparse

    from bgtai.cli.settings_arguments import add_settings_arguments
    from bgtai.train.generator import GeneratorSettings

    parser = argparse.ArgumentParser()
    add_settings_arguments(parser, GeneratorSettings, skip=("extra", "datasets"))
    args = parser.parse_args(["--channels", "16,32", "--condition-dropout", "0.2"])
    assert args.channels == (16, 32) and args.condition_dropout == 0.2 and args.steps == GeneratorSettings().steps
    with pytest.raises(SystemExit):
        parser.parse_args(["--channels", "16,wide"])
