"""The settings of a gloss training run, importable without torch (the CLI builds its options from them).

The defaults are the recipe measured on PHOENIX-2014T in 19 minutes of one core per model
(docs/DECISIONS.md, "Gloss"): a small transformer (width 128, 2 + 2 layers), dropout 0.2,
a cosine learning rate over 44 epochs and an average of the weights; ASLG adds
`target_vocab="bpe"`. `bgtai train gloss --members 2` trains two of them at once on 2 cores.
`model="tagger"` trains the ASLG edit tagger instead (`bgtai.train.tagger`), which reads
only the settings named there.

Gloss recipes are JSON files in `configs/gloss/` (`load_gloss_recipe`): an object of these
settings (any left out keep their defaults) and an optional "description"; an unknown key or a
value of the wrong type is an error naming the file. `key=value` overrides (`--set`) replace
single settings; a value is read as JSON when it parses, else as a string.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgtai.errors import BadInputError
from bgtai.strict_fields import require_known_fields
from bgtai.train.recipes import recipe_names, recipe_path

CORPORA = ("aslg", "phoenix")
SCHEDULES = ("inverse-sqrt", "cosine")
MODELS = ("langue2gloss", "tagger")  # the seq2seq transformer; the edit tagger over the rule glosser (ASLG)
SPELLING = {"phoenix": "gloss-de"}  # how a corpus's glosses spell the words of its sentences
GLOSS_RECIPE_DIR = Path(__file__).resolve().parents[3] / "configs" / "gloss"


@dataclass
class GlossTrainSettings:
    corpus: str = "phoenix"
    model: str = "langue2gloss"  # one of MODELS
    text_frontend: str = ""  # "" = the corpus default: learned German tokens for PHOENIX, MiniLM for ASLG
    source_vocab: str = "word"
    source_vocab_size: int = 3000
    shared_vocab: bool = False  # token front-ends: one vocabulary (source_vocab kind and size) and one embedding
    # table for sentence and gloss, the sentence spelt as the corpus's glosses are (SPELLING)
    target_vocab: str = "word"
    target_vocab_size: int = 2000
    width: int = 128
    encoder_layers: int = 2
    decoder_layers: int = 2
    heads: int = 4
    ffn: int = 256
    dropout: float = 0.2
    label_smoothing: float = 0.1
    token_dropout: float = 0.0  # token front-ends: chance that a training sentence's token is shown as <unk>
    lr: float = 2e-3
    warmup_steps: int = 100
    schedule: str = "cosine"  # after warm-up: "cosine" (to 0 at max_epochs; a run cut off by max_minutes stops
    # mid-schedule, so keep max_epochs to what fits) or "inverse-sqrt"
    weight_decay: float = 0.01
    batch_size: int = 64
    max_epochs: int = 44
    max_minutes: float = 19.0
    ema: float = 0.999  # > 0: validate and keep an exponential moving average of the weights (decay per step);
    # it forgets the first weights at ema**step, so 0.999 suits PHOENIX's ~4900 steps and shorter runs need less
    # (ASLG: 0.995), which the trainer warns about
    speech_train: int = 0
    seed: int = 0
    threads: int = 0  # 0: leave torch's setting alone

    def __post_init__(self) -> None:
        if self.corpus not in CORPORA:
            raise ValueError(f"corpus must be one of {', '.join(CORPORA)}, got {self.corpus!r}")
        if not 0.0 <= self.token_dropout < 1.0:
            raise ValueError(f"token_dropout must be in [0, 1), got {self.token_dropout}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")

    def resolved_text_frontend(self) -> str:
        if self.text_frontend:
            return self.text_frontend
        return "de-tokens" if self.corpus == "phoenix" else "minilm"


def gloss_recipe_names() -> list[str]:
    return recipe_names(GLOSS_RECIPE_DIR)


def gloss_recipe_path(name_or_path: str | Path) -> Path:
    """The recipe file: a path to a JSON file, or the name of one in configs/gloss."""
    return recipe_path(name_or_path, GLOSS_RECIPE_DIR, "gloss recipe")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """`values` checked against the fields' types (a whole number is taken for a float field)."""
    defaults = GlossTrainSettings()
    typed = {}
    for key, value in values.items():
        default = getattr(defaults, key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (isinstance(default, float) or isinstance(value, int))
            value = float(value) if ok and isinstance(default, float) else value
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ValueError(f"{key} must be a {type(default).__name__}, got {value!r}")
        typed[key] = value
    return typed


def settings_from_dict(values: dict[str, Any], overrides: Sequence[str] = ()) -> GlossTrainSettings:
    """Settings from `values` (a recipe's keys) with each `key=value` of `overrides` applied; ValueError when bad."""
    values = dict(values)
    for assignment in overrides:
        key, sep, text = assignment.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, e.g. lr=0.001, got {assignment!r}")
        values[key] = _parse_value(text)
    require_known_fields(GlossTrainSettings, values, "gloss settings")
    return GlossTrainSettings(**_typed(values))


def load_gloss_recipe(name_or_path: str | Path, overrides: Sequence[str] = ()) -> GlossTrainSettings:
    """The gloss recipe called `name` in configs/gloss (or a JSON file), with `key=value` overrides applied."""
    path = gloss_recipe_path(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BadInputError(str(path), f"not a readable JSON gloss recipe ({error})") from error
    if not isinstance(data, dict):
        raise BadInputError(str(path), "a gloss recipe is a JSON object of settings")
    if not isinstance(data.pop("description", ""), str):
        raise BadInputError(str(path), "description must be a string")
    try:
        return settings_from_dict(data, overrides)
    except (TypeError, ValueError) as error:
        raise BadInputError(str(path), f"bad gloss recipe ({error})") from error
