"""`bgtai transcribe AUDIO... [--encoder whisper-tiny-en|whisper-base] [--words] [--json]`: what was said, and when.

Transcripts (and word times) come from faster-whisper with the encoder's own weights, greedy
decoding, and are kept per file content under the cache folder, so the bridges, the gloss
cascade and this command share one transcription of each file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bgtai.cli import CommandError

TRANSCRIBERS = ("whisper-tiny-en", "whisper-base")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("transcribe", help="speech to text with Whisper, optionally with word times")
    parser.add_argument("audio", type=Path, nargs="+", help="audio files (any format libsndfile reads)")
    parser.add_argument("--encoder", choices=TRANSCRIBERS, default="whisper-tiny-en")
    parser.add_argument("--words", action="store_true", help="each word with its start and end in seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per file: path, text[, words]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.cache import text_per_file
    from bgtai.config import cache_dir
    from bgtai.encoders.registry import get_encoder

    missing = [str(p) for p in args.audio if not p.is_file()]
    if missing:
        raise CommandError(f"no such file: {', '.join(missing)}")
    whisper = get_encoder(args.encoder, "audio")
    for path in args.audio:
        text = text_per_file(
            path,
            cache_dir() / "transcripts-raw" / args.encoder,
            ".txt",
            lambda path=path: whisper.transcribe(str(path)),
        )  # type: ignore[attr-defined]
        record: dict[str, object] = {"path": str(path), "text": text.strip()}
        if args.words:
            stored = text_per_file(
                path,
                cache_dir() / "word-timings" / args.encoder,
                ".json",
                lambda path=path: json.dumps(whisper.transcribe_words(str(path))),
            )  # type: ignore[attr-defined]
            record["words"] = [{"word": w, "start": s, "end": e} for w, s, e in json.loads(stored)]
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
            continue
        print(f"{path}: {record['text']}")
        for word in record.get("words", []):  # type: ignore[union-attr]
            print(f"  {word['start']:7.2f} {word['end']:7.2f}  {word['word']}")
    return 0
