"""The Langue2Gloss trainer on a made-up PHOENIX-layout corpus: it learns the pairs, keeps the best epoch, averages weights."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from bgtai.gloss.checkpoint import load_checkpoint, load_members
from bgtai.gloss.translator import GlossTranslator
from bgtai.train.gloss import train_gloss, train_gloss_ensemble
from bgtai.train.gloss_settings import GlossTrainSettings

# glosses of four or more words: corpus BLEU-4 needs 4-grams to count
GERMAN = [
    "morgen viel regen im norden",
    "heute viel sonne im sueden",
    "am abend gewitter und hagel im osten",
    "nachts frost im osten und sueden",
    "morgen starker wind an der kueste",
    "heute nebel im westen und norden",
]
GLOSS = [
    "MORGEN VIEL REGEN NORD",
    "HEUTE VIEL SONNE SUED",
    "ABEND GEWITTER HAGEL OST",
    "NACHT FROST OST SUED",
    "MORGEN STARK WIND KUESTE",
    "HEUTE NEBEL WEST NORD",
]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data" / "gloss"
    folder.mkdir(parents=True)
    raw = [f"__ON__ {line} __OFF__" for line in GLOSS]  # train carries the marks, as the real train split does
    for split, glosses in (("train", raw), ("dev", GLOSS), ("test", GLOSS)):
        (folder / f"phoenix2014T.{split}.de").write_text("\n".join(GERMAN) + "\n", encoding="utf-8")
        (folder / f"phoenix2014T.{split}.gloss").write_text("\n".join(glosses) + "\n", encoding="utf-8")
    monkeypatch.setenv("BGTAI_DATA", str(tmp_path / "data"))
    return tmp_path


def _settings(**changes: float) -> GlossTrainSettings:
    base = {
        "corpus": "phoenix",
        "source_vocab": "word",
        "width": 32,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "heads": 2,
        "ffn": 64,
        "dropout": 0.0,
        "label_smoothing": 0.0,
        "lr": 0.01,
        "warmup_steps": 5,
        "batch_size": 3,
        "max_epochs": 40,
        "threads": 1,
        "ema": 0.0,
        "schedule": "inverse-sqrt",
    }
    return GlossTrainSettings(**{**base, **changes})  # type: ignore[arg-type]


def test_trainer_learns_the_pairs_and_keeps_its_best_epoch(corpus: Path) -> None:
    out = corpus / "run"
    summary = train_gloss(_settings(), out, progress=False)
    history = json.loads((out / "history.json").read_text())["history"]
    scores = [record["valid_bleu4"] for record in history]
    checkpoint = load_checkpoint(out / "best")
    assert checkpoint.meta["epoch"] == scores.index(max(scores)) + 1
    assert summary["best_valid_bleu4"] == pytest.approx(100.0)
    # the marks of the train split never reach the vocabulary, so the model cannot say them
    assert not any(token.startswith("__") for token in checkpoint.vocab.tokenizer.get_vocab())
    assert GlossTranslator(checkpoint, beam=2).translate(GERMAN) == GLOSS


def test_weight_averaging_changes_what_is_kept_and_nothing_else(corpus: Path) -> None:
    plain = train_gloss(_settings(max_epochs=3), corpus / "plain", progress=False)
    # 6 steps at 0.9: the average still holds 0.9**6 = 53 % of the first step's weights, which the trainer says
    with pytest.warns(UserWarning, match="keeps 53% of the first step's weights"):
        averaged = train_gloss(_settings(ema=0.9, max_epochs=3), corpus / "ema", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an average that forgets at once draws no warning
        no_memory = train_gloss(_settings(ema=1e-12, max_epochs=3), corpus / "ema0", progress=False)
    assert plain["epochs"] == averaged["epochs"] == no_memory["epochs"] == 3

    def weights(name: str) -> list[torch.Tensor]:
        return list(load_checkpoint(corpus / name / "best").model.state_dict().values())

    # an average that forgets at once is the raw weights: the same training, the same checkpoint
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(weights("ema0"), weights("plain")))
    assert [r["valid_bleu4"] for r in no_memory["history"]] == [r["valid_bleu4"] for r in plain["history"]]
    # remembering earlier steps keeps other weights
    assert any(not torch.allclose(a, b, atol=1e-4) for a, b in zip(weights("ema"), weights("plain")))


def test_shared_vocabulary_ties_sentence_and_gloss_tables_through_training_and_loading(corpus: Path) -> None:
    out = corpus / "shared"
    train_gloss(_settings(shared_vocab=True), out, progress=False)
    checkpoint = load_checkpoint(out / "best")
    model, source, target = checkpoint.model, checkpoint.source_vocab, checkpoint.vocab
    assert source is not None and source.spelling == "gloss-de" and target.spelling == ""
    # one table: the sentence word "regen" and the gloss REGEN are one id and one vector, also after loading
    assert source.encode("regen") == target.encode("REGEN")
    assert model.encoder.embeddings["de-tokens"] is model.decoder.embedding
    assert GlossTranslator(checkpoint, beam=2).translate(GERMAN) == GLOSS


def test_shared_vocabulary_is_refused_for_a_feature_front_end(corpus: Path) -> None:
    with pytest.raises(ValueError, match="shared vocabulary needs a token front-end"):
        train_gloss(_settings(shared_vocab=True, text_frontend="minilm"), corpus / "refused", progress=False)


def test_cosine_schedule_ends_at_zero_learning_rate_where_inverse_sqrt_does_not(corpus: Path) -> None:
    cosine = train_gloss(_settings(schedule="cosine", max_epochs=4, warmup_steps=1), corpus / "cosine", progress=False)
    inverse = train_gloss(_settings(max_epochs=4, warmup_steps=1), corpus / "inverse", progress=False)
    rates = [record["lr"] for record in cosine["history"]]
    assert rates[0] > rates[1] > rates[2] > rates[3] and rates[3] == pytest.approx(0.0, abs=1e-12)
    assert inverse["history"][-1]["lr"] > 0.001
    with pytest.raises(ValueError, match="schedule must be one of"):
        _settings(schedule="linear")


def test_ensemble_of_two_seeds_is_kept_as_one_model_folder(corpus: Path) -> None:
    out = corpus / "ensemble"
    summary = train_gloss_ensemble(_settings(max_epochs=30), out, members=2)
    members, meta = load_members(out / "best")
    assert [m.meta["settings"]["seed"] for m in members] == [0, 1] == [m["seed"] for m in meta["members"]]
    first = load_checkpoint(out / "member-0" / "best")
    # the members are trained, not copied: different seeds give different weights
    assert not torch.equal(members[0].model.decoder.embedding.weight, members[1].model.decoder.embedding.weight)
    assert torch.equal(members[0].model.decoder.embedding.weight, first.model.decoder.embedding.weight)
    translator = GlossTranslator.load(out / "best", beam=2)
    assert len(translator.members) == 2 and translator.translate(GERMAN) == GLOSS
    assert summary["best_valid_bleu4"] == meta["ensemble_valid_bleu4"] == pytest.approx(100.0)


def test_ensemble_members_share_one_subword_vocabulary_built_once(corpus: Path) -> None:
    # BPE training is not repeatable across processes (ids follow hash-map order), so the members must not build their own
    out = corpus / "bpe-ensemble"
    train_gloss_ensemble(_settings(max_epochs=2, target_vocab="bpe", target_vocab_size=60), out, members=2)
    first, second = (load_checkpoint(out / f"member-{k}" / "best") for k in (0, 1))
    assert first.vocab.kind == "bpe" and first.vocab.to_json() == second.vocab.to_json()
    assert len(GlossTranslator.load(out / "best").members) == 2


def test_ensemble_of_one_model_decodes_exactly_as_that_model(corpus: Path) -> None:
    train_gloss(_settings(max_epochs=3), corpus / "one", progress=False)  # undertrained: its mistakes must match too
    checkpoint = load_checkpoint(corpus / "one" / "best")
    single = GlossTranslator(checkpoint, beam=3).translate(GERMAN)
    assert GlossTranslator([checkpoint], beam=3).translate(GERMAN) == single
    # a member with another vocabulary cannot join: averaging its ids with these would be meaningless
    other = train_gloss(
        _settings(max_epochs=1, source_vocab="bpe", source_vocab_size=40), corpus / "bpe", progress=False
    )
    assert other["epochs"] == 1
    with pytest.raises(ValueError, match="share their gloss and source vocabularies"):
        GlossTranslator([checkpoint, load_checkpoint(corpus / "bpe" / "best")])


def test_token_dropout_hides_the_sentence_from_training(corpus: Path) -> None:
    # words nearly always shown as <unk>: six sentences look alike, so their six glosses cannot all be learnt
    hidden = train_gloss(_settings(token_dropout=0.95), corpus / "hidden", progress=False)
    assert hidden["best_valid_bleu4"] < 90.0
    with pytest.raises(ValueError, match="token_dropout"):
        _settings(token_dropout=1.0)


def test_several_model_folders_decode_as_one_ensemble_of_all_their_members(corpus: Path) -> None:
    from bgtai.cli.main import main

    for seed in (0, 1):  # undertrained, so the two seeds disagree and the ensemble's output depends on both
        train_gloss(_settings(max_epochs=3, seed=seed), corpus / f"seed{seed}", progress=False)
    folders = [corpus / "seed0" / "best", corpus / "seed1" / "best"]
    checkpoints = [load_checkpoint(folder) for folder in folders]
    combined = GlossTranslator.load(folders, beam=2)
    assert [m.meta["settings"]["seed"] for m in combined.members] == [0, 1]
    assert combined.translate(GERMAN) == GlossTranslator(checkpoints, beam=2).translate(GERMAN)

    out = corpus / "dev.json"
    assert (
        main(
            [
                "eval",
                "gloss",
                "--corpus",
                "phoenix",
                "--model",
                *map(str, folders),
                "--split",
                "dev",
                "--beam",
                "2",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    record = json.loads(out.read_text())
    assert record["model"].startswith(f"Langue2Gloss ensemble {folders[0]} + {folders[1]} (2 members")
    assert main(["eval", "gloss", "--corpus", "phoenix", "--model", "rules", str(folders[0])]) != 0


TIMES = ("seconds", "cpu_seconds", "elapsed_s", "cpu_s", "valid_decode_s")  # differ from run to run


def _untimed(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in TIMES} for record in history]


def test_killed_and_resumed_run_ends_as_an_uninterrupted_one(corpus: Path) -> None:
    # dropout, word dropout and a weight average: every random draw and every piece of state must come back
    settings = _settings(max_epochs=4, dropout=0.1, token_dropout=0.1, ema=0.5)
    whole = train_gloss(settings, corpus / "whole", progress=False)

    def kill(step: int) -> None:
        if step == 5:  # in the middle of epoch 3 (2 steps an epoch)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_gloss(settings, corpus / "killed", progress=False, on_step=kill)
    with pytest.raises(FileExistsError, match="resume"):
        train_gloss(settings, corpus / "killed", progress=False)
    with pytest.raises(ValueError, match=r"other gloss settings \(lr differ\)"):
        train_gloss(_settings(max_epochs=4, dropout=0.1, token_dropout=0.1, ema=0.5, lr=0.02), corpus / "killed",
                    progress=False, resume=True)  # fmt: skip
    resumed = train_gloss(settings, corpus / "killed", progress=False, resume=True)
    assert resumed["steps"] == whole["steps"] == 8 and resumed["epochs"] == 4
    assert _untimed(resumed["history"]) == _untimed(whole["history"])
    assert json.loads((corpus / "killed" / "history.json").read_text())["best_valid_bleu4"] == whole["best_valid_bleu4"]
    kept, resumed_kept = (load_checkpoint(corpus / name / "best") for name in ("whole", "killed"))
    assert kept.meta == resumed_kept.meta
    for name, tensor in kept.model.state_dict().items():
        assert torch.equal(tensor, resumed_kept.model.state_dict()[name]), name
    # the raw weights too (the kept model is their average), and the batch order to come
    whole_task = torch.load(corpus / "whole" / "checkpoint.pt", weights_only=False)["task"]
    killed_task = torch.load(corpus / "killed" / "checkpoint.pt", weights_only=False)["task"]
    assert all(torch.equal(t, killed_task["model"][n]) for n, t in whole_task["model"].items())
    assert whole_task["rng"] == killed_task["rng"]
    assert (corpus / "killed" / "log.csv").is_file()


def test_cli_trains_from_a_recipe_file_with_set_and_flag_overrides(corpus: Path) -> None:
    from dataclasses import asdict

    from bgtai.cli.main import main

    recipe = corpus / "tiny.json"
    recipe.write_text(json.dumps({"description": "the tests' settings", **asdict(_settings(max_epochs=3))}))
    out = corpus / "from-recipe"
    # the recipe says 3 epochs, --set says 2, the flag says 1: the flag wins; --set lr still applies
    arguments = ["train", "gloss", "--recipe", str(recipe), "--set", "max_epochs=2", "--set", "lr=0.02"]
    assert main([*arguments, "--max-epochs", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "history.json").read_text())
    assert summary["epochs"] == 1 and summary["settings"]["max_epochs"] == 1 and summary["settings"]["lr"] == 0.02
    assert summary["settings"]["width"] == 32  # from the recipe, not the default 128
    assert main([*arguments, "--max-epochs", "1", "--out", str(out)]) == 2  # a second run needs --resume
    assert main([*arguments, "--max-epochs", "2", "--out", str(out), "--resume"]) == 2  # other settings
    assert main(["train", "gloss", "--recipe", str(recipe), "--set", "widht=3", "--out", str(corpus / "x")]) == 2
    assert main(["train", "gloss", "--max-epochs", "1"]) == 2  # neither --recipe nor --corpus
