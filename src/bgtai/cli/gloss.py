"""`bgtai gloss "TEXT"` / `bgtai gloss --audio FILE`: print the gloss of a sentence or of speech.

Which glosser runs, said on stderr each time (stdout holds only the glosses):
- `--model DIR`: that trained model folder: an edit tagger (`runs/gloss-aslg-tagger/best`,
  `bgtai.gloss.tagger`: edits of the rule glosser's output, text only) or a Langue2Gloss
  (`runs/gloss-aslg/best`);
- `--rules` (or `--aslg-artefacts` without `--model`): the rule-based English glosser (text only);
- neither: the default trained model when one exists, else the rules. The default model is
  `$BGTAI_GLOSS_MODEL` when set; otherwise, in the checkout this package runs from (so any
  working folder finds the same model) and then in the working folder (an installed package
  has no checkout), `runs/gloss-aslg-tagger/best`, then `runs/gloss-aslg/best`.

Measured on ASLG-PC12 test, BLEU-4 (`bgtai eval gloss --corpus aslg`, results/gloss-aslg-*.json):
the rules 86.99, the edit tagger 96.20, Langue2Gloss 56.82; so the tagger comes first.

The rule glosser and the edit tagger write words whole; `--aslg-artefacts` reproduces
ASLG-PC12's artefact of deleting "the" inside words (`weather` -> `WEAR`), which only scoring
against ASLG wants.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bgtai.cli import CommandError

MODEL_ENV = "BGTAI_GLOSS_MODEL"
DEFAULT_MODELS = (Path("runs") / "gloss-aslg-tagger" / "best", Path("runs") / "gloss-aslg" / "best")  # tried in order
# ASLG-PC12 test BLEU-4 of each glosser (results/gloss-aslg-{rules,tagger,text}.json), said in --help
MEASURED = "ASLG-PC12 test BLEU-4: rules 86.99, edit tagger 96.20, Langue2Gloss 56.82"
# src/bgtai/cli/gloss.py -> the checkout root (holds pyproject.toml when this is a checkout)
_CHECKOUT = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gloss", help="gloss English text or speech (sign-language gloss)")
    parser.add_argument("text", nargs="*", help="the sentence(s); each argument is one sentence")
    parser.add_argument("--audio", type=Path, nargs="+", help="speech file(s) to gloss instead of text")
    parser.add_argument(
        "--model",
        type=Path,
        help=f"trained gloss model folder: an edit tagger or a Langue2Gloss (default: ${MODEL_ENV}, "
        f"else the first of {', '.join(map(str, DEFAULT_MODELS))} present; {MEASURED})",
    )
    parser.add_argument("--rules", action="store_true", help="use the rule-based English glosser")
    parser.add_argument(
        "--aslg-artefacts",
        action="store_true",
        help='rule glosser (or an edit-tagger --model), deleting "the" inside words as ASLG-PC12\'s '
        "references do (weather -> WEAR); only for scoring against ASLG",
    )
    parser.add_argument("--beam", type=int, default=4)
    parser.set_defaults(func=run)


def default_model_candidates() -> list[Path]:
    """Where the default trained model is looked for, in order (absolute paths)."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return [Path(env).expanduser().resolve()]
    roots = [_CHECKOUT] if (_CHECKOUT / "pyproject.toml").is_file() else []
    candidates: list[Path] = []
    for root in [*roots, Path.cwd()]:
        for name in DEFAULT_MODELS:
            folder = (root / name).resolve()
            if folder not in candidates:
                candidates.append(folder)
    return candidates


def default_model() -> Path | None:
    """The first default model folder that exists; `$BGTAI_GLOSS_MODEL` naming a missing folder is an error."""
    candidates = default_model_candidates()
    found = next((folder for folder in candidates if folder.is_dir()), None)
    if found is None and os.environ.get(MODEL_ENV):
        raise CommandError(f"{candidates[0]}: no such model folder (named by {MODEL_ENV})")
    return found


def run(args: argparse.Namespace) -> int:
    if not args.text and not args.audio:
        raise CommandError("give a sentence or --audio FILE")
    if args.text and args.audio:
        raise CommandError("give either a sentence or --audio, not both")
    if args.rules and args.model:
        raise CommandError("--rules chooses the rule glosser: leave out --model")
    if args.model is not None and not args.model.is_dir():
        raise CommandError(f"{args.model}: no such model folder")
    rules = args.rules or (args.aslg_artefacts and args.model is None)
    model = None if rules else (args.model or default_model())
    if model is None:
        if args.audio:
            raise CommandError("the rule glosser takes text; give --model DIR to gloss speech")
        from bgtai.gloss.rules import RuleGlosser

        if rules:
            _say("rules (bgtai.gloss.rules" + (", ASLG artefacts)" if args.aslg_artefacts else ")"))
        else:
            looked = " or ".join(str(folder) for folder in default_model_candidates())
            _say(f"rules (bgtai.gloss.rules); no trained model at {looked} (give --model DIR)")
        for line in RuleGlosser(aslg_artefacts=args.aslg_artefacts).gloss_many(list(args.text)):
            print(line)
        return 0
    from bgtai.gloss.tagger import EditTagger, is_tagger_folder
    from bgtai.gloss.translator import GlossTranslator

    default = "" if args.model else " (default; --rules for the rule glosser)"
    if is_tagger_folder(model):
        _say(f"edit tagger {model.resolve()}{default}" + (", ASLG artefacts" if args.aslg_artefacts else ""))
        tagger = EditTagger.load(model, aslg_artefacts=args.aslg_artefacts)
        glosses = tagger.translate_audio(_audio_files(args.audio)) if args.audio else tagger.gloss_many(list(args.text))
        for line in glosses:
            print(line)
        return 0
    if args.aslg_artefacts:
        raise CommandError("--aslg-artefacts applies to the rule glosser and the edit tagger, not to a Langue2Gloss")
    _say(f"trained model {model.resolve()}" + default)
    translator = GlossTranslator.load(model, beam=args.beam)
    if args.audio:
        glosses = translator.translate_audio(_audio_files(args.audio))
    else:
        glosses = translator.translate(list(args.text))
    for line in glosses:
        print(line)
    return 0


def _audio_files(paths: list[Path]) -> list[Path]:
    for path in paths:
        if not path.is_file():
            raise CommandError(f"{path}: no such audio file")
    return list(paths)


def _say(which: str) -> None:
    # stderr, so that stdout stays the glosses alone (pipes and files get only those)
    print(f"bgtai gloss: glosser: {which}", file=sys.stderr)
