"""`bgtai eval gloss --corpus {aslg,phoenix} --model DIR [DIR ...]|rules [--split {test,dev}] [--speech N] [--json FILE]`.

Scores glosses of the corpus's test sentences (or, with `--split dev`, of the sentences that
select the model: the place to choose beam width and length penalty) against the reference glosses: BLEU-1..4
(sacrebleu, corpus level), ROUGE-L and WER. Several model folders decode as one ensemble of all
their members (to try ensembles on dev without training one). `--model rules` scores the rule-based English
glosser; on ASLG it reproduces the corpus's artefact ("the" deleted inside words, as ASLG's
references have it) unless `--no-aslg-artefacts` is given, and so does an edit-tagger folder
(`bgtai.gloss.tagger`, which edits the rule glosser's output; beam and length penalty do not apply). `--speech
N` glosses the first N test sentences from speech instead (espeak-ng TTS,
en-us for ASLG, de for PHOENIX), through the model's speech front-end or, for a text-only
model, a Whisper transcript (tiny.en for English, base told German for PHOENIX); the
protocol names which.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bgtai.cli import CommandError

DATASETS = {"aslg": "ASLG-PC12 test (1000 pairs)", "phoenix": "RWTH-PHOENIX-Weather 2014 T test (642 pairs)"}
TEST_NAMES = {"aslg": "ASLG-PC12 test", "phoenix": "RWTH-PHOENIX-Weather 2014 T test"}
DEV_SETS = {
    "aslg": "ASLG-PC12 dev pairs 3600-3999 (400 pairs)",
    "phoenix": "RWTH-PHOENIX-Weather 2014 T dev (519 pairs)",
}
TRAINED_ON = {
    "aslg": "ASLG dev pairs 0-3599 (3600-3999 select)",
    "phoenix": "PHOENIX train, glosses in the dev/test convention (dev selects)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gloss", help="text/speech -> gloss translation: BLEU-1..4, ROUGE-L, WER")
    parser.add_argument("--corpus", choices=sorted(DATASETS), required=True)
    parser.add_argument(
        "--model",
        required=True,
        nargs="+",
        help="trained model folder (DIR/best), several (decoded as one ensemble of all their members), "
        "or 'rules' for the rule glosser",
    )
    parser.add_argument(
        "--split",
        choices=["test", "dev"],
        default="test",
        help="dev: the sentences that select the model (choose decoding settings here, not on test)",
    )
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument(
        "--speech", type=int, default=0, metavar="N", help="gloss the first N test sentences from TTS speech"
    )
    parser.add_argument(
        "--aslg-artefacts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help='--model rules only: delete "the" inside words as ASLG-PC12\'s references do '
        "(default: on for --corpus aslg, off otherwise)",
    )
    parser.add_argument("--json", type=Path, help="write the result JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.data.gloss_pairs import TTS_VOICE, VALID_SPLIT, load_pairs, speech_files
    from bgtai.eval.results import EvalRecord, current_command, write_result
    from bgtai.gloss.metrics import gloss_scores

    if args.split == "dev":
        sentences, references = load_pairs(args.corpus, VALID_SPLIT[args.corpus])
        dataset = DEV_SETS[args.corpus]
    else:
        sentences, references = load_pairs(args.corpus, "test")
        dataset = DATASETS[args.corpus]
    if args.speech and args.split == "dev":
        raise CommandError("--speech glosses test sentences: leave out --split dev")
    if args.speech:
        which = "all" if args.speech >= len(sentences) else "first"
        sentences, references = sentences[: args.speech], references[: args.speech]
        dataset = f"{TEST_NAMES[args.corpus]}, {which} {len(sentences)} sentences spoken by espeak-ng ({TTS_VOICE[args.corpus]})"
    started = time.perf_counter()
    if "rules" in args.model and len(args.model) > 1:
        raise CommandError("--model rules takes no other model")
    from bgtai.gloss.tagger import is_tagger_folder

    tagger = len(args.model) == 1 and args.model != ["rules"] and is_tagger_folder(args.model[0])
    if any(name != "rules" and is_tagger_folder(name) for name in args.model) and not tagger:
        raise CommandError("an edit-tagger folder is scored alone, not in an ensemble")
    if args.aslg_artefacts is not None and args.model != ["rules"] and not tagger:
        raise CommandError("--aslg-artefacts / --no-aslg-artefacts apply to --model rules or an edit tagger only")
    artefacts = args.corpus == "aslg" if args.aslg_artefacts is None else args.aslg_artefacts
    if tagger:
        from bgtai.gloss.tagger import EditTagger

        if args.corpus != "aslg":
            raise CommandError("the edit tagger glosses English: use --corpus aslg")
        edit_tagger = EditTagger.load(args.model[0], aslg_artefacts=artefacts)
        if args.speech:
            hypotheses = edit_tagger.translate_audio(speech_files(args.corpus, "test", sentences))
            route = edit_tagger.audio_route
        else:
            hypotheses = edit_tagger.gloss_many(sentences)
            route = "text input: English words + the rule glosser's token for each"
        model_name = f"edit tagger {args.model[0]} (epoch {edit_tagger.meta.get('epoch')}, over bgtai.gloss.rules)"
        protocol = f"{route}; trained on {TRAINED_ON[args.corpus]}; " + (
            "ASLG artefact reproduced ('the' deleted inside words)"
            if artefacts
            else "words kept whole (no ASLG artefact)"
        )
    elif args.model == ["rules"]:
        if args.speech:
            raise CommandError("the rule glosser takes text only")
        from bgtai.gloss.rules import RuleGlosser

        hypotheses = RuleGlosser(aslg_artefacts=artefacts).gloss_many(sentences)
        model_name = "rule glosser (bgtai.gloss.rules, ASLG conventions)"
        # the artefact is named because the same glosser scores differently without it
        protocol = "text input, no training" + (
            "; ASLG artefact reproduced ('the' deleted inside words)"
            if artefacts
            else "; words kept whole (no ASLG artefact)"
        )
    else:
        from bgtai.gloss.translator import GlossTranslator

        folders = [Path(name) for name in args.model]
        for folder in folders:
            if not folder.is_dir():
                raise CommandError(f"{folder}: no such model folder")
        translator = GlossTranslator.load(folders, beam=args.beam, length_penalty=args.length_penalty)
        meta = translator.meta
        if args.speech:
            hypotheses = translator.translate_audio(speech_files(args.corpus, "test", sentences))
            route = translator.audio_route
        else:
            hypotheses = translator.translate(sentences, progress=False)
            route = f"text front-end {translator.text_frontend}"
        trained_on = TRAINED_ON[args.corpus]
        named = " + ".join(str(folder) for folder in folders)
        if len(translator.members) > 1:
            epochs = "/".join(str(member.meta.get("epoch")) for member in translator.members)
            model_name = f"Langue2Gloss ensemble {named} ({len(translator.members)} members, epochs {epochs})"
        else:
            model_name = f"Langue2Gloss {named} (epoch {meta.get('epoch')})"
        protocol = f"{route}; trained on {trained_on}; beam {args.beam}, length penalty {args.length_penalty}"
    metrics = gloss_scores(hypotheses, references)
    seconds = time.perf_counter() - started
    record = EvalRecord(
        task="gloss",
        dataset=dataset,
        protocol=protocol,
        model=model_name,
        metrics=metrics,
        command=current_command(),
        details={
            "sentences": len(references),
            "seconds": seconds,
            "examples": [
                {"input": s, "reference": r, "output": h}
                for s, r, h in list(zip(sentences, references, hypotheses))[:5]
            ],
        },
    )
    print(f"{dataset} | {model_name} | {protocol}")
    print("  ".join(f"{name} {value:.2f}" if name != "wer" else f"wer {value:.3f}" for name, value in metrics.items()))
    if args.json:
        write_result(record, args.json)
        print(f"wrote {args.json}")
    return 0
