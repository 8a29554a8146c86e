"""Training the grounded joint model (`bgtai.model.grounded`) from a recipe of kind `grounded`.

The pairs are the joint-space pairs of `bgtai.data.pairs` (test items left out by content),
read as three tasks: audio-text (a clip and its caption), image-text (a picture and its
caption) and audio-image (a sound and a picture of the same thing or class). Every input is
embedded once (frozen features and bridge vectors, through the feature cache), so an epoch
is a few matrix products: training takes seconds to minutes on a CPU.

The loss is symmetric InfoNCE per task, against the locked text vectors for the text tasks
and between the two towers for audio-image; items with the same caption or label are not
each other's negatives. The validation split is by pair group; the weights with the best
validation loss are kept. `ridge` is fitted in closed form, its regularisation chosen on
validation; `bridge` has nothing to fit.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.data.pairs import Pair, PairOptions, build_pairs, summarise
from bgtai.model.grounded import GroundedConfig, GroundedModel
from bgtai.strict_fields import require_known_fields

KIND = "grounded"
TASKS: tuple[tuple[str, str, str], ...] = (
    ("audio-text", "audio", "text"),
    ("image-text", "image", "text"),
    ("audio-image", "audio", "image"),
)


@dataclass
class GroundedRecipe:
    name: str
    description: str = ""
    kind: str = KIND
    model: dict[str, Any] = field(default_factory=dict)  # GroundedConfig fields
    data: dict[str, Any] = field(default_factory=dict)  # PairOptions fields
    epochs: int = 40
    lr: float = 1e-3
    weight_decay: float = 0.05
    batch_size: int = 256
    temperature: float = 0.05
    val_fraction: float = 0.1
    task_weights: dict[str, float] = field(
        default_factory=lambda: {"audio-text": 1.0, "image-text": 1.0, "audio-image": 0.5}
    )
    ridge_alphas: list[float] = field(default_factory=lambda: [1.0, 10.0, 100.0, 1000.0, 10000.0])
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundedRecipe:
        require_known_fields(cls, data, "grounded recipe")
        recipe = cls(**json.loads(json.dumps(data)))
        if recipe.kind != KIND:
            raise ValueError(f"kind must be {KIND!r}, not {recipe.kind!r}")
        (
            recipe.model_config(),
            recipe.pair_options(),
        )  # unknown or bad model and data settings fail here, before any work
        return recipe

    def model_config(self) -> GroundedConfig:
        return GroundedConfig.from_dict(self.model)

    def pair_options(self) -> PairOptions:
        return PairOptions.from_dict(self.data)


@dataclass
class Examples:
    """One task's training examples as indices into the embedded inputs of each side."""

    left: np.ndarray
    right: np.ndarray
    right_keys: list[str]  # equal keys are not negatives (the same caption, the same label)
    validation: np.ndarray  # bool per example


@dataclass
class GroundedSummary:
    epochs: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    history: list[dict[str, float]]


def _is_validation(group: str, fraction: float, seed: int) -> bool:
    digest = hashlib.blake2b(f"val:{seed}:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction


def task_examples(
    pairs: list[Pair], val_fraction: float, seed: int
) -> tuple[dict[str, list[Any]], dict[str, Examples]]:
    """The distinct inputs of each modality (paths and caption texts) and each task's examples."""
    inputs: dict[str, dict[str, int]] = {"audio": {}, "image": {}, "text": {}}

    def index(modality: str, value: Any) -> int:
        return inputs[modality].setdefault(str(value), len(inputs[modality]))

    rows: dict[str, list[tuple[int, int, str, bool]]] = {name: [] for name, _, _ in TASKS}
    for pair in pairs:
        validation = _is_validation(pair.group, val_fraction, seed)
        audio_text = pair.audio_caption or pair.caption
        visual_text = pair.visual_caption or pair.caption
        if pair.audio is not None and audio_text:
            rows["audio-text"].append((index("audio", pair.audio), index("text", audio_text), audio_text, validation))
        if pair.image is not None and visual_text:
            rows["image-text"].append((index("image", pair.image), index("text", visual_text), visual_text, validation))
        if pair.audio is not None and pair.image is not None:
            key = pair.label or str(pair.image)
            rows["audio-image"].append((index("audio", pair.audio), index("image", pair.image), key, validation))
    examples = {
        name: Examples(
            np.array([r[0] for r in got], dtype=np.int64),
            np.array([r[1] for r in got], dtype=np.int64),
            [r[2] for r in got],
            np.array([r[3] for r in got], dtype=bool),
        )
        for name, got in rows.items()
        if got
    }
    return {m: list(values) for m, values in inputs.items()}, examples


def info_nce(left: Tensor, right: Tensor, keys: list[str], temperature: float) -> Tensor:
    """Symmetric InfoNCE; columns whose key equals the row's key (other than the diagonal) are masked out."""
    logits = left @ right.T / temperature
    ids: dict[str, int] = {}
    key_ids = torch.tensor([ids.setdefault(k, len(ids)) for k in keys])
    same = (key_ids[:, None] == key_ids[None, :]) & ~torch.eye(len(keys), dtype=torch.bool)
    logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(len(keys))
    return 0.5 * (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target))


def train_grounded(
    recipe: GroundedRecipe,
    out: Path,
    progress: Callable[[str], None] = print,
    command: str = "",
) -> GroundedSummary:
    from bgtai.train.joint import save_model_atomically, warmup_cosine

    started = time.perf_counter()
    torch.manual_seed(recipe.seed)
    config = recipe.model_config()
    options = recipe.pair_options()
    pairs = build_pairs(options)
    inputs, examples = task_examples(pairs, recipe.val_fraction, recipe.seed)
    progress(f"{len(pairs)} pairs: " + ", ".join(f"{name} {len(e.left)}" for name, e in examples.items()))
    probe = GroundedModel(config)
    embedded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality in ("audio", "image"):
        if inputs[modality] and modality in config.front_ends:
            progress(f"embedding {len(inputs[modality])} {modality} inputs (frozen features and bridges, cached)")
            embedded[modality] = probe.tower_inputs(modality, inputs[modality], progress=True)
    text = probe.bridge_space().encode("text", inputs["text"]) if inputs["text"] else np.zeros((0, 384), np.float32)
    config.feature_dims = {m: int(features.shape[1]) for m, (features, _) in embedded.items()}
    model = GroundedModel(config)
    for modality, (features, _) in embedded.items():
        model.towers[modality].set_standardisation(features)
    active = {n: e for n, e in examples.items() if all(m == "text" or m in embedded for m in TASKS_BY_NAME[n][1:])}
    history: list[dict[str, float]] = []
    best_epoch, best_loss = 0, math.inf
    if config.design == "ridge":
        best_loss = fit_ridge(model, embedded, text, active, recipe.ridge_alphas, progress)
    elif config.design != "bridge":
        best_state, best_epoch, best_loss, history = fit_towers(
            model, embedded, text, active, recipe, progress, warmup_cosine
        )
        model.load_state_dict(best_state)
    provenance = {
        "recipe": {**asdict(recipe), "stages": [{"name": "main", "epochs": recipe.epochs}]},
        "command": command,
        "pairs": summarise(pairs),
        "examples": {
            n: {"train": int((~e.validation).sum()), "validation": int(e.validation.sum())} for n, e in examples.items()
        },
        "best_epoch": best_epoch,
        "best_val_loss": best_loss,
        "history": history,
        "seconds": round(time.perf_counter() - started, 1),  # pairs, features (cached or not) and fitting
    }
    save_model_atomically(model.eval(), out / "best", provenance)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    progress(
        f"wrote {out / 'best'} (design {config.design}, best epoch {best_epoch}, validation loss {best_loss:.4f}, {seconds:.0f} s)"
    )
    return GroundedSummary(recipe.epochs, best_epoch, best_loss, seconds, history)


TASKS_BY_NAME = {name: (name, left, right) for name, left, right in TASKS}


def _side(
    model: GroundedModel,
    embedded: dict[str, tuple[np.ndarray, np.ndarray]],
    text: np.ndarray,
    modality: str,
    rows: np.ndarray,
) -> Tensor:
    if modality == "text":
        return torch.from_numpy(text[rows])
    features, bridges = embedded[modality]
    return model.towers[modality](torch.from_numpy(features[rows]), torch.from_numpy(bridges[rows]))


def _task_loss(
    model: GroundedModel,
    embedded: dict[str, tuple[np.ndarray, np.ndarray]],
    text: np.ndarray,
    name: str,
    examples: Examples,
    rows: np.ndarray,
    temperature: float,
) -> Tensor:
    _, left, right = TASKS_BY_NAME[name]
    return info_nce(
        _side(model, embedded, text, left, examples.left[rows]),
        _side(model, embedded, text, right, examples.right[rows]),
        [examples.right_keys[i] for i in rows],
        temperature,
    )


def _validation_loss(
    model: GroundedModel,
    embedded: dict[str, tuple[np.ndarray, np.ndarray]],
    text: np.ndarray,
    examples: dict[str, Examples],
    recipe: GroundedRecipe,
) -> float:
    """Weighted mean InfoNCE over fixed validation batches of each task (eval mode, no dropout)."""
    model.eval()
    total, weight = 0.0, 0.0
    with torch.no_grad():
        for name, task in examples.items():
            rows = np.flatnonzero(task.validation)
            for start in range(0, len(rows), recipe.batch_size):
                batch = rows[start : start + recipe.batch_size]
                if len(batch) < 2:
                    continue
                w = recipe.task_weights.get(name, 1.0) * len(batch)
                total += w * float(_task_loss(model, embedded, text, name, task, batch, recipe.temperature))
                weight += w
    model.train()
    return total / weight if weight else math.inf


def fit_towers(
    model: GroundedModel,
    embedded: dict[str, tuple[np.ndarray, np.ndarray]],
    text: np.ndarray,
    examples: dict[str, Examples],
    recipe: GroundedRecipe,
    progress: Callable[[str], None],
    schedule: Callable[..., float],
) -> tuple[dict[str, Tensor], int, float, list[dict[str, float]]]:
    generator = np.random.default_rng(recipe.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps_per_epoch = sum(max(1, math.ceil((~e.validation).sum() / recipe.batch_size)) for e in examples.values())
    total = steps_per_epoch * recipe.epochs
    best_loss = _validation_loss(model, embedded, text, examples, recipe)
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    best_epoch, step = 0, 0
    history = [{"epoch": 0, "val_loss": best_loss}]
    model.train()
    for epoch in range(1, recipe.epochs + 1):
        batches = []
        for name, task in examples.items():
            rows = generator.permutation(np.flatnonzero(~task.validation))
            batches += [(name, rows[s : s + recipe.batch_size]) for s in range(0, len(rows), recipe.batch_size)]
        order = generator.permutation(len(batches))
        epoch_loss = 0.0
        for index in order:
            name, rows = batches[index]
            if len(rows) < 2:
                continue
            for group in optimiser.param_groups:
                group["lr"] = recipe.lr * schedule(step, steps_per_epoch, total)
            loss = recipe.task_weights.get(name, 1.0) * _task_loss(
                model, embedded, text, name, examples[name], rows, recipe.temperature
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            epoch_loss += loss.item() / len(batches)
            step += 1
        val_loss = _validation_loss(model, embedded, text, examples, recipe)
        history.append({"epoch": epoch, "train_loss": epoch_loss, "val_loss": val_loss})
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if epoch == 1 or epoch % 5 == 0 or epoch == recipe.epochs:
            progress(
                f"epoch {epoch}/{recipe.epochs}: train {epoch_loss:.4f}, validation {val_loss:.4f} "
                f"(best {best_loss:.4f} at {best_epoch})"
            )
    return best_state, best_epoch, best_loss, history


def fit_ridge(
    model: GroundedModel,
    embedded: dict[str, tuple[np.ndarray, np.ndarray]],
    text: np.ndarray,
    examples: dict[str, Examples],
    alphas: list[float],
    progress: Callable[[str], None],
) -> float:
    """Each tower's ridge map from standardised features to its caption vectors; alpha by validation cosine."""
    from sklearn.linear_model import Ridge

    losses = []
    for modality in embedded:
        name = f"{modality}-text"
        if name not in examples:
            continue
        task = examples[name]
        tower = model.towers[modality]
        features = embedded[modality][0][task.left]
        x = (features - tower.mean.numpy()) * tower.scale.numpy()
        y = text[task.right]
        train, val = ~task.validation, task.validation
        best: tuple[float, float] = (math.inf, alphas[0])
        for alpha in alphas:
            fitted = Ridge(alpha=alpha).fit(x[train], y[train])
            predicted = fitted.predict(x[val])
            predicted /= np.maximum(np.linalg.norm(predicted, axis=1, keepdims=True), 1e-12)
            loss = float(1.0 - (predicted * y[val]).sum(axis=1).mean()) if val.any() else 0.0
            best = min(best, (loss, alpha))
        fitted = Ridge(alpha=best[1]).fit(x, y)
        with torch.no_grad():
            tower.linear.weight.copy_(torch.from_numpy(fitted.coef_).float())
            tower.linear.bias.copy_(torch.from_numpy(np.asarray(fitted.intercept_)).float())
        progress(f"ridge {modality}: alpha {best[1]:g} (validation 1 - cosine {best[0]:.4f})")
        losses.append(best[0])
    return float(np.mean(losses)) if losses else math.inf
