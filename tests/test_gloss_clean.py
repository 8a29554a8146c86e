"""The rule glosser writes clean gloss by default, ASLG's artefact only when asked, and
`bgtai gloss` says which glosser ran and finds its default model from any working folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgtai.cli import gloss as gloss_cli
from bgtai.cli.main import main
from bgtai.gloss.rules import RuleGlosser

# ordinary sentences whose words contain "the" (or became "re"/"y" without it) in ASLG's output
CLEAN = [
    ("the weather will be sunny tomorrow", "WEATHER WILL BE DESC-SUNNY TOMORROW"),
    ("Together they went there.", "DESC-TOGETHER X-THEY GO DESC-THERE ."),
    ("My mother and father are here.", "X-MY MOTHER AND FATHER BE DESC-HERE ."),
    ("Whether or not it rains, the theatre opens at three.", "WHETHER OR DESC-NOT X-IT RAIN , THEATRE OPEN AT THREE ."),
    ("Nevertheless, the theory is worth thinking about.", "DESC-NEVERTHELESS , THEORY BE WORTH THINK ABOUT ."),
    ("They've never seen the northern lights.", "X-THEY HAVE DESC-NEVER SEE NORTHERN LIGHT ."),
    ("I can't believe the other team won't come.", "X-I CAN DESC-NOT BELIEVE OTHER TEAM WILL DESC-NOT COME ."),
    ("We're sure it doesn't matter.", "X-WE BE DESC-SURE X-IT DO DESC-NOT MATTER ."),
    ("It's raining, so let's stay inside.", "X-IT BE RAIN , DESC-SO LET X-WE STAY INSIDE ."),
    ("She breathes slowly.", "X-SHE BREATHE DESC-SLOWLY ."),
]


@pytest.mark.parametrize(("text", "gloss"), CLEAN)
def test_default_output_keeps_words_whole(text: str, gloss: str) -> None:
    assert RuleGlosser().gloss(text) == gloss


def test_the_option_reproduces_aslg_s_deleted_the() -> None:
    glosser = RuleGlosser(aslg_artefacts=True)
    assert glosser.gloss("the weather will be sunny tomorrow") == "WEAR WILL BE DESC-SUNNY TOMORROW"
    assert glosser.gloss("Together they went there.") == "DESC-TOGER X-Y GO DESC-RE ."
    # ASLG-PC12 test pair 2, reference gloss as the corpus has it
    assert glosser.gloss("the results speak for themselves .") == "RESULT SPEAK FOR X-MSELVES ."


def _gloss(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["gloss", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_is_clean_by_default_and_the_flag_gives_aslg_s_form(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(gloss_cli.MODEL_ENV, raising=False)
    monkeypatch.setattr(gloss_cli, "_CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.chdir(tmp_path)
    code, out, err = _gloss(capsys, "the weather will be sunny tomorrow")
    assert (code, out) == (0, "WEATHER WILL BE DESC-SUNNY TOMORROW\n")
    assert "glosser: rules" in err and "no trained model at" in err  # the fallback is said, on stderr
    code, out, err = _gloss(capsys, "--aslg-artefacts", "the weather will be sunny tomorrow")
    assert (code, out) == (0, "WEAR WILL BE DESC-SUNNY TOMORROW\n") and "ASLG artefacts" in err


def _save_untrained_model(folder: Path) -> None:
    """A tiny untrained Langue2Gloss checkpoint: enough to be loaded and run."""
    import torch

    from bgtai.gloss.checkpoint import GlossCheckpoint, save_checkpoint
    from bgtai.gloss.model import GlossDecoderConfig, Langue2Gloss, Langue2GlossConfig
    from bgtai.gloss.vocab import Vocab
    from bgtai.model.language_encoder import LanguageEncoderConfig

    source, target = Vocab.build(["the cat sleeps"], kind="word"), Vocab.build(["CAT SLEEP"], kind="word")
    torch.manual_seed(0)
    encoder = LanguageEncoderConfig(token_frontends={"en": len(source)}, width=16, layers=1, heads=2, ffn=32)
    decoder = GlossDecoderConfig(vocab_size=len(target), layers=1, heads=2, ffn=32, max_length=4)
    model = Langue2Gloss(Langue2GlossConfig(encoder, decoder)).eval()
    save_checkpoint(folder, GlossCheckpoint(model, target, source, {"text_frontend": "en"}))


def test_cli_finds_the_checkout_s_model_from_any_working_folder_and_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "runs" / "gloss-aslg").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    _save_untrained_model(checkout / "runs" / "gloss-aslg" / "best")
    monkeypatch.delenv(gloss_cli.MODEL_ENV, raising=False)
    monkeypatch.setattr(gloss_cli, "_CHECKOUT", checkout)
    model = (checkout / "runs" / "gloss-aslg" / "best").resolve()
    for working in (checkout, tmp_path / "elsewhere"):
        working.mkdir(exist_ok=True)
        monkeypatch.chdir(working)
        code, out, err = _gloss(capsys, "the cat sleeps")
        assert code == 0 and len(out.splitlines()) == 1
        assert f"glosser: trained model {model} (default" in err
    # --rules still chooses the rules, and says so
    code, out, err = _gloss(capsys, "--rules", "the cat sleeps")
    assert (code, out) == (0, "CAT SLEEP\n") and "glosser: rules" in err


def test_cli_model_from_the_environment_and_bad_folders_are_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _save_untrained_model(tmp_path / "mine")
    monkeypatch.setenv(gloss_cli.MODEL_ENV, str(tmp_path / "mine"))
    code, _, err = _gloss(capsys, "the cat sleeps")
    assert code == 0 and f"trained model {(tmp_path / 'mine').resolve()}" in err
    monkeypatch.setenv(gloss_cli.MODEL_ENV, str(tmp_path / "missing"))
    code, out, err = _gloss(capsys, "the cat sleeps")
    assert code == 2 and out == "" and "missing: no such model folder (named by BGTAI_GLOSS_MODEL)" in err
    code, _, err = _gloss(capsys, "--model", str(tmp_path / "nope"), "the cat sleeps")
    assert code == 2 and "nope: no such model folder" in err


@pytest.mark.integration
@pytest.mark.needs_data
def test_aslg_evaluation_keeps_the_committed_rule_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`bgtai eval gloss --corpus aslg --model rules` reproduces ASLG's artefact, so its BLEU-4 stays 86.99."""
    import json

    from bgtai.data.parallel_text import gloss_files
    from bgtai.errors import BadInputError

    try:
        sources = gloss_files("aslg", "test")
    except (FileNotFoundError, BadInputError):
        pytest.skip("ASLG-PC12 not under the data root")
    if not all(Path(path).is_file() for path in sources):
        pytest.skip("ASLG-PC12 not under the data root")
    scores = {}
    for name, flags in (("default", []), ("whole-words", ["--no-aslg-artefacts"])):
        out = tmp_path / f"{name}.json"
        assert main(["eval", "gloss", "--corpus", "aslg", "--model", "rules", *flags, "--json", str(out)]) == 0
        scores[name] = json.loads(out.read_text())["metrics"]["bleu4"]
    capsys.readouterr()
    assert scores["default"] == pytest.approx(86.99, abs=0.005)  # results/gloss-aslg-rules.json
    assert scores["whole-words"] < scores["default"] - 3  # ASLG's references carry the artefact
