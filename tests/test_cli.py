"""The `bgtai` command line: embed (text, audio, image, shards, bad inputs), encoders, datasets."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

import bgtai
from bgtai.cli import main as cli_main
from bgtai.cli.main import main

TEXTS = ["a dog barks", "rain on a tin roof", "church bells ring", "a car passes by", "birds at dawn"]


def _tone(path: Path, freq: float, rate: int = 16000) -> Path:
    t = np.arange(rate // 2) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_embed_text_writes_rows_in_order_and_a_sidecar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "text.npy"
    code, stdout, _ = _run(capsys, "embed", "text", *TEXTS, "--encoder", "tiny-text", "--out", out)
    assert code == 0 and "5 x 16" in stdout
    np.testing.assert_array_equal(np.load(out), bgtai.encode("text", TEXTS, encoder="tiny-text", cache=False))
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["encoder"] == "tiny-text" and sidecar["inputs"] == TEXTS
    assert sidecar["rows"] == [0, 1, 2, 3, 4] and sidecar["bad"] == []
    assert sidecar["settings"]["model"] == "tiny-text"


def test_embed_text_from_file_one_input_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "texts.txt"
    listing.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    out = tmp_path / "lines.npy"
    code, _, _ = _run(capsys, "embed", "text", "--from-file", listing, "--encoder", "tiny-text", "--out", out)
    assert code == 0
    np.testing.assert_array_equal(np.load(out), bgtai.encode("text", TEXTS, encoder="tiny-text", cache=False))


def test_embed_audio_folder_expands_to_sorted_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "clips"
    (folder / "sub").mkdir(parents=True)
    paths = [_tone(folder / "b.wav", 300), _tone(folder / "a.wav", 600), _tone(folder / "sub" / "c.wav", 900)]
    (folder / "notes.txt").write_text("not audio")
    out = tmp_path / "audio.npy"
    code, _, _ = _run(capsys, "embed", "audio", folder, "--encoder", "tiny-audio", "--out", out)
    assert code == 0
    ordered = sorted(paths)
    assert json.loads(out.with_suffix(".json").read_text())["inputs"] == [str(p) for p in ordered]
    np.testing.assert_array_equal(np.load(out), bgtai.encode("audio", ordered, encoder="tiny-audio", cache=False))


def test_embed_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    paths = []
    for name in ("x.png", "y.jpg"):
        Image.fromarray(rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)).save(tmp_path / name)
        paths.append(tmp_path / name)
    out = tmp_path / "img.npy"
    code, _, _ = _run(capsys, "embed", "image", *paths, "--encoder", "tiny-image", "--out", out, "--no-cache")
    assert code == 0
    vectors = np.load(out)
    assert vectors.shape == (2, 16) and not np.allclose(vectors[0], vectors[1])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_bad_file_exits_2_naming_it_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _tone(tmp_path / "good.wav", 440)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not a wave file" * 50)
    out = tmp_path / "out.npy"
    inputs = [good, broken, tmp_path / "gone.flac"]
    code, _, stderr = _run(capsys, "embed", "audio", *inputs, "--encoder", "tiny-audio", "--out", out)
    assert code == 2
    assert "broken.wav" in stderr and "gone.flac" in stderr and "not found" in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 3  # headline + one line per bad file
    assert not out.exists()


def test_verbose_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-v", "embed", "audio", tmp_path / "gone.wav", "--encoder", "tiny-audio", "--out", tmp_path / "o.npy"]
    code, _, stderr = _run(capsys, *argv)
    assert code == 2 and "Traceback" in stderr and "gone.wav" in stderr


def test_skip_bad_keeps_good_rows_in_order_and_lists_the_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [_tone(tmp_path / "one.wav", 300), tmp_path / "missing.wav", _tone(tmp_path / "two.wav", 700)]
    out = tmp_path / "skip.npy"
    code, _, stderr = _run(capsys, "embed", "audio", *paths, "--encoder", "tiny-audio", "--skip-bad", "--out", out)
    assert code == 0
    assert "missing.wav" in stderr and "file not found" in stderr
    good = bgtai.encode("audio", [paths[0], paths[2]], encoder="tiny-audio", cache=False)
    np.testing.assert_array_equal(np.load(out), good)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["rows"] == [0, 2]
    assert [(b["index"], Path(b["source"]).name) for b in sidecar["bad"]] == [(1, "missing.wav")]


def test_shards_merge_to_the_unsharded_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts = TEXTS + ["", "thunder far away"]  # a blank line is a bad input
    listing = tmp_path / "texts.txt"
    listing.write_text("\n".join(texts) + "\n")
    base = ["embed", "text", "--from-file", listing, "--encoder", "tiny-text", "--skip-bad"]
    assert _run(capsys, *base, "--out", tmp_path / "full.npy")[0] == 0
    assert _run(capsys, *base, "--shard", "0/2", "--out", tmp_path / "s0.npy")[0] == 0
    assert _run(capsys, *base, "--shard", "1/2", "--out", tmp_path / "s1.npy")[0] == 0
    assert len(np.load(tmp_path / "s0.npy")) == 4 and len(np.load(tmp_path / "s1.npy")) == 2
    # shards given in any order
    code, _, _ = _run(capsys, "embed", "merge", tmp_path / "merged.npy", tmp_path / "s1.npy", tmp_path / "s0.npy")
    assert code == 0
    np.testing.assert_array_equal(np.load(tmp_path / "merged.npy"), np.load(tmp_path / "full.npy"))
    merged, full = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("merged", "full"))
    assert merged["rows"] == full["rows"] == [0, 1, 2, 3, 4, 6]
    assert merged["bad"] == full["bad"] and merged["bad"][0]["index"] == 5


def test_merge_refuses_an_incomplete_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["embed", "text", *TEXTS, "--encoder", "tiny-text"]
    _run(capsys, *base, "--shard", "0/3", "--out", tmp_path / "s0.npy")
    _run(capsys, *base, "--shard", "2/3", "--out", tmp_path / "s2.npy")
    code, _, stderr = _run(capsys, "embed", "merge", tmp_path / "m.npy", tmp_path / "s0.npy", tmp_path / "s2.npy")
    assert code == 2 and "0..2" in stderr
    assert not (tmp_path / "m.npy").exists()


def test_unknown_or_wrong_modality_encoder_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = _run(capsys, "embed", "text", "hi", "--encoder", "nope", "--out", tmp_path / "o.npy")
    assert code == 2 and "unknown encoder 'nope'" in stderr and "tiny-text" in stderr
    code, _, stderr = _run(capsys, "embed", "text", "hi", "--encoder", "tiny-audio", "--out", tmp_path / "o.npy")
    assert code == 2 and "embeds audio, not text" in stderr


def test_encoders_table_lists_every_registered_name(capsys: pytest.CaptureFixture[str]) -> None:
    from bgtai.encoders.registry import names

    code, stdout, _ = _run(capsys, "encoders")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split()[:5] == ["name", "modality", "dim", "weights", "description"]
    listed = {line.split()[0] for line in lines[2:] if line.strip() and not line.startswith("any ")}
    assert listed == set(names())
    tiny = next(line for line in lines if line.startswith("tiny-text "))
    assert tiny.split()[1:4] == ["text", "16", "yes"]


def test_encoders_table_loads_no_weights(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("bgtai encoders must not load weights")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr("safetensors.torch.load_file", refuse)
    code, _, _ = _run(capsys, "encoders", "--modality", "audio")
    assert code == 0


def test_datasets_table_prints_root_and_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import dataclass

    @dataclass
    class Summary:
        name: str
        folder: str
        present: bool
        items: int
        with_audio: bool
        with_image: bool
        with_text: bool
        note: str

    seen: list[Path] = []

    def fake_list(root: Path | None = None) -> list[Summary]:
        seen.append(root)
        return [Summary("esc50", str(root / "esc50"), True, 414, True, False, True, "fold 4")]

    # the real catalog is another module's job; the command only has to present it
    fake = types.ModuleType("bgtai.data.catalog")
    fake.list_datasets = fake_list  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bgtai.data.catalog", fake)
    code, stdout, _ = _run(capsys, "datasets", "--root", tmp_path)
    assert code == 0 and seen == [tmp_path]
    assert f"data root: {tmp_path}" in stdout
    assert any(line.split()[:3] == ["esc50", "yes", "414"] for line in stdout.splitlines())


def test_missing_command_module_is_skipped_but_a_broken_one_surfaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bgtai.cli

    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ["encoders", "no_such_command"])
    assert [m.__name__ for m in cli_main.command_modules()] == ["bgtai.cli.encoders"]
    # a command module that exists but imports something missing
    (tmp_path / "broken.py").write_text("import bgtai_missing_dependency\n")
    monkeypatch.setattr(bgtai.cli, "__path__", [*bgtai.cli.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "bgtai.cli.broken", raising=False)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ["encoders", "broken"])
    with pytest.raises(ModuleNotFoundError, match="bgtai_missing_dependency"):
        cli_main.build_parser()
    sys.modules.pop("bgtai.cli.broken", None)


def test_no_command_prints_help_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = _run(capsys)
    assert code == 2 and "embed" in stderr
