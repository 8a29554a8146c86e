"""Training the grounded joint model (`bgtai.model.grounded`) from a recipe of kind `grounded`.

The recipe, the pairs read as three tasks (audio-text, image-text, audio-image) and the loss are
in `bgtai.train.grounded_examples`. Every input is embedded once (frozen features and bridge
vectors, through the feature cache), so an epoch is a few matrix products: training takes
seconds to minutes on a CPU.

The designs with towers to train (`residual`, `concat`, ...) train on the shared loop as a
`GroundedTask` (`bgtai.train.grounded_task`): `OUT/best` is replaced whenever the validation
loss improves (the untrained towers count, so the best can be epoch 0), `OUT/checkpoint.pt` is
written every epoch, and `resume=True` (`bgtai train --recipe default --resume`) continues a
killed run to the same end. `ridge` is fitted in closed form, its regularisation chosen on
validation; `bridge` has nothing to fit; neither writes a checkpoint.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from bgtai.data.pairs import build_pairs, summarise
from bgtai.model.grounded import GroundedModel
from bgtai.train.checkpoint import prepare_run_folder
from bgtai.train.grounded_examples import (
    KIND,
    TASKS,
    TASKS_BY_NAME,
    Examples,
    GroundedRecipe,
    info_nce,
    task_examples,
)
from bgtai.train.grounded_task import BEST, STAGE, Embedded, GroundedTask, fit_towers, run_towers


@dataclass
class GroundedSummary:
    epochs: int
    best_epoch: int
    best_val_loss: float
    seconds: float
    history: list[dict[str, float]]


def train_grounded(
    recipe: GroundedRecipe,
    out: Path,
    progress: Callable[[str], None] = print,
    command: str = "",
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> GroundedSummary:
    """Train `recipe` into `out` (`out/best`); `resume` continues from `out/checkpoint.pt` after a kill."""
    from bgtai.train.joint import save_model_atomically

    out = Path(out)
    prepare_run_folder(out, resume, keep=(BEST,))  # before any work: a checkpoint there needs resume
    started = time.perf_counter()
    torch.manual_seed(recipe.seed)
    config = recipe.model_config()
    options = recipe.pair_options()
    pairs = build_pairs(options)
    inputs, examples = task_examples(pairs, recipe.val_fraction, recipe.seed)
    progress(f"{len(pairs)} pairs: " + ", ".join(f"{name} {len(e.left)}" for name, e in examples.items()))
    probe = GroundedModel(config)
    embedded: Embedded = {}
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
    provenance = {
        "recipe": {**asdict(recipe), "stages": [{"name": STAGE, "epochs": recipe.epochs}]},
        "command": command,
        "pairs": summarise(pairs),
        "examples": {
            n: {"train": int((~e.validation).sum()), "validation": int(e.validation.sum())} for n, e in examples.items()
        },
    }
    task = GroundedTask(model, embedded, text, active, recipe, progress, provenance=provenance, started=started)
    if config.design == "ridge":
        task.best_loss = fit_ridge(model, embedded, text, active, recipe.ridge_alphas, progress)
    elif config.design != "bridge":
        run_towers(task, out, resume, on_step)
        model.load_state_dict(task.best_state)
    # written again at the end, so training.json has the whole history and the whole run's seconds
    save_model_atomically(model.eval(), out / BEST, task.training_record())  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    progress(
        f"wrote {out / BEST} (design {config.design}, best epoch {task.best_epoch}, "
        f"validation loss {task.best_loss:.4f}, {seconds:.0f} s)"
    )
    return GroundedSummary(recipe.epochs, task.best_epoch, task.best_loss, seconds, task.history)


def fit_ridge(
    model: GroundedModel,
    embedded: Embedded,
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


__all__ = [
    "KIND",
    "TASKS",
    "TASKS_BY_NAME",
    "Examples",
    "GroundedRecipe",
    "GroundedSummary",
    "GroundedTask",
    "fit_ridge",
    "fit_towers",
    "info_nce",
    "task_examples",
    "train_grounded",
]
