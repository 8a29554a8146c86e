"""`bgtai train --recipe NAME [--out DIR] [--set key=value ...] [--manifest FILE.csv] [--resume]`: train the joint model.

`register_train(parser)` adds these options to the `bgtai train` parser (the one that also
holds the `gloss` sub-command): `--recipe` runs a joint-space recipe from
`configs/recipes/` (or a JSON file), writing `DIR/best` (default `DIR = runs/NAME`), which
every `eval` command loads with `--model DIR/best`. Given the sub-parsers of a command
instead, it adds a `joint` sub-command with the same options. Under
`torchrun --nproc_per_node=N` the same command trains with N processes.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from bgtai.cli import CommandError


def add_arguments(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--recipe",
        required=required,
        metavar="NAME",
        help="joint-space recipe: a name in configs/recipes (e.g. unibrivl-moco, slava-av) or a JSON file",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="run folder (default runs/NAME); the best model goes to DIR/best"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe value by dotted key, e.g. optim.lr=3e-4 or stages.0.epochs=2 (repeatable)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.pt after an interruption")
    parser.add_argument(
        "--manifest",
        dest="manifests",
        action="append",
        default=[],
        type=Path,
        metavar="FILE.csv",
        help="also train on the pairs of this CSV manifest (header audio,caption, image,caption, "
        "audio,image or speech,transcript; paths relative to its folder); repeatable. "
        "With --set 'data.sources=[]' only on them",
    )
    parser.add_argument(
        "--ds-net",
        action="store_true",
        help="DS-Net data-pair selection: after a warm-up epoch, train only pairs whose alignment "
        "loss is under a growing threshold (alignment.ds_net=true; see docs/DECISIONS.md)",
    )
    parser.add_argument(
        "--result-filter",
        action="store_true",
        help="add the Result Filter alignment loss (DTW-supervised, eq. 5 + SP-Loss) to training "
        "(alignment.result_filter=true)",
    )
    parser.add_argument("--snapshots", action="store_true", help="keep the model of every epoch in DIR/epochs/")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--list-recipes", action="store_true", help="list the recipes and exit")


def recipe_overrides(args: argparse.Namespace) -> list[str]:
    """The `--set` values, then what `--ds-net` and `--result-filter` switch on."""
    overrides = list(args.overrides)
    if args.ds_net:
        overrides.append("alignment.ds_net=true")
    if args.result_filter:
        overrides.append("alignment.result_filter=true")
    return overrides


def run(args: argparse.Namespace) -> int:
    from bgtai.errors import BadInputError
    from bgtai.train.recipes import load_grounded_recipe, load_recipe, recipe_kind, recipe_names

    if args.list_recipes:
        for name in recipe_names():
            grounded = recipe_kind(name) == "grounded"
            print(f"{name}: {(load_grounded_recipe(name) if grounded else load_recipe(name)).description}")
        return 0
    if not args.recipe:
        raise CommandError("give --recipe NAME (one of: " + ", ".join(recipe_names()) + ")")
    if recipe_kind(args.recipe) == "grounded":
        return run_grounded(args)
    recipe = load_recipe(args.recipe, recipe_overrides(args))
    if args.manifests:  # added to the recipe's own manifests; absolute, so training.json says which file it was
        listed = [{"path": str(path.resolve())} for path in args.manifests]
        recipe.data = {**recipe.data, "manifests": [*recipe.data.get("manifests", []), *listed]}
    out = args.out or Path("runs") / recipe.name
    from bgtai.train.joint import train

    args.resumable = True  # Ctrl-C from here on: `bgtai` prints this command with --resume
    try:
        summary = train(recipe, out, resume=args.resume, progress=not args.no_progress, snapshots=args.snapshots)
    except FileExistsError as error:
        raise CommandError(str(error)) from error
    except (ValueError, FileNotFoundError) as error:
        if isinstance(error, BadInputError):
            raise
        raise CommandError(f"recipe {recipe.name!r}: {error}") from error
    report: dict[str, Any] = {
        "recipe": recipe.name,
        "steps": summary.steps,
        "best_val_loss": None if math.isinf(summary.best_val) else summary.best_val,
        "epochs": len(summary.history),
    }
    print(json.dumps(report))
    print(f"best model: {summary.best}")
    return 0


def run_grounded(args: argparse.Namespace) -> int:
    """A recipe of kind `grounded`: the bridges plus trained towers (`bgtai.train.grounded`), in seconds to minutes."""
    from bgtai.eval.results import current_command
    from bgtai.train.grounded import train_grounded
    from bgtai.train.recipes import load_grounded_recipe

    recipe = load_grounded_recipe(args.recipe, list(args.overrides))
    if args.manifests:
        listed = [{"path": str(path.resolve())} for path in args.manifests]
        recipe.data = {**recipe.data, "manifests": [*recipe.data.get("manifests", []), *listed]}
    out = args.out or Path("runs") / recipe.name
    args.resumable = True  # Ctrl-C from here on: `bgtai` prints this command with --resume
    try:
        summary = train_grounded(recipe, out, command=current_command(), resume=args.resume)
    except FileExistsError as error:
        raise CommandError(str(error)) from error
    except (ValueError, FileNotFoundError) as error:
        from bgtai.errors import BadInputError

        if isinstance(error, BadInputError):
            raise
        raise CommandError(f"recipe {recipe.name!r}: {error}") from error
    print(
        json.dumps(
            {
                "recipe": recipe.name,
                "design": recipe.model_config().design,
                "best_epoch": summary.best_epoch,
                "best_val_loss": None if math.isinf(summary.best_val_loss) else summary.best_val_loss,
                "seconds": round(summary.seconds, 1),
            }
        )
    )
    print(f"best model: {out / 'best'}")
    return 0


def register_train(target: argparse.ArgumentParser | argparse._SubParsersAction) -> None:
    """Hook joint training into `bgtai train` (a parser) or add a `joint` sub-command (sub-parsers)."""
    if isinstance(target, argparse._SubParsersAction):
        parser = target.add_parser("joint", help="train the joint embedding space from a recipe")
        add_arguments(parser, required=False)
        parser.set_defaults(func=run)
        return
    add_arguments(target)
    fallback = target.get_default("func")

    def dispatch(args: argparse.Namespace) -> int:
        # `bgtai train gloss ...` sets its own func; this runs only for `bgtai train [--recipe ...]`
        if args.recipe or args.list_recipes:
            return run(args)
        return fallback(args) if fallback is not None else 2

    target.set_defaults(func=dispatch)
