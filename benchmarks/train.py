"""Training cost of each joint-space recipe: one step at batch 256, and whole runs on cached features.

    .venv/bin/python benchmarks/train.py --threads 1                      # step table, every recipe
    .venv/bin/python benchmarks/train.py --threads 1 --full --epochs 2    # + runs on the real pairs
    .venv/bin/python benchmarks/train.py --threads 1 --profile --recipes audioclip-1stage   # where a step's time goes

Step rows: the recipe's own trainer (`bgtai.train.joint.train`) runs one epoch over 1024
made-up trimodal pairs (every row has audio, a picture and a caption, so every loss term is
paid) with feature lengths like the real ones (caption 16 MiniLM tokens, sound 2 aiSFX
frames, picture 49 EfficientNet patches), batch 256: 4 steps a stage; the median step,
the first one left out, is reported.
Each recipe runs in its own process so its peak resident memory (`ru_maxrss`) is its own.

`--full` rows: the recipe on the real training pairs (`bgtai.data.pairs`, features already in
the cache), `--epochs` epochs, wall time (loading cached features included) and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 1024
BATCH = 256
LENGTHS = {"text": 16, "audio": 2, "image": 49}


def synthetic_data(recipe, seed: int = 0):  # -> TrainData
    import numpy as np

    from bgtai.train.joint import TrainData

    config = recipe.joint_config()
    rng = np.random.default_rng(seed)
    features = {
        modality: [
            rng.standard_normal((LENGTHS[modality], config.dim_of(modality))).astype(np.float32) for _ in range(ROWS)
        ]
        for modality in ("text", "audio", "image")
    }
    index = np.arange(ROWS, dtype=np.int64)
    rows = {"audio": index, "image": index, "text:av": index, "text:audio": index, "text:visual": index}
    return TrainData(features, rows, index.copy(), [f"g{i}" for i in range(ROWS)], ["synthetic"] * ROWS)


def measure_step(name: str) -> dict[str, float | str]:
    from bgtai.train.joint import train
    from bgtai.train.recipes import load_recipe

    stages = len(load_recipe(name).stages)  # every stage runs one epoch; the median step covers them all
    recipe = load_recipe(
        name,
        [
            f"optim.batch_size={BATCH}",
            "optim.val_fraction=0",
            "optim.accumulate=1",
            *[f"stages.{i}.epochs=1" for i in range(stages)],
        ],
    )
    times: list[float] = []
    last = [time.perf_counter()]

    def on_step(step: int) -> None:
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    with tempfile.TemporaryDirectory() as out:
        last[0] = time.perf_counter()
        train(recipe, Path(out) / "run", data=synthetic_data(recipe), progress=False, on_step=on_step)
    timed = times[1:] or times
    step = sorted(timed)[len(timed) // 2]
    return {"recipe": name, "step_s": step, "pairs_per_s": BATCH / step, "peak_mb": peak_mb()}


def measure_full(name: str, epochs: int) -> dict[str, float | str]:
    from bgtai.train.joint import train
    from bgtai.train.recipes import load_recipe

    recipe = load_recipe(name)
    overrides = [f"stages.{i}.epochs={epochs}" for i in range(len(recipe.stages))]
    recipe = load_recipe(name, overrides)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        summary = train(recipe, Path(out) / "run", progress=False)
    return {
        "recipe": name,
        "epochs": epochs * len(recipe.stages),
        "steps": summary.steps,
        "wall_s": time.perf_counter() - started,
        "peak_mb": peak_mb(),
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


PROFILE_ROWS = 8


def profile_step(name: str) -> dict[str, object]:
    """The step measurement under torch.profiler: the operators with the largest share of self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        measure_step(name)
    averages = [(event.key, event.self_cpu_time_total) for event in profiler.key_averages()]
    total = sum(time_us for _, time_us in averages) or 1.0
    top = sorted(averages, key=lambda pair: -pair[1])[:PROFILE_ROWS]
    return {"recipe": name, "top_ops": [[key, time_us / total] for key, time_us in top]}


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    if args.profile:
        result = profile_step(args.child)
    else:
        result = measure_full(args.child, args.epochs) if args.full else measure_step(args.child)
    print("RESULT " + json.dumps(result))


def run_child(name: str, args: argparse.Namespace, full: bool, profile: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", name, "--threads", str(args.threads), "--epochs", str(args.epochs)]
    if full:
        command.append("--full")
    if profile:
        command.append("--profile")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # failure reported below
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{name}: the benchmark process failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="*", help="default: every recipe in configs/recipes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (set on purpose)")
    parser.add_argument("--full", action="store_true", help="also train each recipe on the real pairs")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per stage for --full")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing: the operators taking most CPU time in the step measurement",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from bgtai.train.recipes import recipe_names

    names = args.recipes or recipe_names()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
        f"{ROWS} made-up trimodal pairs, batch {BATCH}"
    )
    if args.profile:
        print("\n| recipe | operator | share of self CPU time |\n|---|---|---|")
        for name in names:
            row = run_child(name, args, full=False, profile=True)
            for key, share in row["top_ops"]:
                print(f"| {name} | `{key}` | {share:.1%} |", flush=True)
        return
    print("\n| recipe | one step at batch 256 (s) | pairs/s | peak memory (MB) |\n|---|---|---|---|")
    for name in names:
        row = run_child(name, args, full=False)
        print(f"| {name} | {row['step_s']:.2f} | {row['pairs_per_s']:.0f} | {row['peak_mb']:.0f} |", flush=True)
    if args.full:
        print(
            "\n| recipe on the real pairs (cached features) | epochs | steps | wall (s) | peak memory (MB) |"
            "\n|---|---|---|---|---|"
        )
        for name in names:
            row = run_child(name, args, full=True)
            print(
                f"| {name} | {row['epochs']} | {row['steps']} | {row['wall_s']:.0f} | {row['peak_mb']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
