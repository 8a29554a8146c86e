"""`bgtai demo` (and `make demo`): the main job on the bundled real data, as tables.

Stages, each printed as it finishes:
1. the datasets found under the data root;
2. embedding them with the frozen encoders (features are cached: a second run is fast);
3. grouped nearest-neighbour accuracy of each audio encoder on ESC-50 fold 4 and UrbanSound8K;
4. the linear-probe table (the protocols of `bgtai eval probe`);
5. the joint space (`bgtai.cli.demo_joint`): train a recipe and the ridge baseline (reused when
   a finished run exists), their zero-shot and retrieval table on unseen items beside the bridges
   and chance, and cross-modal queries.

Two sizes, so that a first run on a fresh 2-core machine ends in minutes (issue 19):
- quick (the default): the cheap encoders where the full demo spends its time. Whisper runs on
  length-bucketed windows (`whisper-tiny-en-fast`, about 10x faster than the 30 s window);
  aiSFX embeds ESC-50 and Tux Paint but not UrbanSound8K; the probe whose regularisation
  search is slow to converge (YAMNet on ESC-50) is left out; the joint space trains the same
  recipes with YAMNet features only and no Whisper transcripts (`demo_joint.QUICK_OVERRIDES`).
  Every skipped row is printed and says so.
- `--full`: the figures as committed (the 30 s Whisper path, aiSFX everywhere, recipe `default`
  with transcripts); `--whisper-all` adds Whisper over UrbanSound8K, FSDD and Asterisk.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.cli import format_table

FULL_WHISPER = "whisper-tiny-en"  # a full 30 s window per clip: about 1 s a clip on one CPU thread
QUICK_WHISPER = "whisper-tiny-en-fast"  # the shortest of a few fixed windows that holds the clip
# what a job, table row or probe needs beyond the quick demo: "" (nothing), "full" or "whisper-all"
NEEDS = ("", "full", "whisper-all")


@dataclass(frozen=True)
class DemoPlan:
    """What one run of the demo embeds, scores and trains."""

    full: bool = False
    whisper_all: bool = False

    def __post_init__(self) -> None:
        if self.whisper_all and not self.full:
            raise ValueError("--whisper-all adds to the full demo: give it with --full")

    @property
    def whisper(self) -> str:
        return FULL_WHISPER if self.full else QUICK_WHISPER

    def skipped(self, needs: str) -> str | None:
        """Why something that needs `needs` is not run in this plan (None: it runs)."""
        if needs not in NEEDS:
            raise ValueError(f"needs must be one of {NEEDS}, not {needs!r}")
        if needs == "full" and not self.full:
            return "quick demo: bgtai demo --full"
        if needs == "whisper-all" and not self.whisper_all:
            return "bgtai demo --full --whisper-all"
        return None

    def banner(self) -> str:
        if self.full:
            extra = " plus Whisper over UrbanSound8K, FSDD and Asterisk" if self.whisper_all else ""
            return f"full demo: the figures as committed{extra}"
        return (
            f"quick demo: Whisper as {QUICK_WHISPER} (bucketed windows), aiSFX not over UrbanSound8K, "
            "no YAMNet probe on ESC-50, joint space on YAMNet features without Whisper transcripts; "
            "`bgtai demo --full` for the full figures"
        )


@dataclass(frozen=True)
class EmbedJob:
    dataset: str
    what: str
    modality: str
    encoder: str
    inputs: Callable[[], list[Any]]
    needs: str = ""


# (dataset, encoder(s), needs) of the probe table, in its order
PROBES: tuple[tuple[str, str, str], ...] = (
    ("esc50", "aisfx", ""),
    ("esc50", "whisper", ""),
    ("esc50", "yamnet", "full"),  # its C search converges slowly: about 3 minutes on one thread
    ("esc50", "yamnet+aisfx", ""),
    ("urbansound8k", "aisfx", "full"),
    ("urbansound8k", "yamnet", ""),
    ("urbansound8k", "yamnet+aisfx", "full"),
    ("urbansound8k", FULL_WHISPER, "whisper-all"),  # only with --full, where Whisper is the 30 s path
)
# which audio encoders embed all of UrbanSound8K (the neighbour table's second column)
URBANSOUND_NEEDS: dict[str, str] = {"aisfx": "full", "yamnet": "", "whisper": "whisper-all"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="embed the bundled real datasets and print the results tables")
    parser.add_argument(
        "--full",
        action="store_true",
        help="the long version, the figures as committed (the quick default skips its slow parts)",
    )
    parser.add_argument(
        "--whisper-all", action="store_true", help="with --full: also run Whisper over UrbanSound8K, FSDD and Asterisk"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    parser.add_argument(
        "--recipe", default=None, help="joint-space recipe the demo trains (default: default, the grounded model)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="epochs a stage for the demo's training (default 10)")
    parser.add_argument(
        "--runs",
        type=Path,
        default=Path("runs"),
        help="where the demo's trained models are written and reused from (default: runs)",
    )
    parser.add_argument("--no-train", action="store_true", help="skip the joint-space stages")
    parser.set_defaults(func=run)


def _whisper_name(plan: DemoPlan, spec: str) -> str:
    return "+".join(plan.whisper if part == "whisper" else part for part in spec.split("+"))


def jobs(plan: DemoPlan) -> list[EmbedJob]:
    from bgtai import data

    def audio_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [item.audio for item in load() if item.audio is not None]

    def images_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [item.image for item in load() if item.image is not None]

    def texts_of(load: Callable[[], Any]) -> Callable[[], list[Any]]:
        return lambda: [text for item in load() for text in item.texts]

    tux = data.load_tuxpaint
    whisper = plan.whisper
    return [
        EmbedJob("esc50", "clips", "audio", "aisfx", audio_of(data.load_esc50)),
        EmbedJob("esc50", "clips", "audio", "yamnet", audio_of(data.load_esc50)),
        EmbedJob("esc50", "clips", "audio", whisper, audio_of(lambda: data.load_esc50().filter(fold=4))),
        EmbedJob("urbansound8k", "clips", "audio", "aisfx", audio_of(data.load_urbansound8k), needs="full"),
        EmbedJob("urbansound8k", "clips", "audio", "yamnet", audio_of(data.load_urbansound8k)),
        EmbedJob("urbansound8k", "clips", "audio", FULL_WHISPER, audio_of(data.load_urbansound8k), needs="whisper-all"),
        EmbedJob("tuxpaint", "pictures", "image", "efficientnet-lite0", images_of(tux)),
        EmbedJob("tuxpaint", "descriptions", "text", "minilm", lambda: [i.texts[0] for i in tux() if i.texts]),
        EmbedJob("tuxpaint", "sound effects", "audio", "aisfx", audio_of(tux)),
        EmbedJob(
            "tuxpaint",
            "spoken descriptions",
            "audio",
            whisper,
            lambda: [i.meta["speech"] for i in tux() if i.meta.get("speech")],
        ),
        EmbedJob("coco_mini", "images", "image", "efficientnet-lite0", images_of(data.load_coco)),
        EmbedJob("coco_mini", "captions", "text", "minilm", texts_of(data.load_coco)),
        EmbedJob("clotho_sample", "clips", "audio", "aisfx", audio_of(lambda: data.load_clotho(require_audio=True))),
        EmbedJob("clotho_sample", "captions", "text", "minilm", texts_of(lambda: data.load_clotho(require_audio=True))),
        EmbedJob("fsdd", "utterances", "audio", FULL_WHISPER, audio_of(data.load_fsdd), needs="whisper-all"),
        EmbedJob(
            "asterisk_prompts", "utterances", "audio", FULL_WHISPER, audio_of(data.load_asterisk), needs="whisper-all"
        ),
        EmbedJob("asterisk_prompts", "transcripts", "text", "minilm", texts_of(data.load_asterisk)),
    ]


def _stage_datasets() -> None:
    from bgtai.config import require_data_root
    from bgtai.data.catalog import list_datasets

    root = require_data_root()
    print(f"\n== Datasets under {root}\n")
    rows = [
        [d.name, d.items, d.with_audio, d.with_image, d.with_text, d.note] for d in list_datasets(root) if d.present
    ]
    print(format_table(["dataset", "items", "audio", "image", "text", "note"], rows), flush=True)


def _stage_embed(plan: DemoPlan, planned: list[EmbedJob] | None = None) -> None:
    from bgtai.embed import encode_with_report

    print("\n== Embedding with the frozen encoders (cached by content; a second run reads the cache)\n", flush=True)
    rows = []
    for job in jobs(plan) if planned is None else planned:
        skipped = plan.skipped(job.needs)
        if skipped:
            rows.append([job.dataset, job.what, job.encoder, "-", "-", "-", f"skipped ({skipped})"])
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


def nearest_neighbour_rows(encoders: list[str], urbansound_skipped: dict[str, str]) -> list[list[Any]]:
    """Grouped 1-NN accuracy per audio encoder: ESC-50 fold 4 by source, UrbanSound8K across folds
    (except for the encoders in `urbansound_skipped`, whose cell says why)."""
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
        if encoder in urbansound_skipped:
            row.append(f"not embedded ({urbansound_skipped[encoder]})")
        else:
            us_vectors = bgtai.encode("audio", [i.audio for i in us8k], encoder=encoder, progress=False)
            us_result = nearest_neighbour_accuracy(
                us_vectors,
                np.array([i.label for i in us8k]),
                np.array([i.group for i in us8k]),
                folds=np.array([i.fold for i in us8k]),
                evaluate=test_folds,
            )
            row.append(f"{us_result.accuracy:.3f}")
        rows.append(row)
    return rows


def _stage_nearest_neighbour(plan: DemoPlan) -> None:
    print("\n== Grouped nearest-neighbour accuracy of the frozen audio encoders\n")
    print("ESC-50 fold 4: 400 clips, 50 classes, a clip's own source recording excluded (chance 0.020).")
    print("UrbanSound8K: queries from folds 1, 2, 10, neighbours only from other folds, fsID excluded (10 classes).\n")
    skipped = {
        _whisper_name(plan, name): why for name, needs in URBANSOUND_NEEDS.items() if (why := plan.skipped(needs))
    }
    rows = nearest_neighbour_rows(["aisfx", "yamnet", plan.whisper], skipped)
    print(format_table(["encoder", "ESC-50 fold 4", "UrbanSound8K folds 1/2/10"], rows), flush=True)


def probe_plan(plan: DemoPlan) -> list[tuple[str, str, str | None]]:
    """(dataset, encoder spec, why skipped or None) for each row of the probe table."""
    return [(dataset, _whisper_name(plan, spec), plan.skipped(needs)) for dataset, spec, needs in PROBES]


def _stage_probe(plan: DemoPlan) -> None:
    """Linear probes (regularisation by inner grouped CV) on the frozen features, as in `bgtai eval probe`."""
    from bgtai.eval.datasets import load_classification_set, protocol_for
    from bgtai.eval.features import probe_features
    from bgtai.eval.probe import run_probe

    print("\n== Linear probe on frozen features (mean ± std over the protocol's folds)\n")
    print("ESC-50 fold 4: grouped 4-fold CV by src_file. UrbanSound8K: test folds 1, 2, 10 (fold 3 only trains).\n")
    rows = []
    for dataset, spec, skipped in probe_plan(plan):
        if skipped:
            rows.append([dataset, protocol_for(dataset), spec, f"skipped ({skipped})", "-"])
            continue
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

    from bgtai.cli import CommandError

    try:
        plan = DemoPlan(full=args.full, whisper_all=args.whisper_all)
    except ValueError as error:
        raise CommandError(str(error)) from error
    torch.set_num_threads(max(1, args.threads))
    started = time.perf_counter()
    print(plan.banner(), flush=True)
    _stage_datasets()
    _stage_embed(plan)
    _stage_nearest_neighbour(plan)
    _stage_probe(plan)
    if not args.no_train:
        from bgtai.cli.demo_joint import DEMO_EPOCHS, DEMO_RECIPE, stage_joint

        stage_joint(args.recipe or DEMO_RECIPE, args.epochs or DEMO_EPOCHS, full=plan.full, runs=args.runs)
    print(f"\n{'full' if plan.full else 'quick'} demo finished in {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    from bgtai.cli.main import main as bgtai_main

    return bgtai_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
