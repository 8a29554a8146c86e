"""`bgtai train RECIPE ...`: training recipes, one sub-command each (only `gloss` for now).

Adding a recipe is adding one entry to `RECIPES`: a function that adds its arguments to a
sub-parser, and one that runs it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path


def _add_gloss(parser: argparse.ArgumentParser) -> None:
    from bgtai.train.gloss_settings import CORPORA, GlossTrainSettings

    parser.add_argument("--corpus", choices=CORPORA, required=True)
    parser.add_argument("--out", type=Path, help="run folder (default runs/gloss-CORPUS); the best model goes to OUT/best")
    parser.add_argument("--members", type=int, default=1,
                        help="train this many models side by side (one process each, seeds SEED, SEED+1, ...) "
                             "and keep their ensemble in OUT/best (default 1: one model)")
    defaults = GlossTrainSettings()
    for item in fields(GlossTrainSettings):
        if item.name == "corpus":
            continue
        value = getattr(defaults, item.name)
        flag = f"--{item.name.replace('_', '-')}"
        if isinstance(value, bool):  # --shared-vocab / --no-shared-vocab
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=f"(default {value!r})")
        else:
            parser.add_argument(flag, type=type(value), default=value, help=f"(default {value!r})")


def _run_gloss(args: argparse.Namespace) -> int:
    from bgtai.train.gloss import GlossTrainSettings, train_gloss, train_gloss_ensemble

    values = {item.name: getattr(args, item.name) for item in fields(GlossTrainSettings)}
    settings = GlossTrainSettings(**values)
    out = args.out or Path("runs") / f"gloss-{args.corpus}"
    summary = train_gloss(settings, out) if args.members == 1 else train_gloss_ensemble(settings, out, args.members)
    print(json.dumps({k: summary[k] for k in ("corpus", "best_valid_bleu4", "epochs", "steps", "total_s", "cpu_s", "threads")}))
    print(f"best model: {out / 'best'}")
    return 0


# name -> (help, add arguments, run)
RECIPES: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "gloss": ("train Langue2Gloss (text/speech -> gloss) on ASLG-PC12 or PHOENIX-2014T", _add_gloss, _run_gloss),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model from a recipe")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    recipes = parser.add_subparsers(dest="recipe", metavar="RECIPE")
    for name, (help_text, add_arguments, run) in RECIPES.items():
        sub = recipes.add_parser(name, help=help_text)
        add_arguments(sub)
        sub.set_defaults(func=run)
    # joint-space recipes: `bgtai train --recipe NAME` (options on the `train` parser itself)
    from bgtai.cli.train_joint import register_train

    register_train(parser)
