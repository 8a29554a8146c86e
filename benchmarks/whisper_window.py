"""Whisper's encoder on a full 30 s window per clip vs each clip at its own length (CPU).

Speed: both paths (`whisper-tiny-en` and `whisper-tiny-en-fast` by default) run in one
process on the same ESC-50 fold-4 clips (5 s each), interleaved batch by batch (the order
alternates), so a shared, noisy machine slows them alike. Audio is decoded and resampled once,
before timing: each timing covers the log-mel and the encoder (`encode_prepared`), the only
work that differs. Weights are loaded (and one batch run) before timing. Wall seconds and the
process's CPU seconds (all threads) are both reported: on a shared machine the CPU seconds say
more about the cost, the wall seconds what a user waits. The cosine compares
each clip's pooled vector (the mean over its frames) on the two paths.

Speech (`--fsdd`): spoken-digit retrieval from the pooled features alone, FSDD recordings
0-4 of each digit and speaker (the items `bgtai eval retrieval` holds out of training): each
utterance queries every other speaker's utterances by cosine; hit@1 (the nearest one says the
same digit, `bgtai.eval.knn`) and mean average precision (same digit = relevant). Features
come through `bgtai.encode`, so they are cached.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/whisper_window.py --clips 40 --threads 1 --batch 1 32
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/whisper_window.py --clips 0 --fsdd
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from esc50_sample import cosine, fold4_clips  # benchmarks/esc50_sample.py: a script's folder is on its path

from bgtai.encoders.registry import get_encoder

CLIP_SECONDS = 5.0


def speed(clips: list[Path], names: list[str], batch: int) -> tuple[dict[str, float], dict[str, float], list[float]]:
    """Wall and CPU seconds each encoder spent over all clips (batches of `batch`), and the per-clip
    cosines between the first two encoders' pooled vectors."""
    encoders = [get_encoder(name) for name in names]
    prepared = [encoders[0].prepare(path) for path in clips]  # both read 16 kHz mono the same way
    for encoder in encoders:
        encoder.encode_prepared(prepared[:batch])  # load weights, warm up
    seconds = dict.fromkeys(names, 0.0)
    cpu = dict.fromkeys(names, 0.0)
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for turn, start in enumerate(range(0, len(prepared), batch)):
        chunk = prepared[start : start + batch]
        order = list(zip(names, encoders))
        for name, encoder in order if turn % 2 == 0 else order[::-1]:
            began, began_cpu = time.perf_counter(), time.process_time()
            sequences = encoder.encode_prepared(chunk)
            seconds[name] += time.perf_counter() - began
            cpu[name] += time.process_time() - began_cpu
            pooled[name].extend(encoder.pool(s) for s in sequences)
    cosines = [cosine(a, b) for a, b in zip(pooled[names[0]], pooled[names[1]])] if len(names) > 1 else []
    for encoder in encoders:
        encoder.close()
    return seconds, cpu, cosines


def fsdd_retrieval(name: str) -> tuple[int, float, float]:
    """(utterances, hit@1, mAP) of speaker-independent spoken-digit retrieval on FSDD recordings 0-4."""
    import bgtai
    from bgtai.data import load_fsdd
    from bgtai.eval.knn import nearest_neighbour_accuracy

    items = [item for item in load_fsdd() if int(item.meta["index"]) <= 4]
    features = np.asarray(bgtai.encode("audio", [item.audio for item in items], encoder=name), dtype=np.float64)
    labels = np.array([item.label for item in items])
    speakers = np.array([item.group for item in items])
    hit1 = nearest_neighbour_accuracy(features, labels, speakers).accuracy
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    precisions = []
    for query in range(len(items)):
        others = np.flatnonzero(speakers != speakers[query])
        ranked = others[np.argsort(-(unit[others] @ unit[query]), kind="stable")]
        relevant = labels[ranked] == labels[query]
        hits = np.cumsum(relevant)
        precisions.append(float(np.sum(hits[relevant] / (np.flatnonzero(relevant) + 1)) / max(1, relevant.sum())))
    return len(items), hit1, float(np.mean(precisions))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=40, help="ESC-50 fold-4 clips to time (0: no timing)")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 compute threads (torch.set_num_threads)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32], help="clips per encoder call")
    parser.add_argument("--encoders", default="whisper-tiny-en,whisper-tiny-en-fast", help="30 s path first")
    parser.add_argument("--fsdd", action="store_true", help="also score FSDD spoken-digit retrieval (cached)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # the Whisper encoders give CTranslate2 this many threads
    names = [n.strip() for n in args.encoders.split(",") if n.strip()]
    print(f"Command: `{' '.join(shlex.quote(a) for a in ['python', *sys.argv])}` (CPU, {args.threads} thread(s))\n")
    if args.clips > 0:
        clips = fold4_clips(args.clips)
        print(
            f"ESC-50 fold 4, {len(clips)} clips of {CLIP_SECONDS:g} s; log-mel + encoder, audio decoded beforehand:\n"
        )
        print(
            "| encoder | clips per call | wall s | s per 5 s clip | real-time factor | vs 30 s path (wall) "
            "| CPU s per clip | vs 30 s path (CPU) | cosine (min / mean) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for batch in args.batch:
            seconds, cpu, cosines = speed(clips, names, batch)
            for name in names:
                per_clip = seconds[name] / len(clips)
                first = name == names[0]
                ratio = "1.0x" if first else f"{seconds[names[0]] / seconds[name]:.1f}x faster"
                cpu_ratio = "1.0x" if first else f"{cpu[names[0]] / cpu[name]:.1f}x less"
                agree = f"{min(cosines):.3f} / {np.mean(cosines):.3f}" if not first and cosines else ""
                print(
                    f"| {name} | {batch} | {seconds[name]:.2f} | {per_clip:.3f} | {CLIP_SECONDS / per_clip:.0f}x "
                    f"| {ratio} | {cpu[name] / len(clips):.3f} | {cpu_ratio} | {agree} |",
                    flush=True,
                )
    if args.fsdd:
        print("\nFSDD recordings 0-4 (speaker-independent spoken-digit retrieval, pooled features, cosine):\n")
        print("| encoder | utterances | hit@1 | mAP |")
        print("|---|---:|---:|---:|")
        for name in names:
            count, hit1, mean_ap = fsdd_retrieval(name)
            print(f"| {name} | {count} | {hit1:.3f} | {mean_ap:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
