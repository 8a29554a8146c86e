"""YAMNet on ESC-50 fold 4: speed of the float and int8 graphs, their agreement, and zero-shot tags.

One process. The front end (decode, resample to 16 kHz, log-mel patches) runs once and is
timed on its own; then both graphs run over the same patches, alternating chunk by chunk so a
shared, noisy machine slows them alike. Real-time factor = seconds of audio / seconds spent.

CPU seconds (process time, all threads) are printed beside wall time: on a shared, loaded
machine they say more about the cost than wall time does.

Agreement (int8 against float): cosine of the 1024-d embeddings per patch and per clip
(mean over patches), and whether the top-1 tag is the same (per clip, on mean-pooled scores).

`--zeroshot`: ESC-50 classification by label name, with no training: each ESC-50 class name
is matched to the AudioSet class whose display name is nearest in MiniLM's text space (the
project's text encoder; the mapping is printed), and a clip gets the ESC-50 class whose
AudioSet class scores highest, with the clip's scores pooled by mean or by max over patches.

    .venv/bin/python benchmarks/yamnet.py --threads 2 --zeroshot
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bgtai.config import require_data_root
from bgtai.encoders.yamnet import VARIANTS, YamnetEncoder, run_patches, sigmoid, yamnet_class_names
from bgtai.io.audio import resolve_audio_path

_CHUNK_CLIPS = 25  # clips per encode call (the order alternates between graphs per chunk)


def fold4(count: int) -> tuple[list[Path], list[str]]:
    root = require_data_root() / "esc50"
    with open(root / "meta" / "esc50.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["fold"] == "4"]
    rows.sort(key=lambda r: r["filename"])
    step = max(1, len(rows) // count)  # spread over the fold, not one class
    rows = rows[::step][:count]
    return [resolve_audio_path(root / "audio" / r["filename"]) for r in rows], [r["category"] for r in rows]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def label_map(categories: list[str]) -> dict[str, int]:
    """Each ESC-50 category -> the AudioSet class whose display name is nearest in MiniLM space."""
    from bgtai.embed import encode

    names = yamnet_class_names()
    queries = sorted(set(categories))
    q = encode("text", [c.replace("_", " ") for c in queries], encoder="minilm")
    k = encode("text", names, encoder="minilm")
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    k = k / np.linalg.norm(k, axis=1, keepdims=True)
    return {c: int(np.argmax(k @ v)) for c, v in zip(queries, q)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=400, help="ESC-50 fold-4 clips (spread over the fold)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--batch", type=int, default=64, help="patches per onnxruntime call")
    parser.add_argument("--zeroshot", action="store_true", help="also score zero-shot tags by label name")
    parser.add_argument(
        "--kernel-check",
        action="store_true",
        help="also compare the int8 graph's fused kernels (weights int8 as shipped, and uint8) with the graph run op by op",
    )
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    clips, categories = fold4(args.clips)
    encoder = YamnetEncoder(threads=args.threads)
    for variant in VARIANTS:  # warm-up: graph build (cached), session creation
        run_patches(encoder.prepare(clips[0]), variant, args.threads, args.batch)

    start, cpu = time.perf_counter(), time.process_time()
    patches = [encoder.prepare(c) for c in clips]
    front_s, front_cpu = time.perf_counter() - start, time.process_time() - cpu
    audio_s = sum(sf.info(str(c)).duration for c in clips)
    counts = [p.shape[0] for p in patches]

    model_s = dict.fromkeys(VARIANTS, 0.0)
    model_cpu = dict.fromkeys(VARIANTS, 0.0)
    outputs: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {v: [] for v in VARIANTS}
    for index, first in enumerate(range(0, len(clips), _CHUNK_CLIPS)):
        chunk = np.concatenate(patches[first : first + _CHUNK_CLIPS])
        order = list(VARIANTS) if index % 2 == 0 else list(reversed(VARIANTS))
        for variant in order:
            start, cpu = time.perf_counter(), time.process_time()
            outputs[variant].append(run_patches(chunk, variant, args.threads, args.batch))
            model_s[variant] += time.perf_counter() - start
            model_cpu[variant] += time.process_time() - cpu
    embeddings = {v: np.concatenate([o[0] for o in outputs[v]]) for v in VARIANTS}
    scores = {v: sigmoid(np.concatenate([o[1] for o in outputs[v]])) for v in VARIANTS}
    splits = np.cumsum(counts)[:-1]

    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])])
    print(f"Command: `{command}` (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print(
        f"ESC-50 fold 4: {len(clips)} clips, {audio_s:.0f} s of audio, {sum(counts)} patches; "
        f"front end (decode + 16 kHz resample + log-mel patches, numpy, 1 thread): {front_s:.2f} s "
        f"({audio_s / front_s:.0f}x real time), {front_cpu:.2f} CPU s; "
        f"1-minute load average before the run {load_before:.1f}, after {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| graph | model s | model x real time | model CPU s | end-to-end s | end-to-end x real time "
        "| end-to-end x real time per CPU second |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for v in VARIANTS:
        total, cpu_total = front_s + model_s[v], front_cpu + model_cpu[v]
        print(
            f"| {v} | {model_s[v]:.2f} | {audio_s / model_s[v]:.0f}x | {model_cpu[v]:.2f} | {total:.2f} "
            f"| {audio_s / total:.0f}x | {audio_s / cpu_total:.0f}x |"
        )

    patch_cos = cosines(embeddings["int8"], embeddings["float"])
    clip_emb = {v: np.stack([e.mean(0) for e in np.split(embeddings[v], splits)]) for v in VARIANTS}
    clip_cos = cosines(clip_emb["int8"], clip_emb["float"])
    clip_scores = {v: np.stack([s.mean(0) for s in np.split(scores[v], splits)]) for v in VARIANTS}
    top1_clip = np.mean(clip_scores["int8"].argmax(1) == clip_scores["float"].argmax(1))
    top1_patch = np.mean(scores["int8"].argmax(1) == scores["float"].argmax(1))
    print("\n| int8 vs float | min | 1st percentile | mean |")
    print("|---|---:|---:|---:|")
    print(
        f"| embedding cosine, per patch | {patch_cos.min():.4f} | {np.percentile(patch_cos, 1):.4f} | {patch_cos.mean():.4f} |"
    )
    print(
        f"| embedding cosine, per clip (mean-pooled) | {clip_cos.min():.4f} | {np.percentile(clip_cos, 1):.4f} | {clip_cos.mean():.4f} |"
    )
    print(f"\nTop-1 tag agreement: {top1_clip:.1%} of clips (mean-pooled scores), {top1_patch:.1%} of patches.")

    if args.zeroshot:
        names = yamnet_class_names()
        mapping = label_map(categories)
        classes = sorted(mapping)
        columns = [mapping[c] for c in classes]
        truth = np.array([classes.index(c) for c in categories])
        print("\nZero-shot by label name (ESC-50 class -> nearest AudioSet name in MiniLM space):")
        print("; ".join(f"{c} -> {names[mapping[c]]}" for c in classes))
        print("\n| graph | pooling | top-1 accuracy |")
        print("|---|---|---:|")
        for v in VARIANTS:
            per_clip = np.split(scores[v], splits)
            for pooling, pool in (("mean", np.mean), ("max", np.max)):
                pooled = np.stack([pool(s, axis=0) for s in per_clip])[:, columns]
                print(f"| {v} | {pooling} | {np.mean(pooled.argmax(1) == truth):.1%} |")
    if args.kernel_check:
        kernel_check(np.concatenate(patches[:100]), args.threads, args.batch)  # 100 clips: op by op is slow
    return 0


def kernel_check(patches: np.ndarray, threads: int, batch: int) -> None:
    """Embedding cosine of the int8 graph under onnxruntime's fused integer kernels vs op by op."""
    import onnxruntime as ort

    from bgtai.encoders.yamnet import build_model

    def run(model_bytes: bytes, optimise: bool) -> np.ndarray:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimise else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        )
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        out = [
            session.run(["embedding"], {"patches": patches[i : i + batch, None]})[0]
            for i in range(0, len(patches), batch)
        ]
        return np.concatenate(out)

    reference = run(build_model("int8").SerializeToString(), optimise=False)
    print(f"\nint8 graph on the first clips (at most 100), {len(patches)} patches:\n")
    print("| int8 graph, fused kernels vs op by op (embedding cosine per patch) | min | median | mean |")
    print("|---|---:|---:|---:|")
    for label, unsigned in (
        ("weights int8 as shipped (u8 x s8 kernels)", False),
        ("weights uint8 + 128 (u8 x u8 kernels; the encoder)", True),
    ):
        fused = run(build_model("int8", unsigned_weights=unsigned).SerializeToString(), optimise=True)
        cos = cosines(fused, reference)
        print(f"| {label} | {cos.min():.4f} | {np.median(cos):.4f} | {cos.mean():.4f} |")


if __name__ == "__main__":
    raise SystemExit(main())
