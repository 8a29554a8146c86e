"""Gloss recipes (configs/gloss): the committed ones load, overrides apply, and a bad key or value is named."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from bgtai.errors import BadInputError
from bgtai.train.gloss_settings import GlossTrainSettings, gloss_recipe_names, load_gloss_recipe, settings_from_dict

CHECKOUT = Path(__file__).resolve().parents[1]


def test_the_committed_recipes_load_and_the_tagger_recipe_is_the_committed_tagger_s_settings() -> None:
    assert {"aslg", "aslg-tagger", "phoenix"} <= set(gloss_recipe_names())
    for name in gloss_recipe_names():
        assert isinstance(load_gloss_recipe(name), GlossTrainSettings)
    assert load_gloss_recipe("phoenix") == GlossTrainSettings(threads=1)  # the defaults are the PHOENIX recipe
    aslg = load_gloss_recipe("aslg")
    assert (aslg.corpus, aslg.target_vocab, aslg.max_epochs, aslg.ema) == ("aslg", "bpe", 40, 0.995)
    history = CHECKOUT / "runs" / "gloss-aslg-tagger" / "history.json"
    if history.is_file():  # the settings that made runs/gloss-aslg-tagger/best
        assert asdict(load_gloss_recipe("aslg-tagger")) == json.loads(history.read_text())["settings"]


def test_overrides_replace_single_settings_read_as_json() -> None:
    settings = load_gloss_recipe("aslg", ["max_epochs=3", "lr=1", "schedule=inverse-sqrt", "shared_vocab=false"])
    assert settings.max_epochs == 3 and settings.schedule == "inverse-sqrt" and settings.shared_vocab is False
    assert settings.lr == 1.0 and isinstance(settings.lr, float)  # a whole number is taken for a float
    assert settings.target_vocab == "bpe"  # the rest is the recipe's
    assert settings_from_dict({}, ["corpus=aslg"]) == GlossTrainSettings(corpus="aslg")


def test_a_path_loads_and_unknown_keys_or_bad_values_are_errors_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"description": "one change", "corpus": "aslg", "max_epochs": 2}))
    assert load_gloss_recipe(path) == GlossTrainSettings(corpus="aslg", max_epochs=2)
    path.write_text(json.dumps({"corpus": "aslg", "max_epoch": 2}))
    with pytest.raises(BadInputError, match=r"mine.json: bad gloss recipe \(unknown gloss settings \['max_epoch'\]"):
        load_gloss_recipe(path)
    path.write_text(json.dumps({"corpus": "aslg"}))
    with pytest.raises(BadInputError, match=r"mine.json: .*unknown gloss settings \['stages.0'\]"):
        load_gloss_recipe(path, ["stages.0=1"])
    with pytest.raises(BadInputError, match=r"mine.json: .*max_epochs must be a int, got 2.5"):
        load_gloss_recipe(path, ["max_epochs=2.5"])
    with pytest.raises(BadInputError, match=r"mine.json: .*shared_vocab must be a bool"):
        load_gloss_recipe(path, ["shared_vocab=1"])
    with pytest.raises(BadInputError, match=r"mine.json: .*schedule must be one of"):
        load_gloss_recipe(path, ["schedule=linear"])
    with pytest.raises(BadInputError, match=r"mine.json: .*expected key=value"):
        load_gloss_recipe(path, ["max_epochs"])
    path.write_text("[1, 2]")
    with pytest.raises(BadInputError, match="mine.json: a gloss recipe is a JSON object"):
        load_gloss_recipe(path)
    path.write_text("{")
    with pytest.raises(BadInputError, match="mine.json: not a readable JSON gloss recipe"):
        load_gloss_recipe(path)
    with pytest.raises(BadInputError, match="no such gloss recipe; known: .*aslg-tagger"):
        load_gloss_recipe("no-such-recipe")
