"""The joint-space stages of `bgtai demo`: train a recipe, score it, and answer a few cross-modal queries.

Training writes `runs/demo-RECIPE` (`--full`) or `runs/demo-RECIPE-quick` (the quick demo) and
resumes it when a run was cut off; a finished run is reused, so a second demo only evaluates.
The quick demo trains the same grounded recipes with `QUICK_OVERRIDES`: YAMNet features only
(aiSFX costs about four times YAMNet a clip) and no Whisper transcripts in the bridges (about 1 s a
spoken clip on one thread, and some 1,800 clips are spoken); its bridges column has no
transcripts either, so the columns stay comparable. The scores use the same test splits as
`bgtai eval retrieval` (items that training leaves out) and the zero-shot protocols of
`bgtai eval zeroshot`; the queries print what a person can judge by eye: the sounds and
pictures nearest to a sentence, and the Tux Paint pictures nearest to ESC-50 clips.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.cli import format_table

DEMO_RECIPE = "default"
BASELINE_RECIPE = "ridge-baseline"  # the same features and pairs, a closed-form linear map: what training must beat
DEMO_EPOCHS = 10  # for recipes of the first wave (MoCo, SLAVA); a grounded recipe keeps its own epochs
DONE_MARK = ".done"
RETRIEVAL_ROWS: tuple[tuple[str, str], ...] = (  # (pair set, direction as `direction_label` names it)
    ("tuxpaint-sound-image", "A->I"),
    ("tuxpaint-sound-image", "I->A"),
    ("tuxpaint-sound-text", "A->T"),
    ("coco-image-text", "T->I"),
    ("coco-image-text", "I->T"),
    ("fsdd-speech-text", "A->T"),
    ("asterisk-speech-text", "A->T"),
)
# what the quick demo changes in a grounded recipe (default and ridge-baseline alike); `--full` trains them as committed
QUICK_OVERRIDES: tuple[str, ...] = ('model.front_ends.audio=["yamnet"]', "model.bridges.speech=false")
QUERY_SENTENCES: tuple[str, ...] = ("a dog barking", "rain falling", "a bell ringing", "a car driving past")
QUERY_ESC50_CLASSES: tuple[str, ...] = ("dog", "rooster", "church_bells", "airplane")


def recipe_overrides(recipe_name: str, full: bool) -> list[str]:
    """The `key=value` settings the demo applies to a grounded recipe: none for `--full`, else the quick ones."""
    from bgtai.train.recipes import recipe_kind

    if full or recipe_kind(recipe_name) != "grounded":
        return []
    return [
        f"name={recipe_name}-quick",
        f"description=the quick demo's {recipe_name}: {', '.join(QUICK_OVERRIDES)}",
        *QUICK_OVERRIDES,
    ]


def run_folder(runs: Path, recipe_name: str, full: bool) -> Path:
    return runs / (f"demo-{recipe_name}" if full else f"demo-{recipe_name}-quick")


def train_demo_model(
    recipe_name: str = DEMO_RECIPE, epochs: int = DEMO_EPOCHS, runs: Path = Path("runs"), full: bool = True
) -> Path:
    """The best model folder of the demo run, training (or resuming) it when it is not finished."""
    from bgtai.train.recipes import load_recipe, recipe_kind

    out = run_folder(runs, recipe_name, full)
    best = out / "best"
    if (out / DONE_MARK).exists() and best.is_dir():
        print(f"using the finished run {out} (delete it to train again)", flush=True)
        return best
    started = time.perf_counter()
    if recipe_kind(recipe_name) == "grounded":
        from bgtai.eval.results import current_command
        from bgtai.train.grounded import train_grounded
        from bgtai.train.recipes import load_grounded_recipe

        recipe = load_grounded_recipe(recipe_name, recipe_overrides(recipe_name, full))
        summary = train_grounded(recipe, out, command=current_command(), resume=(out / "checkpoint.pt").exists())
        done, loss = f"best epoch {summary.best_epoch}", summary.best_val_loss
    else:
        from bgtai.train.joint import train

        recipe = load_recipe(
            recipe_name, [f"stages.{i}.epochs={epochs}" for i in range(len(load_recipe(recipe_name).stages))]
        )
        resume = (out / "checkpoint.pt").exists()
        joint = train(recipe, out, resume=resume, progress=True)
        done, loss = f"{len(joint.history)} epochs", joint.best_val
    (out / DONE_MARK).write_text(f"{done}\n", encoding="utf-8")
    print(
        f"trained {recipe_name} ({done}) in {time.perf_counter() - started:.0f} s "
        f"(best validation loss {loss:.4f}) -> {best}",
        flush=True,
    )
    return best


def joint_scores(model: Any) -> list[list[Any]]:
    """Rows (task, data, metric, value, chance) for the demo table."""
    from bgtai.eval.datasets import load_zeroshot_set
    from bgtai.eval.retrieval import builtin_pairs, direction_label, evaluate_pairs
    from bgtai.eval.zeroshot import zero_shot_classify

    rows: list[list[Any]] = []
    for dataset, name in (
        ("esc50", "ESC-50 fold 4 (50 classes)"),
        ("urbansound8k", "UrbanSound8K fold 10 (10 classes)"),
    ):
        data = load_zeroshot_set(dataset)
        labels = [str(label) for label in data.labels]
        result = zero_shot_classify(model, data.inputs, labels)
        rows.append(["zero-shot", name, "top-1", f"{result.metrics['top1']:.4f}", f"{1 / len(set(labels)):.4f}"])
    cache: dict[str, Any] = {}
    for name, wanted in RETRIEVAL_ROWS:
        if name not in cache:
            pairs = builtin_pairs(name, "test")
            cache[name] = (pairs, evaluate_pairs(model, pairs))
        pairs, results = cache[name]
        for direction, result in results.items():
            if direction != wanted:
                continue
            gallery = len(pairs.b.inputs) if direction == direction_label(pairs.a, pairs.b) else len(pairs.a.inputs)
            rows.append(
                [
                    "retrieval",
                    f"{name} {direction} ({result.scored} queries)",
                    "R@1 / R@10 / MRR",
                    f"{result.metrics['R@1']:.3f} / {result.metrics['R@10']:.3f} / {result.metrics['MRR']:.3f}",
                    f"R@1 {1 / gallery:.3f}",
                ]
            )
    return rows


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def cross_modal_queries(model: Any, top: int = 3) -> list[list[str]]:
    """Rows (query, modality searched, best matches) over unseen sounds (Tux Paint test stamps, ESC-50 fold 4)
    and pictures (Tux Paint test stamps, COCO val)."""
    from bgtai.data import load_coco, load_esc50, load_tuxpaint
    from bgtai.data.splits import ids_in_test

    every_stamp = list(load_tuxpaint())
    test = ids_in_test("tuxpaint", every_stamp)
    stamps = [s for s in every_stamp if s.id in test]
    sounds = [(s.audio, f"Tux Paint: {s.texts[0] if s.texts else s.id}") for s in stamps if s.audio is not None]
    # ESC-50 fold 4 is never trained on: 400 more unseen sounds, named by their class
    sounds += [(c.audio, f"ESC-50: {c.label}") for c in load_esc50() if int(c.fold) == 4 and c.audio is not None]
    pictures = [(s.image, f"Tux Paint: {s.texts[0] if s.texts else s.id}") for s in stamps if s.image is not None]
    pictures += [(c.image, f"COCO: {c.texts[0]}") for c in load_coco(split="val") if c.image is not None and c.texts]
    sound_vectors = _normalised(model.encode("audio", [path for path, _ in sounds]))
    picture_vectors = _normalised(model.encode("image", [path for path, _ in pictures]))
    rows = []

    def best(query: np.ndarray, vectors: np.ndarray, names: list[str]) -> str:
        order = np.argsort(-(vectors @ query))[:top]
        return "; ".join(f"{names[i][:60]} ({float(vectors[i] @ query):.2f})" for i in order)

    text_vectors = _normalised(model.encode("text", list(QUERY_SENTENCES)))
    for sentence, vector in zip(QUERY_SENTENCES, text_vectors):
        rows.append([f'"{sentence}"', "sounds", best(vector, sound_vectors, [n for _, n in sounds])])
        rows.append(["", "pictures", best(vector, picture_vectors, [n for _, n in pictures])])
    clips = {}
    for item in load_esc50():
        if int(item.fold) == 4 and str(item.label) in QUERY_ESC50_CLASSES and str(item.label) not in clips:
            clips[str(item.label)] = item.audio
    clip_names = [c for c in QUERY_ESC50_CLASSES if c in clips]
    clip_vectors = _normalised(model.encode("audio", [clips[c] for c in clip_names]))
    for label, vector in zip(clip_names, clip_vectors):
        rows.append(
            [
                f"ESC-50 clip '{label}' ({Path(clips[label]).stem})",
                "pictures",
                best(vector, picture_vectors, [n for _, n in pictures]),
            ]
        )
    return rows


def side_by_side(tables: dict[str, list[list[Any]]]) -> tuple[list[str], list[list[Any]]]:
    """One table from several models' `joint_scores` rows: a value column per model, then chance."""
    names = list(tables)
    first = tables[names[0]]
    rows = [row[:3] + [tables[name][i][3] for name in names] + [row[4]] for i, row in enumerate(first)]
    return ["task", "data", "metric", *names, "chance"], rows


def stage_joint(
    recipe_name: str = DEMO_RECIPE, epochs: int = DEMO_EPOCHS, full: bool = True, runs: Path = Path("runs")
) -> None:
    from bgtai.bridges import BridgeSpace
    from bgtai.model.joint import load_model

    print(
        f"\n== Joint space: train {recipe_name} and the ridge baseline on the real training pairs (ESC-50 held out)\n",
        flush=True,
    )
    if not full:
        print(
            f"quick demo: {recipe_name} and {BASELINE_RECIPE} with {' '.join(QUICK_OVERRIDES)} "
            "(YAMNet features only, no Whisper transcripts; the bridges column has none either); "
            "`bgtai demo --full` trains them as committed\n",
            flush=True,
        )
    model = load_model(train_demo_model(recipe_name, epochs, runs, full))
    ridge = load_model(train_demo_model(BASELINE_RECIPE, epochs, runs, full))
    bridges = BridgeSpace(speech=full)
    print("\n== Joint space: zero-shot classification and retrieval on items training never saw\n", flush=True)
    print(
        f"{recipe_name}: the trained model; bridges: label knowledge alone, no training; "
        f"{BASELINE_RECIPE}: a ridge map from the same frozen features, fitted on the same pairs.",
        flush=True,
    )
    if not full:
        print(
            "quick demo: no Whisper transcripts anywhere, so the speech rows (FSDD, Asterisk) rest on YAMNet "
            "features alone; `bgtai demo --full` for the full figures.",
            flush=True,
        )
    suffix = "" if full else "-quick"  # the table itself says which figures these are
    header, rows = side_by_side(
        {
            recipe_name + suffix: joint_scores(model),
            "bridges" if full else "bridges (no transcripts)": joint_scores(bridges),
            BASELINE_RECIPE + suffix: joint_scores(ridge),
        }
    )
    print()
    print(format_table(header, rows), flush=True)
    print("\n== Joint space: cross-modal queries (cosine similarity in brackets)\n", flush=True)
    print(format_table(["query", "searched", "best matches"], cross_modal_queries(model)), flush=True)
    print("\n== The same queries through the bridges alone (no training)\n", flush=True)
    print(format_table(["query", "searched", "best matches"], cross_modal_queries(bridges)), flush=True)
