"""What a first `bgtai demo` costs, per encoder: an estimate without running the whole cold demo.

1. Counts the distinct inputs each encoder embeds in a cold run of the demo (`--full`: the figures
   as committed; without it, the quick default), and how many clips the bridges transcribe with
   Whisper (those YAMNet hears speech in, score >= the speech gate). The speech scores are read
   from the feature cache, so run this once the cache holds YAMNet's features for the datasets.
2. Times each encoder from an EMPTY cache (a temporary `BGTAI_CACHE`) on a sample of `--sample`
   items, one thread, the first item apart (it loads the model).
3. Prints items x CPU seconds per item for each encoder: an estimate, not a measurement of the
   demo. Add the CPU seconds of a fully cached run of the same demo for the total.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/demo_cost.py --full --sample 40
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import torch


def demo_inputs(full: bool) -> tuple[dict[str, set[str]], set[str]]:
    """(encoder -> distinct inputs, audio clips that go through the bridges) of a cold demo."""
    from bgtai import data
    from bgtai.cli.demo import DemoPlan, jobs
    from bgtai.cli.demo_joint import BASELINE_RECIPE, DEMO_RECIPE, RETRIEVAL_ROWS, recipe_overrides
    from bgtai.data.pairs import build_pairs
    from bgtai.data.splits import ids_in_test
    from bgtai.eval.datasets import load_classification_set, load_zeroshot_set
    from bgtai.eval.retrieval import builtin_pairs
    from bgtai.train.grounded import task_examples
    from bgtai.train.recipes import load_grounded_recipe

    plan = DemoPlan(full=full)
    sets: dict[str, set[str]] = {}

    def add(encoder: str, items: Any) -> None:
        sets.setdefault(encoder, set()).update(str(x) for x in items)

    for job in jobs(plan):
        if plan.skipped(job.needs) is None:
            add(job.encoder, job.inputs())
    audio_front: set[str] = set()
    for name in (DEMO_RECIPE, BASELINE_RECIPE):
        config = load_grounded_recipe(name, recipe_overrides(name, full)).model_config()
        audio_front.update(config.front_ends["audio"])
    recipe = load_grounded_recipe(DEMO_RECIPE, recipe_overrides(DEMO_RECIPE, full))
    inputs, _ = task_examples(build_pairs(recipe.pair_options()), recipe.val_fraction, recipe.seed)
    bridged = set(inputs["audio"])
    add("efficientnet-lite0", inputs["image"])
    add("minilm", inputs["text"])
    for name in ("esc50", "urbansound8k"):
        bridged.update(str(x) for x in load_zeroshot_set(name).inputs)
    for name in dict.fromkeys(n for n, _ in RETRIEVAL_ROWS):
        pairs = builtin_pairs(name, "test")
        for side in (pairs.a, pairs.b):
            if side.modality == "audio":
                bridged.update(str(x) for x in side.inputs)
            else:
                add("efficientnet-lite0" if side.modality == "image" else "minilm", side.inputs)
    stamps = list(data.load_tuxpaint())
    test = ids_in_test("tuxpaint", stamps)
    bridged.update(str(s.audio) for s in stamps if s.id in test and s.audio is not None)
    add("efficientnet-lite0", [s.image for s in stamps if s.id in test and s.image is not None])
    add("efficientnet-lite0", [c.image for c in data.load_coco(split="val") if c.image is not None])
    for encoder in audio_front:
        add(encoder, bridged)
    if full:  # the probe table's ESC-50 and UrbanSound8K features
        for name in ("esc50", "urbansound8k"):
            for encoder in ("yamnet", "aisfx"):
                add(encoder, load_classification_set(name).inputs)
    return sets, bridged if full else set()


def spoken(clips: set[str]) -> list[str]:
    """The clips the bridges transcribe: YAMNet's speech score at or above the gate (from the cache)."""
    from bgtai.bridges import BridgeSpace

    if not clips:
        return []
    space = BridgeSpace(progress=False)
    paths = sorted(clips)
    scores = space.speech_scores(space.class_scores("audio", paths))
    return [p for p, s in zip(paths, scores) if s >= space.speech_gate]


def seconds_per_item(name: str, items: list[str]) -> tuple[float, float]:
    """(load seconds, CPU seconds per item) of one encoder, or of transcription, from the current cache."""
    from bgtai import embed
    from bgtai.gloss.translator import transcribe

    modality = {"efficientnet-lite0": "image", "minilm": "text"}.get(name, "audio")

    def run(batch: list[str]) -> None:
        if name == "transcribe":
            transcribe(batch)
        else:
            embed.encode(modality, batch, encoder=name, progress=False)

    started = time.perf_counter()
    run(items[:1])
    load = time.perf_counter() - started
    cpu = time.process_time()
    run(items[1:])
    return load, (time.process_time() - cpu) / max(1, len(items) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the full demo (default: the quick one)")
    parser.add_argument("--sample", type=int, default=40, help="items timed per encoder (default 40)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets, bridged = demo_inputs(args.full)
    transcribed = spoken(bridged)
    counts = {name: len(items) for name, items in sets.items()}
    if transcribed:
        counts["transcribe"] = len(transcribed)
        from bgtai.config import require_data_root

        root = require_data_root()
        print("transcribed clips by dataset:", dict(Counter(Path(p).relative_to(root).parts[0] for p in transcribed)))
    generator = random.Random(0)
    with tempfile.TemporaryDirectory() as empty:
        os.environ["BGTAI_CACHE"] = empty  # every timed item is a cache miss
        rows, total = [], 0.0
        for name, count in sorted(counts.items()):
            pool = sorted(transcribed if name == "transcribe" else sets[name])
            load, per_item = seconds_per_item(name, generator.sample(pool, min(args.sample, len(pool))))
            rows.append((name, count, per_item, load, count * per_item))
            total += count * per_item
    print(
        f"\n{'full' if args.full else 'quick'} demo, cold: estimated CPU seconds per encoder (1 thread; "
        f"per-item cost from {args.sample} items on an empty cache)\n"
    )
    print(f"{'encoder':<22} {'items':>6} {'CPU s/item':>10} {'load s':>7} {'CPU s':>7}")
    for name, count, per_item, load, seconds in rows:
        print(f"{name:<22} {count:>6} {per_item:>10.3f} {load:>7.1f} {seconds:>7.0f}")
    print(f"{'total':<22} {'':>6} {'':>10} {'':>7} {total:>7.0f}  (plus the CPU seconds of a cached run)")


if __name__ == "__main__":
    main()
