"""What a new user meets first: `bgtai train`'s two forms, `dir(bgtai)`, and a folder given to
the API as to the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

import bgtai
from bgtai.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- bgtai train ------------------------------------------------------------------------------


def test_train_without_arguments_names_both_forms_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "train")
    assert code == 2 and out == ""
    assert "bgtai train --recipe NAME" in err and "bgtai train gloss --corpus" in err
    assert "error: give --recipe NAME" in err


def test_train_help_shows_both_forms_and_no_recipe_positional(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    usage = out.split("\n\n")[0]
    assert "--recipe NAME" in usage and "--list-recipes" in usage and "gloss --corpus" in usage
    assert "RECIPE" not in out and "{gloss}" not in out  # no positional that looks like a recipe slot


def test_train_gloss_help_names_its_own_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "gloss", "--help"])
    assert capsys.readouterr().out.startswith("usage: bgtai train gloss [-h] --corpus")


def test_every_documented_train_form_still_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    from bgtai.cli import train as train_cli
    from bgtai.cli.main import build_parser

    parser = build_parser()
    gloss = parser.parse_args(["train", "gloss", "--corpus", "phoenix", "--members", "2"])
    assert gloss.func is train_cli._run_gloss and gloss.corpus == "phoenix" and gloss.members == 2
    joint = parser.parse_args(["train", "--recipe", "unibrivl-moco", "--set", "optim.batch_size=64", "--resume"])
    assert joint.recipe == "unibrivl-moco" and joint.overrides == ["optim.batch_size=64"] and joint.resume
    assert joint.func is not train_cli._run_gloss
    # the sub-command's name does not overwrite --recipe any more
    assert parser.parse_args(["train", "gloss", "--corpus", "aslg"]).recipe is None


def test_train_list_recipes_lists_only_joint_recipes(capsys: pytest.CaptureFixture[str]) -> None:
    from bgtai.train.recipes import recipe_names

    code, out, _ = _run(capsys, "train", "--list-recipes")
    assert code == 0 and [line.split(":")[0] for line in out.splitlines()] == recipe_names()


def test_train_recipe_gloss_points_to_the_gloss_form(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "train", "--recipe", "gloss")
    assert code == 2 and "`bgtai train gloss ...`" in err


# --- the package namespace --------------------------------------------------------------------


def test_dir_and_help_show_the_public_api_without_importing_torch() -> None:
    script = (
        "import sys, bgtai; names = dir(bgtai); "
        "assert 'torch' not in sys.modules, 'dir() imported torch'; "
        "assert {'encode', 'encode_sequence', 'load_model', '__version__'} <= set(names), names; "
        "assert set(bgtai.__all__) <= set(names); "
        "assert not {'Any', 'importlib', 'annotations', '_LAZY'} & set(names), names"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    import pydoc

    text = pydoc.render_doc(bgtai, renderer=pydoc.plaintext)
    for name in ("encode(", "encode_sequence(", "load_model(", "BadInputError"):
        assert name in text
    for name in bgtai.__all__:
        assert getattr(bgtai, name) is not None


# --- a folder: the API agrees with the CLI ----------------------------------------------------


def _media_folder(root: Path) -> Path:
    folder = root / "media"
    (folder / "b").mkdir(parents=True)
    t = np.arange(8000) / 16000
    sf.write(folder / "b" / "z.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    sf.write(folder / "a.flac", (0.3 * np.sin(2 * np.pi * 880 * t)).astype(np.float32), 16000)
    Image.new("RGB", (20, 10), (200, 30, 30)).save(folder / "c.png")
    (folder / "notes.txt").write_text("not media")
    return folder


@pytest.mark.parametrize(("modality", "encoder", "rows"), [("audio", "tiny-audio", 2), ("image", "tiny-image", 1)])
def test_api_takes_a_folder_as_the_cli_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], modality: str, encoder: str, rows: int
) -> None:
    folder = _media_folder(tmp_path)
    out = tmp_path / f"{modality}.npy"
    code, _, err = _run(capsys, "embed", modality, folder, "--encoder", encoder, "--out", out, "--no-cache")
    assert code == 0, err
    from_cli = np.load(out)
    for given in (str(folder), folder, [folder]):
        from_api = bgtai.encode(modality, given, encoder=encoder, cache=False)
        assert from_api.shape == (rows, from_cli.shape[1])
        np.testing.assert_array_equal(from_api, from_cli)
    # a folder among files: it is replaced by its files, in place
    first = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in (".wav", ".flac", ".png") and (modality == "image") == (p.suffix == ".png")
    )[0]
    mixed = bgtai.encode(modality, [first, folder], encoder=encoder, cache=False)
    assert mixed.shape[0] == 1 + rows


def test_api_names_a_folder_without_media(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(bgtai.BadInputError, match="empty: folder holds no audio files"):
        bgtai.encode("audio", tmp_path / "empty", encoder="tiny-audio", cache=False)
