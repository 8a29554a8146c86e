"""The joint-space table of the report: one row per trained model, the figures the papers compare.

Rows are the zero-shot and retrieval results of trained joint models (results whose details
name a `recipe`, written by `bgtai eval` for a model folder with `training.json`); columns are
fixed, so recipes line up whatever order their files were written in. The per-task tables of
the report still hold every result; this one only gathers them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bgtai.eval.results import EvalRecord

# (header, task, dataset key, metric)
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("ESC-50 fold 4 zero-shot top-1", "zeroshot", "esc50", "top1"),
    ("UrbanSound8K fold 10 zero-shot top-1", "zeroshot", "urbansound8k-fold10", "top1"),
    ("Tux Paint sound->picture R@1", "retrieval", "tuxpaint-sound-image A->I", "R@1"),
    ("R@5", "retrieval", "tuxpaint-sound-image A->I", "R@5"),
    ("R@10", "retrieval", "tuxpaint-sound-image A->I", "R@10"),
    ("MRR", "retrieval", "tuxpaint-sound-image A->I", "MRR"),
    ("Tux Paint picture->sound MRR", "retrieval", "tuxpaint-sound-image I->A", "MRR"),
    ("COCO-mini text->image R@1", "retrieval", "coco-image-text T->I", "R@1"),
    ("R@5", "retrieval", "coco-image-text T->I", "R@5"),
    ("R@10", "retrieval", "coco-image-text T->I", "R@10"),
    ("COCO-mini image->text R@1", "retrieval", "coco-image-text I->T", "R@1"),
    ("COCO-mini gloss->image R@1", "retrieval", "coco-image-gloss T->I", "R@1"),
    ("R@10", "retrieval", "coco-image-gloss T->I", "R@10"),
    ("FSDD speech->transcript R@1", "retrieval", "fsdd-speech-text A->T", "R@1"),
    ("Asterisk speech->transcript R@1", "retrieval", "asterisk-speech-text A->T", "R@1"),
)


def recipe_of(record: EvalRecord) -> str | None:
    recipe = record.details.get("recipe") if isinstance(record.details, dict) else None
    return str(recipe) if recipe else None


def render_joint_summary(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> list[str]:
    """Markdown lines of the table (nothing when no result comes from a trained joint model)."""
    joint = [r for r in records if recipe_of(r) and r.task in ("zeroshot", "retrieval")]
    if not joint:
        return []
    rows: dict[str, dict[tuple[str, str], EvalRecord]] = {}
    for record in joint:
        rows.setdefault(record.model, {})[(record.task, record.dataset)] = record
    tux = [r.details.get("queries") for r in joint if r.dataset == "tuxpaint-sound-image A->I"]
    small = f" (Tux Paint sound->picture has {tux[0]} test queries: one hit moves R@1 by {1 / tux[0]:.3f})" if (
        tux and isinstance(tux[0], int) and tux[0] > 0) else ""
    lines = [
        "## Joint space: one row per trained model (`zeroshot` and `retrieval`)",
        "",
        (f"Retrieval is scored on the test split of `bgtai.data.splits`, items training never saw{small}. "
         "Every figure links to its JSON file, which names the evaluation and the training command; the per-task "
         "tables below hold the other metrics and directions."),
        "",
        "| model | recipe | " + " | ".join(header for header, *_ in COLUMNS) + " |",
        "|" + "---|" * (len(COLUMNS) + 2),
    ]
    for model in sorted(rows):
        found = rows[model]
        recipe = next(recipe_of(r) for r in found.values())
        cells = [f"`{model}`", str(recipe)]
        for _, task, dataset, metric in COLUMNS:
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


AUDIO_VISUAL = ("tuxpaint-sound-image A->I", "tuxpaint-sound-image I->A")
BOOTSTRAP_SAMPLES = 2000


def paired_bootstrap_interval(a: np.ndarray, b: np.ndarray, samples: int = BOOTSTRAP_SAMPLES,
                              seed: int = 0) -> tuple[float, float]:
    """95 % interval of mean(a) - mean(b) over queries resampled with replacement (a[i], b[i]: one query)."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(a), size=(samples, len(a)))
    differences = a[index].mean(axis=1) - b[index].mean(axis=1)
    low, high = np.percentile(differences, [2.5, 97.5])
    return float(low), float(high)


def stage_comparison(records: Sequence[EvalRecord]) -> list[str]:
    """SLAVA's claim, single stage beats two stage on audio->visual retrieval, checked on these results.

    The best single-stage and the best two-stage model (by MRR over both Tux Paint sound<->picture
    directions) are compared query by query: a paired bootstrap gives the 95 % interval of the MRR
    difference, and the claim is "reproduced" when the interval is above 0, "reversed" when below,
    "not resolved" otherwise. Nothing is said when either kind of model is missing.
    """
    reciprocal: dict[str, dict[str, np.ndarray]] = {}
    stages: dict[str, int] = {}
    for record in records:
        details = record.details if isinstance(record.details, dict) else {}
        count, ranks = details.get("stages"), details.get("first_ranks")
        if record.dataset in AUDIO_VISUAL and isinstance(count, int) and isinstance(ranks, list) and ranks:
            reciprocal.setdefault(record.model, {})[record.dataset] = 1.0 / np.asarray(ranks, dtype=np.float64)
            stages[record.model] = count
    pooled = {m: np.concatenate([v[d] for d in AUDIO_VISUAL]) for m, v in reciprocal.items() if len(v) == len(AUDIO_VISUAL)}
    single = {m: v for m, v in pooled.items() if stages[m] == 1}
    two = {m: v for m, v in pooled.items() if stages[m] >= 2}
    if not single or not two:
        return []
    best_single = max(single, key=lambda m: single[m].mean())
    best_two = max(two, key=lambda m: two[m].mean())
    a, b = single[best_single], two[best_two]
    if len(a) != len(b):
        return []  # different query sets: not comparable query by query
    low, high = paired_bootstrap_interval(a, b)
    verdict = "reproduced" if low > 0 else "reversed" if high < 0 else "not resolved"
    return [
        (f"**Single stage vs two stage (SLAVA's claim) on audio<->visual retrieval: {verdict} here.** MRR over "
         f"the Tux Paint sound->picture and picture->sound queries ({len(a)}): best single-stage model "
         f"`{best_single}` {a.mean():.4f}, best two-stage model `{best_two}` {b.mean():.4f}; difference "
         f"{a.mean() - b.mean():+.4f}, 95 % paired-bootstrap interval [{low:+.4f}, {high:+.4f}] "
         f"({len(single)} single-stage and {len(two)} two-stage models compared)."),
        "",
    ]
