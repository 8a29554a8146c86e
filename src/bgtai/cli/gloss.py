"""`bgtai gloss "TEXT"` / `bgtai gloss --audio FILE`: print the gloss of a sentence or of speech.

With `--model DIR` (a trained Langue2Gloss folder, e.g. `runs/gloss-aslg/best`) the model
glosses; without it, `runs/gloss-aslg/best` is used when it exists, else the rule-based
English glosser (text only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bgtai.cli import CommandError

DEFAULT_MODEL = Path("runs") / "gloss-aslg" / "best"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gloss", help="gloss English text or speech (sign-language gloss)")
    parser.add_argument("text", nargs="*", help="the sentence(s); each argument is one sentence")
    parser.add_argument("--audio", type=Path, nargs="+", help="speech file(s) to gloss instead of text")
    parser.add_argument("--model", type=Path, help=f"trained gloss model folder (default {DEFAULT_MODEL} if present)")
    parser.add_argument("--rules", action="store_true", help="use the rule-based English glosser")
    parser.add_argument("--beam", type=int, default=4)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.text and not args.audio:
        raise CommandError("give a sentence or --audio FILE")
    if args.text and args.audio:
        raise CommandError("give either a sentence or --audio, not both")
    model = args.model or (DEFAULT_MODEL if DEFAULT_MODEL.is_dir() else None)
    if args.rules or model is None:
        if args.audio:
            raise CommandError("the rule glosser takes text; give --model DIR to gloss speech")
        from bgtai.gloss.rules import RuleGlosser

        for line in RuleGlosser().gloss_many(list(args.text)):
            print(line)
        return 0
    from bgtai.gloss.translator import GlossTranslator

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
