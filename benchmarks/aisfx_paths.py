"""Time aiSFX's reference path against the encoder's variants on ESC-50 fold-4 clips (CPU).

All variants run in one process, interleaved clip by clip (the order rotates per clip), so a
shared, noisy machine slows them alike. Each timing covers decoding the file through the clip
vector. Cosines are per clip against `reference_embed` (aiSFX's own librosa path).

    .venv/bin/python benchmarks/aisfx_paths.py --clips 100 --threads 1 2
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from esc50_sample import cosine, fold4_clips  # benchmarks/esc50_sample.py: a script's folder is on its path

from bgtai.encoders.aisfx import AisfxEncoder, onnxruntime_available, reference_embed

CLIP_SECONDS = 5.0


def variants(threads: int) -> dict[str, object]:
    out: dict[str, object] = {"reference (librosa + torch, per clip)": None}
    out["torch eager, batched front-end (old encoder)"] = AisfxEncoder("cpu", backend="torch", share_blocks=False)
    out["torch eager + shared blocks"] = AisfxEncoder("cpu", backend="torch", share_blocks=True)
    if onnxruntime_available():
        out["onnxruntime, per block"] = AisfxEncoder("cpu", backend="onnxruntime", share_blocks=False, threads=threads)
        out["onnxruntime + shared blocks"] = AisfxEncoder(
            "cpu", backend="onnxruntime", share_blocks=True, threads=threads
        )
    final = AisfxEncoder("cpu", threads=threads)  # the defaults
    out[f"final encoder (defaults: {final.backend}, share_blocks={final.share_blocks})"] = final
    return out


def run(clips: list[Path], threads: int) -> list[tuple]:
    torch.set_num_threads(threads)
    paths = variants(threads)
    names = list(paths)

    def embed(name: str, clip: Path) -> np.ndarray:
        encoder = paths[name]
        if encoder is None:
            return reference_embed(clip)
        return encoder.pool(encoder.encode_prepared([encoder.prepare(clip)])[0])

    for name in names:  # warm-up: model loads, ONNX export, session creation
        embed(name, clips[0])
    seconds = dict.fromkeys(names, 0.0)
    cosines: dict[str, list[float]] = {n: [] for n in names}
    for index, clip in enumerate(clips):
        order = names[index % len(names) :] + names[: index % len(names)]
        vectors = {}
        for name in order:
            start = time.perf_counter()
            vectors[name] = embed(name, clip)
            seconds[name] += time.perf_counter() - start
        for name in names:
            cosines[name].append(cosine(vectors[name], vectors[names[0]]))
    base = seconds[names[0]]
    audio = CLIP_SECONDS * len(clips)
    return [
        (
            threads,
            n,
            seconds[n],
            len(clips) / seconds[n],
            base / seconds[n],
            min(cosines[n]),
            float(np.mean(cosines[n])),
            seconds[n] / audio,
        )
        for n in names
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100, help="ESC-50 fold-4 clips (default 100)")
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="torch/onnxruntime thread counts",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    clips = fold4_clips(args.clips)
    print(f"`{' '.join(shlex.quote(a) for a in [sys.executable.split('/')[-1], *sys.argv])}`\n")
    print(f"{len(clips)} ESC-50 fold-4 clips (5 s, 44.1 kHz), torch {torch.__version__}, CPU, interleaved per clip\n")
    print(
        "| threads | path | seconds | clips/s | speed-up vs reference | cosine min | cosine mean | real-time factor |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for threads in args.threads:
        for t, name, sec, rate, speed, cmin, cmean, rtf in run(clips, threads):
            print(
                f"| {t} | {name} | {sec:.2f} | {rate:.2f} | {speed:.2f}x | {cmin:.5f} | {cmean:.5f} | {rtf:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
