"""`bgtai train generator --model DIR`: the embedding-conditioned diffusion decoder (`bgtai.train.generator`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

DEFAULT_MODEL = Path("runs/default/best")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from bgtai.cli.settings_arguments import add_settings_arguments
    from bgtai.train.generator import GeneratorSettings

    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help=f"the joint space whose picture vectors condition the generator (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/generator"),
        help="run folder (default runs/generator); the generator goes to OUT/model",
    )
    parser.add_argument("--resume", action="store_true", help="continue OUT/checkpoint.pt")
    add_settings_arguments(parser, GeneratorSettings, skip=("extra", "datasets"))


def run(args: argparse.Namespace) -> int:
    from bgtai.atomic import check_target
    from bgtai.cli import CommandError
    from bgtai.model.joint import load_model
    from bgtai.train.generator import GeneratorSettings, picture_data, train_generator

    if not args.model.is_dir():
        raise CommandError(
            f"{args.model}: no joint model there; train one with `bgtai train --recipe default` or give --model DIR"
        )
    check_target(args.out, folder=True)
    load_model(args.model)  # a clear error for a folder that is not a model, before the pictures are read
    values = {
        item.name: getattr(args, item.name)
        for item in fields(GeneratorSettings)
        if item.name not in ("extra", "datasets")
    }
    settings = GeneratorSettings(**values)
    data = picture_data(args.model, settings.size, settings.datasets)
    summary = train_generator(settings, data, args.out, resume=args.resume, extra={"joint_model": str(args.model)})
    print(
        json.dumps(
            {
                k: summary[k]
                for k in (
                    "steps",
                    "pictures",
                    "seconds_this_run",
                    "seconds_per_step",
                    "threads",
                    "final_loss_mean_last_100",
                    "peak_memory_mb",
                )
            }
        )
    )
    print(f"generator: {args.out / 'model'}")
    return 0
