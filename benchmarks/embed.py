"""Embedding throughput per encoder, and our aiSFX path against aiSFX's reference path.

Run:  .venv/bin/python benchmarks/embed.py [--threads 2] [--reference-clips 100] [--write BENCHMARKS.md]

Each encoder runs in a fresh subprocess (so its peak RSS is its own) with the feature cache
off: audio encoders on ESC-50 fold 4 (400 clips, 5 s each), the image encoder on COCO-mini
images, the text encoder on COCO-mini captions. The reference comparison runs in one
process on the same clips, one after the other: aiSFX's documented per-clip preprocessing
(librosa) with one model call per clip, then ours in batches; it reports both times, their
ratio and the cosine agreement of the two outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- embed-benchmark:start -->", "<!-- embed-benchmark:end -->"


def _set_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)


def _inputs_for(modality: str, limit: int | None = None) -> tuple[list, float | None, str]:
    """The benchmark inputs of one modality (the first `limit`), their audio seconds, and the data's name."""
    from bgtai.data import load_coco, load_esc50

    subset = "" if limit is None else f", first {limit}"
    if modality == "audio":
        items = [item for item in load_esc50() if item.fold == 4][:limit]
        import soundfile as sf

        seconds = sum(sf.info(str(item.audio)).duration for item in items)
        return [item.audio for item in items], seconds, f"ESC-50 fold 4 ({len(items)} clips{subset})"
    coco = [item for split in ("train", "val") for item in load_coco(split=split)]
    if modality == "image":
        images = [item.image for item in coco][:limit]
        return images, None, f"COCO-mini ({len(images)} images{subset})"
    captions = [text for item in coco for text in item.texts][:limit]
    return captions, None, f"COCO-mini ({len(captions)} captions{subset})"


def worker(encoder_name: str, threads: int, batch_size: int, limit: int | None) -> dict:
    _set_threads(threads)
    import bgtai
    from bgtai.encoders import get_encoder

    encoder = get_encoder(encoder_name)
    inputs, audio_seconds, data_name = _inputs_for(encoder.modality, limit)
    started = time.perf_counter()
    bgtai.encode(encoder.modality, inputs[:2], encoder=encoder_name, cache=False, progress=False)
    load_seconds = time.perf_counter() - started  # weights loading + first call
    started = time.perf_counter()
    vectors = bgtai.encode(
        encoder.modality, inputs, encoder=encoder_name, batch_size=batch_size, cache=False, progress=False
    )
    seconds = time.perf_counter() - started
    result = {
        "encoder": encoder_name,
        "data": data_name,
        "items": len(inputs),
        "dim": int(vectors.shape[1]),
        "seconds": seconds,
        "items_per_second": len(inputs) / seconds,
        "real_time_factor": (audio_seconds / seconds) if audio_seconds else None,
        "load_seconds": load_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": threads,
    }
    return result


def reference_worker(clips: int, threads: int, batch_size: int) -> dict:
    """aiSFX reference path (librosa per clip, one model call each) versus ours, same clips."""
    _set_threads(threads)
    import numpy as np

    import bgtai
    from bgtai.encoders.aisfx import reference_embed

    paths, _, data_name = _inputs_for("audio")
    paths = paths[:clips]
    reference_embed(paths[0])  # load weights outside the timing
    bgtai.encode("audio", paths[:1], encoder="aisfx", cache=False, progress=False)

    started = time.perf_counter()
    ours = bgtai.encode(
        "audio", paths, encoder="aisfx", batch_size=batch_size, cache=False, progress=False, normalize=False
    )
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = np.stack([reference_embed(path) for path in paths])
    reference_seconds = time.perf_counter() - started

    cosine = np.sum(ours * reference, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
    return {
        "data": f"{data_name}, first {len(paths)}",
        "clips": len(paths),
        "ours_seconds": ours_seconds,
        "reference_seconds": reference_seconds,
        "speedup": reference_seconds / ours_seconds,
        "cosine_min": float(cosine.min()),
        "cosine_mean": float(cosine.mean()),
        "threads": threads,
    }


def _run_child(args: list[str]) -> dict:
    completed = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=REPO)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _table(results: list[dict], reference: dict | None, command: str) -> str:
    lines = [
        f"Command: `{command}` (CPU, {results[0]['threads'] if results else '?'} threads, feature cache off, "
        f"one fresh process per encoder).",
        "",
        "| encoder | data | items | items/s | real-time factor | first call incl. weights (s) | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rtf = f"{r['real_time_factor']:.0f}x" if r["real_time_factor"] else "-"
        lines.append(
            f"| {r['encoder']} | {r['data']} | {r['items']} | {r['items_per_second']:.1f} | {rtf} | "
            f"{r['load_seconds']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    if reference:
        lines += [
            "",
            "aiSFX, reference path (librosa per clip, one model call per clip) vs ours (batched torch front-end, onnxruntime trunk), "
            f"same process, same clips ({reference['data']}):",
            "",
            "| path | seconds | speed-up | cosine (min / mean) |",
            "|---|---:|---:|---|",
            f"| reference | {reference['reference_seconds']:.2f} | 1.0x | |",
            f"| ours | {reference['ours_seconds']:.2f} | {reference['speedup']:.1f}x | "
            f"{reference['cosine_min']:.5f} / {reference['cosine_mean']:.5f} |",
        ]
    return "\n".join(lines)


def _write_section(path: Path, body: str) -> None:
    from bgtai.atomic import write_text

    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"{START}\n{body}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Embedding throughput\n\n" + section + "\n"
    write_text(path, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="aisfx,whisper-tiny-en,efficientnet-lite0,minilm")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--reference-clips", type=int, default=100, help="0 skips the aiSFX reference comparison")
    parser.add_argument(
        "--limit",
        default="",
        help="per-encoder item limits, e.g. whisper-tiny-en=100 (Whisper runs a 30 s window per clip)",
    )
    parser.add_argument("--write", type=Path, help="replace the embedding section of this Markdown file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--reference-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        limits = dict(part.split("=") for part in args.limit.split(",") if part)
        limit = int(limits[args.worker]) if args.worker in limits else None
        print(json.dumps(worker(args.worker, args.threads, args.batch_size, limit)))
        return 0
    if args.reference_worker:
        print(json.dumps(reference_worker(args.reference_clips, args.threads, args.batch_size)))
        return 0

    common = ["--threads", str(args.threads), "--batch-size", str(args.batch_size)]
    results = []
    for name in [n for n in args.encoders.split(",") if n]:
        print(f"benchmarking {name} ...", file=sys.stderr, flush=True)
        results.append(_run_child(["--worker", name, "--limit", args.limit, *common]))
    reference = None
    if args.reference_clips > 0:
        print("aiSFX reference path vs ours ...", file=sys.stderr, flush=True)
        reference = _run_child(["--reference-worker", "--reference-clips", str(args.reference_clips), *common])
    command = "python benchmarks/embed.py " + " ".join(sys.argv[1:])
    table = _table(results, reference, command.strip())
    print(table)
    if args.write:
        _write_section(args.write, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
