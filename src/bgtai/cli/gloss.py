"""`bgtai gloss "TEXT"` / `bgtai gloss --audio FILE`: print the gloss of a sentence or of speech.

Which glosser runs, said on stderr each time (stdout holds only the glosses):
- `--model DIR`: that trained Langue2Gloss folder (e.g. `runs/gloss-aslg/best`);
- `--rules` (or `--aslg-artefacts`): the rule-based English glosser (text only);
- neither: the default trained model when one exists, else the rules. The default model is
  `$BGTAI_GLOSS_MODEL` when set; otherwise `runs/gloss-aslg/best` of the checkout this
  package runs from (so any working folder finds the same model), then of the working folder
  (an installed package has no checkout).

The rule glosser writes words whole; `--aslg-artefacts` reproduces ASLG-PC12's artefact of
deleting "the" inside words (`weather` -> `WEAR`), which only scoring against ASLG wants.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bgtai.cli import CommandError

MODEL_ENV = "BGTAI_GLOSS_MODEL"
DEFAULT_MODEL = Path("runs") / "gloss-aslg" / "best"
# src/bgtai/cli/gloss.py -> the checkout root (holds pyproject.toml when this is a checkout)
_CHECKOUT = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gloss", help="gloss English text or speech (sign-language gloss)")
    parser.add_argument("text", nargs="*", help="the sentence(s); each argument is one sentence")
    parser.add_argument("--audio", type=Path, nargs="+", help="speech file(s) to gloss instead of text")
    parser.add_argument("--model", type=Path,
                        help=f"trained gloss model folder (default: ${MODEL_ENV}, else {DEFAULT_MODEL} if present)")
    parser.add_argument("--rules", action="store_true", help="use the rule-based English glosser")
    parser.add_argument("--aslg-artefacts", action="store_true",
                        help="rule glosser, deleting \"the\" inside words as ASLG-PC12's references do "
                             "(weather -> WEAR); only for scoring against ASLG")
    parser.add_argument("--beam", type=int, default=4)
    parser.set_defaults(func=run)


def default_model_candidates() -> list[Path]:
    """Where the default trained model is looked for, in order (absolute paths)."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return [Path(env).expanduser().resolve()]
    candidates = []
    if (_CHECKOUT / "pyproject.toml").is_file():
        candidates.append(_CHECKOUT / DEFAULT_MODEL)
    working = (Path.cwd() / DEFAULT_MODEL).resolve()
    if working not in candidates:
        candidates.append(working)
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
    rules = args.rules or args.aslg_artefacts
    if rules and args.model:
        raise CommandError("--rules / --aslg-artefacts choose the rule glosser: leave out --model")
    if args.model is not None and not args.model.is_dir():
        raise CommandError(f"{args.model}: no such model folder")
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
    from bgtai.gloss.translator import GlossTranslator

    _say(f"trained model {model.resolve()}" + ("" if args.model else " (default; --rules for the rule glosser)"))
    translator = GlossTranslator.load(model, beam=args.beam)
    if args.audio:
        for path in args.audio:
            if not path.is_file():
                raise CommandError(f"{path}: no such audio file")
        glosses = translator.translate_audio(list(args.audio))
    else:
        glosses = translator.translate(list(args.text))
    for line in glosses:
        print(line)
    return 0


def _say(which: str) -> None:
    # stderr, so that stdout stays the glosses alone (pipes and files get only those)
    print(f"bgtai gloss: glosser: {which}", file=sys.stderr)
