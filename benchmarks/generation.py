"""Generator speed: seconds per sampled picture (DDIM, classifier-free guidance) and per training step.

One process, `--threads` torch threads, the default decoder architecture (`DecoderConfig`) at
each `--sizes` (speed does not depend on the weights, so a fresh decoder is timed; with
`--generator DIR` the trained one is timed at its own size). Sampling: `--pictures` pictures in
one batch, `--steps` DDIM steps, guidance on (two network passes a step). Training: `--train-steps`
steps of batch `--batch` after one warm-up step. Peak resident memory of the process is printed
at the end (it covers everything the process did). The goal of issue 16: <= 2 s a picture at
64 px with 25 steps on 2 cores; a useful model in <= 60 min of training.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/generation.py --threads 2 --sizes 32 64
"""

from __future__ import annotations

import argparse
import resource
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--pictures", type=int, default=8)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--generator", help="time this trained decoder's sampling too")
    args = parser.parse_args()
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from bgtai.generate.decoder import DecoderConfig, EmbeddingDecoder, load_decoder
    from bgtai.generate.sampling import sample
    from bgtai.train.generator import GeneratorSettings, GeneratorTask, TrainingData
    from bgtai.train.loop import LoopSettings, TrainingLoop

    rng = np.random.default_rng(0)
    rows = []
    decoders = [(f"fresh {size} px", EmbeddingDecoder(DecoderConfig(size=size)).eval()) for size in args.sizes]
    if args.generator:
        decoders.append((f"trained {args.generator}", load_decoder(args.generator)))
    for name, decoder in decoders:
        size, dim = decoder.config.size, decoder.config.condition_dim
        vectors = rng.standard_normal((args.pictures, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        started = time.perf_counter()
        sample(decoder, vectors, seed=0, steps=args.steps, guidance=3.0)
        per_picture = (time.perf_counter() - started) / args.pictures
        train_step = float("nan")
        if name.startswith("fresh"):
            settings = GeneratorSettings(size=size, batch_size=args.batch, steps=args.train_steps + 1)
            pixels = rng.uniform(-1, 1, (64, 3, size, size)).astype(np.float32)
            data = TrainingData(pixels, vectors[rng.integers(0, len(vectors), 64)], ["x"] * 64)
            task = GeneratorTask(settings, data, {})
            # the shared loop's own steps, timed from the end of the first (first-call allocations) to the last
            marks: list[float] = []
            loop = LoopSettings(select_on="", grad_clip=1.0, progress=False)
            TrainingLoop(
                task, loop, None, identity={}, on_step=lambda _, marks=marks: marks.append(time.perf_counter())
            ).run()
            started = marks[0]
            train_step = (marks[-1] - started) / args.train_steps
        params = sum(p.numel() for p in decoder.parameters()) / 1e6
        rows.append((name, size, params, per_picture, train_step))
    print(
        f"threads {args.threads}, DDIM steps {args.steps} with guidance, {args.pictures} pictures a batch, "
        f"training batch {args.batch}"
    )
    print("| decoder | size | parameters (M) | s per picture | s per training step | ratio to the first |")
    print("|---|---|---|---|---|---|")
    for name, size, params, per_picture, train_step in rows:
        print(
            f"| {name} | {size} | {params:.2f} | {per_picture:.3f} | {train_step:.2f} | "
            f"{per_picture / rows[0][3]:.2f}x |"
        )
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
