"""`bgtai index build --model DIR` with a tiny trained joint model, and `--bridges` on a few real Tux Paint stamps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from search_fakes import make_collection
from test_embed_model import model_dir  # noqa: F401 - the tiny joint model fixture (tiny front-ends, no weights)

from bgtai.cli.main import main
from bgtai.config import data_root


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# model_dir is the fixture imported above (pytest passes it by name), not a redefinition
def test_build_and_search_with_a_trained_model(
    tmp_path: Path,
    model_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    collection = make_collection(tmp_path / "collection")
    out = tmp_path / "index"
    code, stdout, err = _run(capsys, "index", "build", collection, "--model", model_dir, "--out", out, "--no-progress")
    assert code == 0, err
    assert "15 embedded" in stdout
    manifest = json.loads((out / "index.json").read_text())
    assert manifest["model"] == {"kind": "model", "path": str(model_dir.resolve())} and manifest["dim"] == 8
    code, stdout, err = _run(capsys, "search", out, collection / "pictures" / "pic0.png", "--json", "-k", "15")
    results = json.loads(stdout)["results"]
    assert code == 0, err
    assert len(results) == 15 and results[0]["path"].endswith("pic0.png")  # itself first
    assert results[0]["score"] == pytest.approx(1.0, abs=1e-4)
    code, _, err = _run(capsys, "index", "build", collection, "--bridges", "--out", out)
    assert code == 2 and "built with model" in err  # one index, one model


@pytest.mark.integration
@pytest.mark.needs_data
def test_bridges_on_real_tux_paint_stamps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bgtai.encoders.registry import get_encoder

    for name in ("yamnet", "minilm", "efficientnet-lite0"):
        if not get_encoder(name).weights_present():
            pytest.skip(f"{name}: weights not installed")
    stamps = data_root() / "tuxpaint" / "stamps" / "animals" / "mammals"
    chosen = tmp_path / "stamps"
    chosen.mkdir()
    for stem in ("elephant", "giraffe", "pig"):
        for suffix in (".png", ".ogg"):
            if not (stamps / f"{stem}{suffix}").is_file():
                pytest.skip(f"{stamps / (stem + suffix)} is missing")
            shutil.copy(stamps / f"{stem}{suffix}", chosen)
    out = tmp_path / "index"
    code, stdout, err = _run(capsys, "index", "build", chosen, "--bridges", "--out", out, "--no-progress")
    assert code == 0, err
    assert "6 items (3 audio, 3 image)" in stdout
    code, stdout, _ = _run(capsys, "search", out, "a pig", "--json", "--modality", "image", "-k", "3")
    assert code == 0 and Path(json.loads(stdout)["results"][0]["path"]).name == "pig.png"
