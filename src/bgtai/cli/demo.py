"""`bgtai demo` (and `make demo`): the main job on the bundled real data, as tables.

Stages, each printed as it finishes:
1. the datasets found under the data root;
2. embedding them with the frozen encoders (features are cached: a second run is fast);
3. grouped nearest-neighbour accuracy of each audio encoder on ESC-50 fold 4 and UrbanSound8K;
4. the linear-probe table (the protocols of `bgtai eval probe`);
5. the joint space (`bgtai.cli.demo_joint`): train the default recipe (resumed or reused when a run
   exists), its zero-shot and retrieval table on unseen items, and cross-modal queries.
Whisper runs a full 30 s window per clip, so on a 2-core CPU it embeds about one short clip
per second: by default it sees the speech sets that are small and ESC-50 fold 4;
`--full` adds UrbanSound8K, FSDD and Asterisk for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bgtai.cli import format_table


@dataclass(frozen=True)
class EmbedJob:
    dataset: str
    what: str
    modality: str
    encoder: str
    inputs: Callable[[], list[Any]]
    full_only: bool = False


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="embed the bundled real datasets and print the results tables")
    parser.add_argument("--full", action="store_true", help="also run Whisper over UrbanSound8K, FSDD and Asterisk")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    parser.add_argument("--recipe", default=None, help="joint-space recipe the demo trains (default: default, the grounded model)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs a stage for the demo's training (default 10)")
    parser.add_argument("--no-train", action="store_true", help="skip the joint-space stages")
    parser.set_defaults(func=run)


def _jobs() -> list[EmbedJob]:
    from bgtai import data

    def audio_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [item.audio for item in load() if item.audio is not None]

    def images_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [item.image for item in load() if item.image is not None]

    def texts_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [text for item in load() for text in item.texts]

    tux = data.load_tuxpaint
    return [
        EmbedJob("esc50", "clips", "audio", "aisfx", audio_of(data.load_esc50)),
        EmbedJob("esc50", "clips", "audio", "yamnet", audio_of(data.load_esc50)),
        EmbedJob("esc50", "clips", "audio", "whisper-tiny-en", audio_of(lambda: data.load_esc50().filter(fold=4))),
        EmbedJob("urbansound8k", "clips", "audio", "aisfx", audio_of(data.load_urbansound8k)),
        EmbedJob("urbansound8k", "clips", "audio", "yamnet", audio_of(data.load_urbansound8k)),
        EmbedJob("urbansound8k", "clips", "audio", "whisper-tiny-en", audio_of(data.load_urbansound8k), full_only=True),
        EmbedJob("tuxpaint", "pictures", "image", "efficientnet-lite0", images_of(tux)),
        EmbedJob("tuxpaint", "descriptions", "text", "minilm", lambda: [i.texts[0] for i in tux() if i.texts]),
        EmbedJob("tuxpaint", "sound effects", "audio", "aisfx", audio_of(tux)),
        EmbedJob("tuxpaint", "spoken descriptions", "audio", "whisper-tiny-en",
                 lambda: [i.meta["speech"] for i in tux() if i.meta.get("speech")]),
        EmbedJob("coco_mini", "images", "image", "efficientnet-lite0", images_of(data.load_coco)),
        EmbedJob("coco_mini", "captions", "text", "minilm", texts_of(data.load_coco)),
        EmbedJob("clotho_sample", "clips", "audio", "aisfx", audio_of(lambda: data.load_clotho(require_audio=True))),
        EmbedJob("clotho_sample", "captions", "text", "minilm", texts_of(lambda: data.load_clotho(require_audio=True))),
        EmbedJob("fsdd", "utterances", "audio", "whisper-tiny-en", audio_of(data.load_fsdd), full_only=True),
        EmbedJob("asterisk_prompts", "utterances", "audio", "whisper-tiny-en", audio_of(data.load_asterisk), full_only=True),
        EmbedJob("asterisk_prompts", "transcripts", "text", "minilm", texts_of(data.load_asterisk)),
    ]


def _stage_datasets() -> None:
    from bgtai.config import require_data_root
    from bgtai.data.catalog import list_datasets

    root = require_data_root()
    print(f"\n== Datasets under {root}\n")
    rows = [[d.name, d.items, d.with_audio, d.with_image, d.with_text, d.note] for d in list_datasets(root) if d.present]
    print(format_table(["dataset", "items", "audio", "image", "text", "note"], rows), flush=True)


def _stage_embed(full: bool) -> None:
    from bgtai.embed import encode_with_report

    print("\n== Embedding with the frozen encoders (cached by content; a second run reads the cache)\n", flush=True)
    rows = []
    for job in _jobs():
        if job.full_only and not full:
            rows.append([job.dataset, job.what, job.encoder, "-", "-", "-", "skipped (--full)"])
            continue
        inputs = job.inputs()
        started = time.perf_counter()
        result = encode_with_report(job.modality, inputs, encoder=job.encoder, progress=True)
        seconds = time.perf_counter() - started
        bad = f"{len(result.bad)} bad" if result.bad else ""
        rows.append([job.dataset, job.what, job.encoder, len(inputs), f"{seconds:.1f}", result.from_cache, bad])
        print(f"  {job.dataset} {job.what} / {job.encoder}: {len(inputs)} in {seconds:.1f} s", flush=True)
    print()
    print(format_table(["dataset", "items", "encoder", "count", "seconds", "from cache", "note"], rows), flush=True)


def nearest_neighbour_rows(encoders: list[str], urbansound_encoders: set[str]) -> list[list[Any]]:
    """Grouped 1-NN accuracy per audio encoder: ESC-50 fold 4 by source, UrbanSound8K across folds."""
    import bgtai
    from bgtai import data
    from bgtai.eval.knn import nearest_neighbour_accuracy

    esc = data.load_esc50().filter(fold=4)
    us8k = data.load_urbansound8k()
    test_folds = np.array([item.fold in (1, 2, 10) for item in us8k])
    rows = []
    for encoder in encoders:
        esc_vectors = bgtai.encode("audio", [i.audio for i in esc], encoder=encoder, progress=False)
        esc_result = nearest_neighbour_accuracy(
            esc_vectors, np.array([i.label for i in esc]), np.array([i.group for i in esc])
        )
        row = [encoder, f"{esc_result.accuracy:.3f}"]
        if encoder in urbansound_encoders:
            us_vectors = bgtai.encode("audio", [i.audio for i in us8k], encoder=encoder, progress=False)
            us_result = nearest_neighbour_accuracy(
                us_vectors, np.array([i.label for i in us8k]), np.array([i.group for i in us8k]),
                folds=np.array([i.fold for i in us8k]), evaluate=test_folds,
            )
            row.append(f"{us_result.accuracy:.3f}")
        else:
            row.append("not embedded (run with --full)")
        rows.append(row)
    return rows


def _stage_nearest_neighbour(full: bool) -> None:
    print("\n== Grouped nearest-neighbour accuracy of the frozen audio encoders\n")
    print("ESC-50 fold 4: 400 clips, 50 classes, a clip's own source recording excluded (chance 0.020).")
    print("UrbanSound8K: queries from folds 1, 2, 10, neighbours only from other folds, fsID excluded (10 classes).\n")
    urbansound = {"aisfx", "yamnet", "whisper-tiny-en"} if full else {"aisfx", "yamnet"}
    rows = nearest_neighbour_rows(["aisfx", "yamnet", "whisper-tiny-en"], urbansound)
    print(format_table(["encoder", "ESC-50 fold 4", "UrbanSound8K folds 1/2/10"], rows), flush=True)


def _stage_probe(full: bool) -> None:
    """Linear probes (regularisation by inner grouped CV) on the frozen features, as in `bgtai eval probe`."""
    from bgtai.eval.datasets import load_classification_set
    from bgtai.eval.features import probe_features
    from bgtai.eval.probe import run_probe

    print("\n== Linear probe on frozen features (mean ± std over the protocol's folds)\n")
    print("ESC-50 fold 4: grouped 4-fold CV by src_file. UrbanSound8K: test folds 1, 2, 10 (fold 3 only trains).\n")
    plans = [("esc50", "aisfx"), ("esc50", "whisper-tiny-en"), ("esc50", "yamnet"), ("esc50", "yamnet+aisfx"),
             ("urbansound8k", "aisfx"), ("urbansound8k", "yamnet"), ("urbansound8k", "yamnet+aisfx")]
    if full:
        plans.append(("urbansound8k", "whisper-tiny-en"))
    rows = []
    for dataset, spec in plans:
        data = load_classification_set(dataset)
        started = time.perf_counter()
        features = probe_features(data.inputs, spec.split("+"), pooling="mean")
        result = run_probe(features, data.labels, data.splits(0), data.groups, "linear", 0)
        seconds = time.perf_counter() - started
        rows.append([dataset, data.protocol, spec, f"{result.mean:.4f} ± {result.std:.4f}", f"{seconds:.0f}"])
        print(f"  {dataset} / {spec}: {result.mean:.4f}", flush=True)
    print()
    print(format_table(["dataset", "protocol", "encoder(s)", "accuracy", "seconds"], rows), flush=True)


def run(args: argparse.Namespace) -> int:
    import torch

    torch.set_num_threads(max(1, args.threads))
    started = time.perf_counter()
    _stage_datasets()
    _stage_embed(args.full)
    _stage_nearest_neighbour(args.full)
    _stage_probe(args.full)
    if not args.no_train:
        from bgtai.cli.demo_joint import DEMO_EPOCHS, DEMO_RECIPE, stage_joint

        stage_joint(args.recipe or DEMO_RECIPE, args.epochs or DEMO_EPOCHS)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    from bgtai.cli.main import main as bgtai_main

    return bgtai_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
