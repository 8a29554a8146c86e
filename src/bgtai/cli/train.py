"""`bgtai train`: two forms, named together in its usage and help (see `USAGE`).

- `bgtai train --recipe NAME [options]`: the joint embedding space from a recipe in
  configs/recipes (`--list-recipes` lists them); options in `bgtai.cli.train_joint`.
- `bgtai train gloss --recipe NAME|PATH [--set KEY=VALUE] [options]` (or `--corpus CORPUS` from
  the defaults): Langue2Gloss from a gloss recipe in configs/gloss, a trainer with its own
  options; `--model tagger` (ASLG only) trains the edit tagger over the rule glosser instead.

Adding such a trainer is adding one entry to `TRAINERS`: a function that adds its arguments
to a sub-parser, and one that runs it. With no arguments `bgtai train` prints the usage and
exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.cli import CommandError

if TYPE_CHECKING:
    from bgtai.train.gloss_settings import GlossTrainSettings


GLOSS_HELP = """Train Langue2Gloss (text/speech -> gloss) or the ASLG edit tagger.

Settings come from a gloss recipe (--recipe NAME in configs/gloss, or a JSON file), then each
--set KEY=VALUE, then each flag given; without --recipe they start from the defaults shown below
and --corpus is needed. Examples:
  %(prog)s --recipe aslg-tagger            the settings of runs/gloss-aslg-tagger/best
  %(prog)s --recipe phoenix --members 2    two seeds side by side, their ensemble in OUT/best
  %(prog)s --recipe aslg --set max_epochs=20 --ema 0.99
  %(prog)s --corpus phoenix --max-epochs 10    the defaults with one change
Every epoch ends with a checkpoint in OUT; after an interruption the same command with
--resume continues where it stopped."""


def _add_gloss(parser: argparse.ArgumentParser) -> None:
    from bgtai.cli.settings_arguments import add_settings_arguments
    from bgtai.train.gloss_settings import CORPORA, MODELS, GlossTrainSettings, gloss_recipe_names

    parser.usage = (
        "%(prog)s [-h] --corpus {aslg,phoenix} [--out DIR] [--members N] [--resume] [SETTING FLAGS]\n"
        "       %(prog)s [-h] --recipe NAME|PATH [--set KEY=VALUE ...] [--out DIR] [--members N] [--resume] [SETTING FLAGS]"
    )
    parser.description = GLOSS_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--recipe",
        dest="gloss_recipe",
        metavar="NAME|PATH",
        help=f"settings from a gloss recipe: a name in configs/gloss ({', '.join(gloss_recipe_names())}) "
        "or a JSON file",
    )
    parser.add_argument(
        "--set",
        dest="gloss_set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting (repeatable), e.g. --set max_epochs=20; the value is read as JSON when it parses",
    )
    parser.add_argument(
        "--corpus", choices=CORPORA, default=argparse.SUPPRESS, help="needed without --recipe; overrides the recipe's"
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default=argparse.SUPPRESS,
        help="langue2gloss: the seq2seq transformer (default); tagger: edit tags over the rule glosser's "
        "output (--corpus aslg; reads --width, --dropout, --lr, --weight-decay, --warmup-steps, "
        "--schedule, --batch-size, --max-epochs, --max-minutes, --token-dropout, --seed, --threads)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="run folder (default runs/gloss-CORPUS, runs/gloss-CORPUS-tagger for --model tagger); "
        "the best model goes to OUT/best, checkpoints and log.csv beside it",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=1,
        help="train this many models side by side (one process each, seeds SEED, SEED+1, ...) "
        "and keep their ensemble in OUT/best (default 1: one model)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from OUT's checkpoint after an interruption (same settings)"
    )
    add_settings_arguments(parser, GlossTrainSettings, skip=("corpus", "model"), only_given=True)


def gloss_settings_from_arguments(args: argparse.Namespace) -> GlossTrainSettings:
    """The recipe (or the defaults), then each --set, then each flag given."""
    from bgtai.errors import BadInputError
    from bgtai.train.gloss_settings import GlossTrainSettings, load_gloss_recipe, settings_from_dict

    given = {item.name: getattr(args, item.name) for item in fields(GlossTrainSettings) if hasattr(args, item.name)}
    try:
        if args.gloss_recipe is not None:
            settings = load_gloss_recipe(args.gloss_recipe, args.gloss_set)
        elif "corpus" not in given:
            raise CommandError("give --recipe NAME|PATH (a gloss recipe) or --corpus CORPUS")
        else:
            settings = settings_from_dict({}, args.gloss_set)
        return replace(settings, **given)
    except BadInputError as error:
        raise CommandError(str(error)) from error
    except (TypeError, ValueError) as error:
        raise CommandError(f"bad gloss settings: {error}") from error


def _run_gloss(args: argparse.Namespace) -> int:
    settings = gloss_settings_from_arguments(args)
    if settings.model == "tagger":
        from bgtai.train.tagger import train_tagger

        if args.members != 1:
            raise CommandError("--members applies to Langue2Gloss: the edit tagger trains one model")
        out = args.out or Path("runs") / f"gloss-{settings.corpus}-tagger"
        try:
            summary = train_tagger(settings, out, resume=args.resume)
        except (ValueError, FileExistsError) as error:
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
    from bgtai.train.gloss import train_gloss, train_gloss_ensemble

    out = args.out or Path("runs") / f"gloss-{settings.corpus}"
    try:
        if args.members == 1:
            summary = train_gloss(settings, out, resume=args.resume)
        else:
            summary = train_gloss_ensemble(settings, out, args.members, resume=args.resume)
    except (ValueError, FileExistsError) as error:
        raise CommandError(str(error)) from error
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
       %(prog)s gloss --corpus {aslg,phoenix} [--out DIR] [--members N] [--resume] [...]
       %(prog)s gloss --recipe NAME [--set KEY=VALUE ...] [--out DIR] [--members N] [--resume] [...]
       %(prog)s generator [--model DIR] [--out DIR] [--resume] [...]"""
DESCRIPTION = """Two kinds of training:
  --recipe NAME       the joint embedding space, from a recipe in configs/recipes (or a JSON file);
                      --list-recipes lists them. Under torchrun the same command trains with N processes.
  gloss --recipe NAME Langue2Gloss (text/speech -> gloss) or the ASLG edit tagger, from a gloss recipe in
                      configs/gloss (or --corpus C and options): %(prog)s gloss --help
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
            "or gloss --recipe NAME | --corpus CORPUS (Langue2Gloss); --help says more",
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
