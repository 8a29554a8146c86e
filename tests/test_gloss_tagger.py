"""The edit tagger: tags derived from (sentence, gloss) pairs give the gloss back, a small one learns
made-up pairs exactly, its folder saves and loads to the same output, and a bad folder is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgtai.cli.main import main
from bgtai.errors import BadInputError
from bgtai.gloss.tagger import EditTagger, is_tagger_folder
from bgtai.gloss.tagger_tags import Tag, apply_tags, derive_tags, split_words
from bgtai.train.gloss_settings import GlossTrainSettings
from bgtai.train.tagger import train_tagger_on


@pytest.mark.parametrize(
    ("sentence", "gloss"),
    [
        ("we are far from achieving this objective .", "X-WE BE DESC-FAR FROM ACHIEVE THIS OBJECTIVE ."),  # all RULE
        ("we cannot do that now .", "X-WE CAN DESC-NOT DO THAT DESC-NOW ."),  # verbatim, DESC
        ("russia and the data", "RUSSIUM AND DATUM"),  # LATIN, articles dropped by the rule
        ("in favour of the programme", "IN FAVOR PROGRAM"),  # US spelling
        ("the council of ministers", "COUNCIL OF MINISTERS X-POSS ?"),  # a dropped word kept, WORD, appended tokens
        ("human rights are welcomed", "HUMAN RIGHTS BE DESC-WELCOMED"),  # WORD, DESC_WORD
        ("a b", "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN"),  # longer than 4 tokens a word
        ("the end .", ""),  # everything deleted
        ("it 's weather", "X-IT BE WEATHER"),  # contraction written out; the artefact not in the gloss
    ],
)
def test_applying_the_derived_tags_gives_the_gloss_back(sentence: str, gloss: str) -> None:
    words = split_words(sentence)
    tags = derive_tags(words, gloss)
    assert len(tags) == len(words)
    assert " ".join(apply_tags(words, tags)) == gloss
    assert [Tag.parse(str(tag)) for tag in tags] == tags  # the names the model folder keeps read back


def test_edits_are_preferred_to_verbatim_tokens_and_the_artefact_is_only_spelling() -> None:
    words = split_words("we cannot do that now .")
    assert [str(t) for t in derive_tags(words, "X-WE CAN DESC-NOT DO THAT DESC-NOW .")] == [
        "RULE",
        "=CAN DESC-NOT",
        "RULE",
        "RULE",
        "DESC",
        "RULE",
    ]
    # one tag sequence, written with and without ASLG's deleted "the"
    words = split_words("they gather together")
    tags = derive_tags(words, "X-Y GAR DESC-TOGER")
    assert " ".join(apply_tags(words, tags, artefacts=False)) == "X-THEY GATHER DESC-TOGETHER"
    with pytest.raises(ValueError, match="no words"):
        derive_tags([], "A GLOSS")
    with pytest.raises(ValueError, match="not an edit tag"):
        Tag.parse("KEEP")


@pytest.mark.integration
@pytest.mark.needs_data
def test_derived_tags_give_real_aslg_glosses_back() -> None:
    from bgtai.data.gloss_pairs import load_pairs

    try:
        sentences, glosses = load_pairs("aslg", "train")
    except (FileNotFoundError, BadInputError):
        pytest.skip("ASLG-PC12 not under the data root")
    sample = list(zip(sentences, glosses))[::12]  # 300 real pairs
    for sentence, gloss in sample:
        words = split_words(sentence)
        assert " ".join(apply_tags(words, derive_tags(words, gloss))) == gloss, sentence


# a made-up corpus whose glosses differ from the rules in ways the tags name: "now" gets DESC-, "cannot" is
# "CAN DESC-NOT", "rights" stays as written, -ia countries are Latin plurals, "very" is left out
SUBJECTS = ["we", "the council", "russia", "they", "the people"]
VERBS = ["cannot accept", "support", "want", "discuss"]
OBJECTS = ["the rights", "very good results", "the plan now", "bulgaria", "their rights now"]
EDITS = {
    "now": "DESC",
    "cannot": "=CAN DESC-NOT",
    "rights": "WORD",
    "russia": "LATIN",
    "bulgaria": "LATIN",
    "very": "DELETE",
}


def _made_up_pairs() -> tuple[list[str], list[str]]:
    sentences = [f"{SUBJECTS[i % 5]} {VERBS[i % 4]} {OBJECTS[(i // 2) % 5]} ." for i in range(20)]
    glosses = []
    for sentence in sentences:
        words = split_words(sentence)
        glosses.append(" ".join(apply_tags(words, [EDITS.get(word, "RULE") for word in words])))
    return sentences, glosses


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[str], list[str]]:
    sentences, glosses = _made_up_pairs()
    settings = GlossTrainSettings(
        corpus="aslg",
        model="tagger",
        width=32,
        dropout=0.0,
        lr=0.01,
        warmup_steps=1,
        schedule="inverse-sqrt",
        batch_size=4,
        max_epochs=40,
        threads=1,
    )
    out = tmp_path_factory.mktemp("tagger")
    summary = train_tagger_on(settings, out, (sentences, glosses), (sentences, glosses), progress=False)
    return out / "best", summary, sentences, glosses


def test_a_small_tagger_learns_made_up_pairs_exactly(trained: tuple[Path, dict, list[str], list[str]]) -> None:
    folder, summary, sentences, glosses = trained
    assert glosses[0] == "X-WE CAN DESC-NOT ACCEPT RIGHTS ."  # the made-up convention, not the rules'
    assert summary["best_valid_bleu4"] == pytest.approx(100.0)
    tagger = EditTagger.load(folder, aslg_artefacts=True)
    assert tagger.meta["valid_bleu4"] == pytest.approx(100.0) and tagger.meta["epoch"] >= 1
    assert tagger.gloss_many(sentences) == glosses


def test_save_and_load_give_identical_output(trained: tuple[Path, dict, list[str], list[str]], tmp_path: Path) -> None:
    import torch

    folder, _, sentences, _ = trained
    first = EditTagger.load(folder, aslg_artefacts=True)
    first.save(tmp_path / "copy")
    second = EditTagger.load(tmp_path / "copy", aslg_artefacts=True)
    texts = [*sentences, "the council cannot discuss romania now .", "an unseen sentence about bulgaria"]
    assert second.gloss_many(texts) == first.gloss_many(texts)
    for name, tensor in first.net.state_dict().items():
        assert torch.equal(tensor, second.net.state_dict()[name]), name
    assert second.labels == first.labels and is_tagger_folder(tmp_path / "copy")
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging folder left behind


def test_bad_model_folders_are_named(
    trained: tuple[Path, dict, list[str], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = trained[0]
    with pytest.raises(BadInputError, match="no such model folder"):
        EditTagger.load(tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((folder / "config.json").read_text())
    with pytest.raises(BadInputError, match=r"broken: not an edit-tagger model folder: missing model.safetensors"):
        EditTagger.load(broken)
    (broken / "model.safetensors").write_bytes(b"not a tensor file")
    (broken / "tagger_vocab.json").write_text("{")
    with pytest.raises(BadInputError, match="broken: unreadable edit-tagger files"):
        EditTagger.load(broken)
    (broken / "tagger_vocab.json").write_text((folder / "tagger_vocab.json").read_text())
    with pytest.raises(BadInputError, match=r"model.safetensors: does not fit the config"):
        EditTagger.load(broken)
    # the CLI says the same in one line and exits 2
    assert main(["gloss", "--model", str(broken), "the plan now"]) == 2
    assert "broken/model.safetensors: does not fit the config" in capsys.readouterr().err
    # the Langue2Gloss loader names the kind instead of a missing vocab.json
    from bgtai.gloss.checkpoint import load_checkpoint

    with pytest.raises(BadInputError, match="an edit-tagger folder"):
        load_checkpoint(folder)


def test_cli_glosses_and_scores_with_a_tagger_folder(
    trained: tuple[Path, dict, list[str], list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, _, sentences, glosses = trained
    assert main(["gloss", "--model", str(folder), "--aslg-artefacts", sentences[0], sentences[1]]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == glosses[:2] and "glosser: edit tagger" in captured.err
    # ASLG's layout with the made-up pairs as its test split
    data = tmp_path / "data" / "gloss"
    data.mkdir(parents=True)
    for split in ("dev", "test"):
        (data / f"aslg.{split}.en").write_text("\n".join(sentences) + "\n")
        (data / f"aslg.{split}.gloss.asl").write_text("\n".join(glosses) + "\n")
    monkeypatch.setenv("BGTAI_DATA", str(tmp_path / "data"))
    out = tmp_path / "result.json"
    assert main(["eval", "gloss", "--corpus", "aslg", "--model", str(folder), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["metrics"]["bleu4"] == pytest.approx(100.0)
    assert record["model"].startswith("edit tagger") and "ASLG artefact reproduced" in record["protocol"]
    assert main(["eval", "gloss", "--corpus", "aslg", "--model", str(folder), str(folder)]) == 2
    assert "scored alone" in capsys.readouterr().err


def test_the_default_glosser_is_the_checkout_s_tagger_when_there_is_one(
    trained: tuple[Path, dict, list[str], list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    from bgtai.cli import gloss as gloss_cli

    checkout = tmp_path / "checkout"
    (checkout / "runs" / "gloss-aslg").mkdir(parents=True)  # a Langue2Gloss folder too: the tagger still comes first
    (checkout / "pyproject.toml").write_text("")
    shutil.copytree(trained[0], checkout / "runs" / "gloss-aslg-tagger" / "best")
    monkeypatch.delenv(gloss_cli.MODEL_ENV, raising=False)
    monkeypatch.setattr(gloss_cli, "_CHECKOUT", checkout)
    monkeypatch.chdir(tmp_path)
    assert gloss_cli.default_model_candidates()[:2] == [
        checkout / "runs" / "gloss-aslg-tagger" / "best",
        checkout / "runs" / "gloss-aslg" / "best",
    ]
    assert main(["gloss", "they support the plan now"]) == 0
    captured = capsys.readouterr()
    # words whole by default (the artefact would write X-Y for "they")
    assert (
        captured.out == "X-THEY SUPPORT PLAN DESC-NOW\n"
        and "edit tagger" in captured.err
        and "(default" in captured.err
    )


def test_a_killed_and_resumed_tagger_run_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    import torch

    sentences, glosses = _made_up_pairs()
    settings = GlossTrainSettings(
        corpus="aslg", model="tagger", width=16, dropout=0.1, token_dropout=0.1, lr=0.01, warmup_steps=1,
        batch_size=8, max_epochs=3, threads=1,
    )  # fmt: skip
    pairs = (sentences, glosses)
    whole = train_tagger_on(settings, tmp_path / "whole", pairs, pairs, progress=False)

    def kill(step: int) -> None:
        if step == 5:  # in the middle of epoch 2 (3 steps an epoch)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_tagger_on(settings, tmp_path / "killed", pairs, pairs, progress=False, on_step=kill)
    resumed = train_tagger_on(settings, tmp_path / "killed", pairs, pairs, progress=False, resume=True)
    times = ("seconds", "cpu_seconds", "elapsed_s", "cpu_s")
    assert [{k: v for k, v in r.items() if k not in times} for r in resumed["history"]] == [
        {k: v for k, v in r.items() if k not in times} for r in whole["history"]
    ]
    first, second = (EditTagger.load(tmp_path / name / "best") for name in ("whole", "killed"))
    assert first.meta == second.meta
    for name, tensor in first.net.state_dict().items():
        assert torch.equal(tensor, second.net.state_dict()[name]), name
