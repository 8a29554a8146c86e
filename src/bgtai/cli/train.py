"""`bgtai train`: two forms, named together in its usage and help (see `USAGE`).

- `bgtai train --recipe NAME [options]`: the joint embedding space from a recipe in
  configs/recipes (`--list-recipes` lists them); options in `bgtai.cli.train_joint`.
- `bgtai train gloss --corpus CORPUS [options]`: Langue2Gloss, a trainer with its own options;
  `--model tagger` (ASLG only) trains the edit tagger over the rule glosser instead.

Adding such a trainer is adding one entry to `TRAINERS`: a function that adds its arguments
to a sub-parser, and one that runs it. With no arguments `bgtai train` prints the usage and
exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from bgtai.cli import CommandError


def _add_gloss(parser: argparse.ArgumentParser) -> None:
    from bgtai.cli.settings_arguments import add_settings_arguments
    from bgtai.train.gloss_settings import CORPORA, MODELS, GlossTrainSettings

    parser.add_argument("--corpus", choices=CORPORA, required=True)
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="langue2gloss",
        help="langue2gloss: the seq2seq transformer (default); tagger: edit tags over the rule glosser's "
        "output (--corpus aslg; reads --width, --dropout, --lr, --weight-decay, --warmup-steps, "
        "--schedule, --batch-size, --max-epochs, --max-minutes, --token-dropout, --seed, --threads)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="run folder (default runs/gloss-CORPUS, runs/gloss-CORPUS-tagger for --model tagger); "
        "the best model goes to OUT/best",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="train this many models side by side (one process each, seeds SEED, SEED+1, ...) "
        "and keep their ensemble in OUT/best (default 1: one model)",
    )
    add_settings_arguments(parser, GlossTrainSettings, skip=("corpus", "model"))


def _run_gloss(args: argparse.Namespace) -> int:
    from bgtai.train.gloss import GlossTrainSettings, train_gloss, train_gloss_ensemble

    values = {item.name: getattr(args, item.name) for item in fields(GlossTrainSettings)}
    settings = GlossTrainSettings(**values)
    if settings.model == "tagger":
        from bgtai.gloss.tagger_train import train_tagger

        if args.members != 1:
            raise CommandError("--members applies to Langue2Gloss: the edit tagger trains one model")
        out = args.out or Path("runs") / f"gloss-{args.corpus}-tagger"
        try:
            summary = train_tagger(settings, out)
        except ValueError as error:
            raise CommandError(str(error)) from error
        print(
            json.dumps(
                {
                    k: summary[k]
                    for k in ("corpus", "model", "best_valid_bleu4", "epochs", "steps", "total_s", "cpu_s", "threads")
                }
            )
        )
        print(f"best model: {out / 'best'}")
        return 0
    out = args.out or Path("runs") / f"gloss-{args.corpus}"
    summary = train_gloss(settings, out) if args.members == 1 else train_gloss_ensemble(settings, out, args.members)
    print(
        json.dumps(
            {k: summary[k] for k in ("corpus", "best_valid_bleu4", "epochs", "steps", "total_s", "cpu_s", "threads")}
        )
    )
    print(f"best model: {out / 'best'}")
    return 0


def _add_generator(parser: argparse.ArgumentParser) -> None:
    from bgtai.cli.train_generator import add_arguments

    add_arguments(parser)


def _run_generator(args: argparse.Namespace) -> int:
    from bgtai.cli.train_generator import run

    return run(args)


# name -> (help, add arguments, run): trainers with their own options, `bgtai train NAME ...`
TRAINERS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "gloss": ("train Langue2Gloss (text/speech -> gloss) on ASLG-PC12 or PHOENIX-2014T", _add_gloss, _run_gloss),
    "generator": (
        "train the picture generator conditioned on a joint space (audio-driven generation)",
        _add_generator,
        _run_generator,
    ),
}

USAGE = """%(prog)s --recipe NAME [--out DIR] [--set KEY=VALUE ...] [--resume] [...]
       %(prog)s --list-recipes
       %(prog)s gloss --corpus {aslg,phoenix} [--out DIR] [--members N] [...]
       %(prog)s generator [--model DIR] [--out DIR] [--resume] [...]"""
DESCRIPTION = """Two kinds of training:
  --recipe NAME       the joint embedding space, from a recipe in configs/recipes (or a JSON file);
                      --list-recipes lists them. Under torchrun the same command trains with N processes.
  gloss --corpus C    Langue2Gloss (text/speech -> gloss), with its own options: %(prog)s gloss --help
  generator           the picture generator driven by a joint space: %(prog)s generator --help"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the joint space (--recipe NAME) or Langue2Gloss (gloss)",
        usage=USAGE,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    def usage(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        print(
            "bgtai train: error: give --recipe NAME (the joint space; --list-recipes lists them) "
            "or gloss --corpus CORPUS (Langue2Gloss); --help says more",
            file=sys.stderr,
        )
        return 2

    parser.set_defaults(func=usage)
    # dest is not "recipe": that is --recipe's, which a sub-command name must not overwrite
    trainers = parser.add_subparsers(dest="trainer", title="other trainers", metavar="{" + ",".join(TRAINERS) + "}")
    for name, (help_text, add_arguments, run) in TRAINERS.items():
        sub = trainers.add_parser(name, help=help_text, prog=f"{parser.prog} {name}")
        add_arguments(sub)
        sub.set_defaults(func=run)
    # joint-space recipes: `bgtai train --recipe NAME` (options on the `train` parser itself)
    from bgtai.cli.train_joint import register_train

    register_train(parser)
    joint = parser.get_default("func")

    def train_joint_or_say_which(args: argparse.Namespace) -> int:
        if args.recipe in TRAINERS:
            raise CommandError(
                f"{args.recipe} is not a joint-space recipe; train it with `bgtai train {args.recipe} ...` "
                f"(see `bgtai train {args.recipe} --help`)"
            )
        return joint(args)

    parser.set_defaults(func=train_joint_or_say_which)
