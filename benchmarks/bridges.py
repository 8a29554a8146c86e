"""What the concept bridges add to embedding time (goal: at most 25 %).

One process, a fresh feature cache in a temporary folder (`BGTAI_CACHE`), `--threads` torch and
onnxruntime threads. For the same ESC-50 fold 4 clips and COCO-mini pictures it times:
1. the frozen features a trained model needs anyway (`yamnet` for audio, `efficientnet-lite0`
   for pictures), computed from scratch;
2. the bridge vectors on top of them (`BridgeSpace(speech=False)`): the class heads read from
   those cached features and the concept mix. The label vectors are embedded once per cache
   before that and timed on their own (a one-off cost, not a per-item one).
The ratio (2) / (1) is what the bridges add. Speech transcripts are not counted: they cost a
Whisper run per spoken clip, and only clips YAMNet hears speech in are transcribed.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bridges.py --threads 2 --clips 200 --pictures 100
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--pictures", type=int, default=100)
    args = parser.parse_args()
    os.environ["BGTAI_CACHE"] = tempfile.mkdtemp(prefix="bgtai-bench-bridges-")
    import torch

    torch.set_num_threads(args.threads)
    from bgtai import embed
    from bgtai.bridges import BridgeSpace
    from bgtai.data import load_coco, load_esc50

    clips = [item.audio for item in load_esc50() if item.fold == 4][: args.clips]
    pictures = [item.image for item in load_coco() if item.image is not None][: args.pictures]
    from bgtai.bridges import label_vectors

    started = time.perf_counter()
    for vocabulary in ("audioset", "imagenet"):
        label_vectors(vocabulary)
    once = time.perf_counter() - started
    rows = []
    for modality, inputs, encoder in (("audio", clips, "yamnet"), ("image", pictures, "efficientnet-lite0")):
        started = time.perf_counter()
        embed.encode_sequence(modality, inputs, encoder=encoder, progress=False)
        features = time.perf_counter() - started
        started = time.perf_counter()
        BridgeSpace(speech=False, progress=False).encode(modality, inputs)
        bridges = time.perf_counter() - started
        rows.append((modality, len(inputs), encoder, features, bridges))
    print(f"threads {args.threads}; fresh cache {os.environ['BGTAI_CACHE']}")
    print(f"label vectors of both vocabularies, once per cache (MiniLM over every prompt): {once:.1f} s")
    print("| modality | items | features | features s | bridges s | bridges / features |")
    print("|---|---|---|---|---|---|")
    for modality, count, encoder, features, bridges in rows:
        print(f"| {modality} | {count} | {encoder} | {features:.1f} | {bridges:.1f} | {bridges / features:.1%} |")


if __name__ == "__main__":
    main()
