"""The joint-space table of the report: one row per trained model, the figures the papers compare.

Rows are the zero-shot and retrieval results of trained joint models (results whose details
name a `recipe`, written by `bgtai eval` for a model folder with `training.json`); columns are
fixed (each registered task's `joint_columns`, `bgtai.eval.tasks`), so recipes line up whatever order
their files were written in. The per-task tables of
the report still hold every result; this one only gathers them.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bgtai.eval.results import EvalRecord
from bgtai.eval.tasks import joint_columns


def __getattr__(name: str) -> object:
    """`COLUMNS`: (header, task, dataset key, metric) of each column, from the task registry (`joint_columns`)."""
    if name == "COLUMNS":
        return joint_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def recipe_of(record: EvalRecord) -> str | None:
    recipe = record.details.get("recipe") if isinstance(record.details, dict) else None
    return str(recipe) if recipe else None


def render_joint_summary(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> list[str]:
    """Markdown lines of the table (nothing when no result comes from a trained joint model)."""
    joint = [r for r in records if recipe_of(r) and r.task in ("zeroshot", "retrieval")]
    if not joint:
        return []
    columns = joint_columns()  # each task's columns (bgtai.eval.tasks): zero-shot per classification set, retrieval
    # runs trained without another test fold (cross-validation) only feed the stage comparison below
    default_split = [r for r in joint if test_fold_of(r) == 0]
    rows: dict[str, dict[tuple[str, str], EvalRecord]] = {}
    for record in default_split:
        rows.setdefault(record.model, {})[(record.task, record.dataset)] = record
    tux = [r.details.get("queries") for r in default_split if r.dataset == "tuxpaint-sound-image A->I"]
    small = (
        f" (Tux Paint sound->picture has {tux[0]} test queries: one hit moves R@1 by {1 / tux[0]:.3f})"
        if (tux and isinstance(tux[0], int) and tux[0] > 0)
        else ""
    )
    lines = [
        "## Joint space: one row per trained model (`zeroshot` and `retrieval`)",
        "",
        (
            f"Retrieval is scored on the test split of `bgtai.data.splits` (test fold 0), items training never "
            f"saw{small}. Every figure links to its JSON file, which names the evaluation and the training command; "
            "the per-task tables below hold the other metrics and directions."
        ),
        "",
        (
            "The split column says which test split a row's Tux Paint and Asterisk figures were scored on: "
            "`content-clean` (items sharing a sound, picture or caption grouped on one side) or `per-id (leaky)`, "
            "the first wave's rule, under which 8 of the 39 Tux Paint sound->picture test sounds and 66 test "
            "descriptions equalled a training item's: those rows' Tux Paint and Asterisk figures are inflated by "
            "the leak (their models were not kept, so they are not rescored). Zero-shot, COCO and FSDD figures "
            "did not depend on it (COCO and FSDD share no content across their official sides)."
        ),
        "",
        "| model | recipe | split | " + " | ".join(header for header, *_ in columns) + " |",
        "|" + "---|" * (len(columns) + 3),
    ]
    for model in sorted(rows):
        found = rows[model]
        recipe = next(recipe_of(r) for r in found.values())
        cells = [f"`{model}`", str(recipe), split_of(found.values())]
        for _, task, dataset, metric in columns:
            record = found.get((task, dataset))
            value = record.metrics.get(metric) if record is not None else None
            if record is None or value is None:
                cells.append("not run")
            elif isinstance(value, float) and math.isnan(value):
                cells.append("n/a")
            else:
                cells.append(f"[{value:.4f}]({link(record.path)})" if record.path is not None else f"{value:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""] + stage_comparison(joint)


def split_of(records: Iterable[EvalRecord]) -> str:
    """`content-clean` when the row's Tux Paint/Asterisk retrieval was scored on the content-grouped split."""
    hashed = [r for r in records if r.task == "retrieval" and r.dataset.split()[0].startswith(("tuxpaint", "asterisk"))]
    if not hashed:
        return "-"
    return "content-clean" if all("content-grouped" in r.protocol for r in hashed) else "per-id (leaky)"


AUDIO_VISUAL = ("tuxpaint-sound-image A->I", "tuxpaint-sound-image I->A")
BOOTSTRAP_SAMPLES = 2000
# parts of a training command that do not change what is compared: which recipe, where, which test fold
_RUN_OPTIONS = {"--recipe", "--out"}
_RUN_FLAGS = {"--no-progress", "--resume", "--snapshots"}


def test_fold_of(record: EvalRecord) -> int:
    fold = record.details.get("test_fold", 0) if isinstance(record.details, dict) else 0
    return fold if isinstance(fold, int) else 0


def training_setting(trained_by: str) -> str:
    """A training command less its recipe, output folder, test fold and progress flags: what runs share."""
    try:
        words = shlex.split(trained_by)
    except ValueError:
        return trained_by
    kept: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word in _RUN_OPTIONS:
            index += 2
            continue
        if word == "--set" and index + 1 < len(words) and words[index + 1].startswith("data.test_fold="):
            index += 2
            continue
        if word not in _RUN_FLAGS:
            kept.append(word)
        index += 1
    return shlex.join(kept)


def paired_bootstrap_interval(
    a: np.ndarray, b: np.ndarray, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of mean(a) - mean(b) over items resampled with replacement (a[i], b[i]: one item)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(a), size=(samples, len(a)))
    differences = a[index].mean(axis=1) - b[index].mean(axis=1)
    low, high = np.percentile(differences, [2.5, 97.5])
    return float(low), float(high)


@dataclass
class _Recipe:
    stages: int
    model: dict[int, str] = field(default_factory=dict)  # test fold -> model folder
    ranks: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)  # fold -> direction -> first ranks


def _recipes_by_setting(records: Sequence[EvalRecord]) -> dict[str, dict[str, _Recipe]]:
    found: dict[str, dict[str, _Recipe]] = {}
    for record in records:
        details = record.details if isinstance(record.details, dict) else {}
        count, ranks, trained_by = details.get("stages"), details.get("first_ranks"), details.get("trained_by", "")
        recipe = recipe_of(record)
        if record.dataset not in AUDIO_VISUAL or not isinstance(count, int) or not isinstance(ranks, list) or not ranks:
            continue
        entry = found.setdefault(training_setting(str(trained_by)), {}).setdefault(str(recipe), _Recipe(count))
        fold = test_fold_of(record)
        entry.model[fold] = record.model
        entry.ranks.setdefault(fold, {})[record.dataset] = np.asarray(ranks, dtype=np.float64)
    return found


def _complete_folds(recipe: _Recipe) -> set[int]:
    return {fold for fold, directions in recipe.ranks.items() if len(directions) == len(AUDIO_VISUAL)}


def stage_comparison(records: Sequence[EvalRecord]) -> list[str]:
    """SLAVA's claim, single stage beats two stage on audio->visual retrieval, checked on these results.

    Runs are grouped by training setting (the command less recipe, output folder and test fold), so
    only recipes trained alike are compared. In the setting with the most queries, every recipe
    scored on all of its Tux Paint test folds takes part; per query (both sound<->picture
    directions, pooled over the folds) the reciprocal rank is averaged over the single-stage recipes
    and over the two-stage ones (an average, not the best of each kind, so the kind with more
    recipes gets no selection advantage). A paired bootstrap over objects gives the 95 % interval
    of the MRR difference: "reproduced" above 0, "reversed" below, "not resolved" otherwise.
    Nothing is said when either kind is missing.
    """
    candidates = []
    for setting, recipes in _recipes_by_setting(records).items():
        folds_of = {name: folds for name, r in recipes.items() if (folds := _complete_folds(r))}
        for folds in {frozenset(f) for f in folds_of.values()}:  # each recipe's folds; the recipes covering them
            taking_part = [n for n in sorted(folds_of) if folds <= folds_of[n]]
            single = [n for n in taking_part if recipes[n].stages == 1]
            two = [n for n in taking_part if recipes[n].stages >= 2]
            if (
                not single
                or not two
                or any(
                    len({len(recipes[n].ranks[f][d]) for n in taking_part for d in AUDIO_VISUAL}) != 1 for f in folds
                )
            ):
                continue  # one kind missing, or different objects on a fold: not comparable object by object
            objects = sum(len(recipes[single[0]].ranks[f][AUDIO_VISUAL[0]]) for f in folds)
            candidates.append((objects, len(taking_part), setting, recipes, single, two, sorted(folds)))
    if not candidates:
        return []
    objects, _, setting, recipes, single, two, folds = max(candidates, key=lambda c: (c[0], c[1], c[2]))

    def reciprocal(name: str) -> np.ndarray:
        """Per object, the mean reciprocal rank of its sound->picture and picture->sound queries.

        The two queries of one object are not independent, so the bootstrap resamples objects."""
        return np.concatenate([np.mean([1.0 / recipes[name].ranks[f][d] for d in AUDIO_VISUAL], axis=0) for f in folds])

    def sound_to_picture_r10(name: str) -> float:
        ranks = np.concatenate([recipes[name].ranks[f][AUDIO_VISUAL[0]] for f in folds])
        return float(np.mean(ranks <= 10))

    a = np.mean([reciprocal(n) for n in single], axis=0)
    b = np.mean([reciprocal(n) for n in two], axis=0)
    low, high = paired_bootstrap_interval(a, b)
    verdict = "reproduced" if low > 0 else "reversed" if high < 0 else "not resolved"
    fold_words = f"test fold {folds[0]}" if len(folds) == 1 else f"test folds {', '.join(map(str, folds))} pooled"
    lines = [
        (
            f"**Single stage vs two stage (SLAVA's claim) on audio<->visual retrieval: {verdict} here.** Tux Paint "
            f"sound->picture and picture->sound, {fold_words} ({objects} objects, each scored by a model "
            f"that never saw it): mean MRR of the {len(single)} single-stage recipes {a.mean():.4f}, of the "
            f"{len(two)} two-stage recipes {b.mean():.4f}; difference {a.mean() - b.mean():+.4f}, 95 % "
            f"paired-bootstrap interval over objects [{low:+.4f}, {high:+.4f}]. Recipes trained by `{setting}`; every "
            f"recipe's runs:"
        ),
        "",
        "| recipe | stages | MRR (both directions) | sound->picture R@10 | models |",
        "|---|---|---|---|---|",
    ]
    for name in single + two:
        models = ", ".join(f"`{recipes[name].model[f]}`" for f in folds)
        lines.append(
            f"| {name} | {recipes[name].stages} | {reciprocal(name).mean():.4f} | "
            f"{sound_to_picture_r10(name):.4f} | {models} |"
        )
    galleries = "R@10 pools folds whose galleries differ in size; " if len(folds) > 1 else ""
    return lines + [
        "",
        (
            f"{galleries}SLAVA's own figures (AVCaps, audio->visual R@10: two stage 0.27, single stage 0.50-0.52) "
            "are on another data set."
        ),
        "",
    ]
