"""Training recipes: JSON files in `configs/recipes/`, typed by dataclasses, overridable by `key=value`.

A recipe names the model (a `JointConfig`), the objective (cross-modal MoCo or SLAVA's
pairwise loss), one or more stages (SLAVA variant, epochs, which modalities' parts train),
the optimiser and the training data (see `bgtai.data.pairs.PairOptions`). `--set` paths are
dotted keys into the recipe, list items by index: `optim.lr=3e-4`, `stages.0.epochs=2`,
`data.sources=["sound_library","coco"]`; a value is read as JSON when it parses, else as a
string.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bgtai.align.pair_alignment import AlignmentConfig
from bgtai.encoders.base import MODALITIES
from bgtai.errors import BadInputError
from bgtai.model.config import JointConfig
from bgtai.strict_fields import require_known_fields

RECIPE_DIR = Path(__file__).resolve().parents[3] / "configs" / "recipes"


@dataclass
class ObjectiveConfig:
    kind: str = "moco"
    temperature: float = 0.07
    learn_scale: bool = True  # SLAVA: learned logit scale per pair (clamped to 100); MoCo is fixed
    queue_size: int = 9600
    momentum: float = 0.99
    in_batch_negatives: bool = True
    options: dict[str, Any] = field(default_factory=dict)  # a registered objective's own settings

    def __post_init__(self) -> None:
        from bgtai.train.objectives import OBJECTIVES  # the registry: a new objective registers there

        if self.kind not in OBJECTIVES:
            raise ValueError(f"objective kind must be one of {', '.join(OBJECTIVES)}, got {self.kind!r}")


@dataclass
class StageConfig:
    """One stage: its SLAVA variant (captions and loss terms), epochs, and the modalities whose parts train."""

    name: str = "main"
    variant: str = "av"  # a key of bgtai.losses.SLAVA_VARIANTS; MoCo uses its caption policy and pairs
    epochs: int = 10
    train: list[str] = field(default_factory=lambda: list(MODALITIES))
    freeze: list[str] = field(default_factory=list)  # parts of these modalities stay fixed even if shared


@dataclass
class OptimConfig:
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.05
    min_lr_ratio: float = 0.0
    batch_size: int = 128
    accumulate: int = 1
    grad_clip: float = 1.0  # 0 = no clipping
    val_fraction: float = 0.1


@dataclass
class Recipe:
    name: str
    description: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    stages: list[StageConfig] = field(default_factory=lambda: [StageConfig()])
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    alignment: AlignmentConfig = field(default_factory=AlignmentConfig)  # DS-Net selection, Result Filter term

    def __post_init__(self) -> None:
        if isinstance(self.objective, dict):
            self.objective = ObjectiveConfig(**self.objective)
        if isinstance(self.optim, dict):
            self.optim = OptimConfig(**self.optim)
        if isinstance(self.alignment, dict):
            self.alignment = AlignmentConfig(**self.alignment)
        self.stages = [StageConfig(**s) if isinstance(s, dict) else s for s in self.stages]
        if not self.stages:
            raise ValueError("a recipe needs at least one stage")
        from bgtai.losses import SLAVA_VARIANTS

        for stage in self.stages:
            if stage.variant not in SLAVA_VARIANTS:
                raise ValueError(
                    f"stage {stage.name!r}: unknown variant {stage.variant!r}; known: {', '.join(SLAVA_VARIANTS)}"
                )
        self.joint_config()  # fail early on a bad model section

    def joint_config(self) -> JointConfig:
        return JointConfig.from_dict(self.model)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        require_known_fields(cls, data, "recipe keys")
        return cls(**json.loads(json.dumps(data)))


def recipe_names(folder: Path = RECIPE_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.json"))


def recipe_path(name_or_path: str | Path, folder: Path = RECIPE_DIR, what: str = "recipe") -> Path:
    """The recipe file: a path to a JSON file, or the name of one in `folder`."""
    path = Path(name_or_path)
    if path.suffix == ".json" and path.is_file():
        return path
    candidate = folder / f"{name_or_path}.json"
    if candidate.is_file():
        return candidate
    known = ", ".join(recipe_names(folder)) or "(none)"
    raise BadInputError(str(name_or_path), f"no such {what}; known: {known}")


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(data: dict[str, Any], assignments: Sequence[str]) -> dict[str, Any]:
    """A copy of `data` with each `dotted.key=value` set (lists indexed by number)."""
    data = json.loads(json.dumps(data))
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise BadInputError(assignment, "expected key=value, e.g. optim.lr=3e-4")
        *parents, last = key.split(".")
        node: Any = data
        for part in parents:
            if isinstance(node, list):
                node = node[int(part)]
            else:
                node = node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = parse_value(value)
        else:
            node[last] = parse_value(value)
    return data


def load_recipe(name_or_path: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """The recipe called `name` in configs/recipes (or a JSON file), with `key=value` overrides applied."""
    path = recipe_path(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BadInputError(str(path), f"not a readable JSON recipe ({error})") from error
    try:
        return Recipe.from_dict(apply_overrides(data, overrides))
    except (TypeError, ValueError, IndexError) as error:
        raise BadInputError(str(path), f"bad recipe ({error})") from error


def recipe_kind(name_or_path: str | Path) -> str:
    """`grounded` for a recipe of the grounded model (`bgtai.train.grounded`), `joint` for every other."""
    path = recipe_path(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise BadInputError(str(path), f"not a readable JSON recipe ({error})") from error
    return str(data.get("kind", "joint")) if isinstance(data, dict) else "joint"


def load_grounded_recipe(name_or_path: str | Path, overrides: Sequence[str] = ()) -> Any:
    """A `GroundedRecipe` (recipe kind `grounded`), with `key=value` overrides applied."""
    from bgtai.train.grounded import GroundedRecipe

    path = recipe_path(name_or_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return GroundedRecipe.from_dict(apply_overrides(data, overrides))
    except (TypeError, ValueError, IndexError) as error:
        raise BadInputError(str(path), f"bad recipe ({error})") from error
