"""`bgtai align SPEECH "TRANSCRIPT"`: each word of the transcript with its start and end time in seconds.

The times come from Whisper tiny.en's word timestamps (faster-whisper), matched to the given
transcript word by word (`bgtai.align.word_times`: a misheard word keeps the time of what was
heard in its place; a word not heard gets a time shared out of its neighbours', and is marked).
These are the baseline, and the times the Result Filter was trained to find.

    bgtai align speech.flac "the transcript of the speech"                  # a table of words and seconds
    bgtai align speech.flac "the transcript of the speech" --plot words.png  # and the words over the waveform
    bgtai align speech.flac "the transcript of the speech" --dsnet rf.pt     # and the Result Filter's times

`--dsnet FILE` takes an aligner written by `bgtai eval align --dataset asterisk --save-model FILE`
(a Result Filter, or DS-Net trained on word times): it places each word at one 100 ms step of
the speech (Whisper encoder frames against the words' MiniLM vectors, no transcription), and the
table shows that time beside the baseline's midpoint.

Two audio files, or two texts, are aligned as sequences by DTW instead (Whisper frames, 20 ms
each, or MiniLM token states): the path is printed, and plotted over the cost map with `--plot`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.cli import CommandError, format_table

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a"}
STATUS_NOTES = {
    "misheard": "Whisper heard another word in its place; that word's time is used",
    "interpolated": "no single word heard for it; its time is shared out of its neighbours'",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "align", help="word times of speech against its transcript (or DTW between two audio files or two texts)"
    )
    parser.add_argument("a", help="speech: an audio file (or, for DTW, an audio file or a text)")
    parser.add_argument("b", help="its transcript (or, for DTW, an audio file or a text)")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE", help="write a PNG: the words on a time axis over the waveform"
    )
    parser.add_argument(
        "--dsnet",
        type=Path,
        metavar="FILE",
        help="an aligner from `bgtai eval align --dataset asterisk --save-model FILE`: "
        "print its word times beside Whisper's",
    )
    parser.add_argument(
        "--metric",
        choices=("cosine", "euclidean", "sqeuclidean"),
        default="cosine",
        help="DTW of two audio files or two texts only",
    )
    parser.add_argument("--window", type=int, help="DTW of two audio files or two texts only: Sakoe-Chiba half-width")
    parser.set_defaults(func=run)


def _is_audio(value: str) -> bool:
    return Path(value).suffix.lower() in AUDIO_SUFFIXES


def _status(message: str) -> None:
    """A progress line for a slow step, on stderr so the table on stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


def _check_inputs(args: argparse.Namespace) -> None:
    """Fail before any model loads: missing files, an empty text, a plot path that cannot be written."""
    for value in (args.a, args.b):
        if _is_audio(value) and not Path(value).is_file():
            raise CommandError(f"{value}: no such audio file")
        if not _is_audio(value) and not value.strip():
            raise CommandError("an input text is empty")
    if args.plot is not None:
        if args.plot.is_dir():
            raise CommandError(f"--plot {args.plot}: is a folder; give a file name such as words.png")
        parent = next((p for p in args.plot.absolute().parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise CommandError(f"--plot {args.plot}: {parent} is a file, not a folder")
    if args.dsnet is not None and not args.dsnet.is_file():
        raise CommandError(
            f"--dsnet {args.dsnet}: no such file "
            "(write one with `bgtai eval align --dataset asterisk --save-model FILE`)"
        )


def run(args: argparse.Namespace) -> int:
    _check_inputs(args)
    if _is_audio(args.a) != _is_audio(args.b):
        speech, text = (args.a, args.b) if _is_audio(args.a) else (args.b, args.a)
        return run_words(Path(speech), text, args.plot, args.dsnet)
    return run_sequences(args)


# --- speech against its transcript: word times ------------------------------------------------


def run_words(speech: Path, text: str, plot: Path | None, dsnet: Path | None) -> int:
    from bgtai.align.speech_words import word_timings
    from bgtai.align.word_times import match_words, transcript_words
    from bgtai.errors import BadInputError
    from bgtai.io.audio import load_audio

    words = transcript_words(text)
    if not words:
        raise CommandError(f"no words in the transcript {text!r}")
    try:
        audio = load_audio(speech)
    except BadInputError as error:
        raise CommandError(str(error)) from error
    duration = len(audio.samples) / audio.sample_rate
    heard = word_timings([speech], status=_status)[0]
    times = match_words(words, heard, duration)
    aligner = _aligner_times(dsnet, speech, text, len(words)) if dsnet is not None else None

    counts = {s: sum(t.status == s for t in times) for s in ("heard", "misheard", "interpolated")}
    print(f"Whisper heard: {' '.join(w for w, _, _ in heard) or '(nothing)'}")
    print(
        f"{speech.name}: {duration:.2f} s, {len(times)} words ({counts['heard']} heard, "
        f"{counts['misheard']} misheard, {counts['interpolated']} interpolated)"
    )
    headers = ["#", "word", "start s", "end s", "how", "heard"]
    rows: list[list[Any]] = [
        [
            k + 1,
            t.word,
            f"{t.start:.2f}",
            f"{t.end:.2f}",
            t.status,
            "" if t.heard is None or t.status == "heard" else t.heard,
        ]
        for k, t in enumerate(times)
    ]
    if aligner is not None and aligner[0] == "words":
        headers += [f"{aligner[1]} s", f"{aligner[1]} - Whisper mid"]
        for row, t, at in zip(rows, times, aligner[3]):
            row += [f"{at:.2f}", f"{at - (t.start + t.end) / 2:+.2f}"]
    print(format_table(headers, rows))
    for status, note in STATUS_NOTES.items():
        if counts[status]:
            print(f"{status}: {note}")
    if aligner is not None:
        kind, name, tokens, at = aligner
        if kind == "words":
            errors = np.abs(at - np.array([(t.start + t.end) / 2 for t in times]))
            print(
                f"{name}: one 100 ms step per word, its centre shown; mean |{name} - Whisper midpoint| "
                f"{errors.mean():.2f} s, {np.mean(errors <= 0.1):.0%} of words within 0.1 s"
            )
        else:
            print(
                f"{name} (gloss tokens, each at its step's centre): "
                + ", ".join(f"{token} {time:.2f}s" for token, time in zip(tokens, at))
            )
    if plot is not None:
        _plot_words(
            plot,
            audio.samples,
            audio.sample_rate,
            times,
            speech.name,
            aligner[1:] if aligner is not None and aligner[0] == "words" else None,
        )
        print(f"wrote plot: {plot.resolve()}")
    return 0


def _aligner_times(path: Path, speech: Path, text: str, n_words: int) -> tuple[str, str, list[str], np.ndarray]:
    """(kind 'words' or 'gloss', a name for it, its tokens, their times) from a saved aligner."""
    from bgtai.align.speech_words import aligner_times, load_aligner
    from bgtai.errors import BadInputError

    _status(f"loading the aligner {path} ...")
    try:
        model, inputs = load_aligner(path)
    except BadInputError as error:
        raise CommandError(str(error)) from error
    _status(f"aligning: {inputs['audio']['encoder']} frames of {speech.name} against the {inputs['text']} (MiniLM) ...")
    tokens, times = aligner_times(model, inputs, speech, text)
    kind = "words" if inputs["text"] == "words" else "gloss"
    if kind == "words" and len(tokens) != n_words:  # both split the text the same way; a guard, not a case
        raise CommandError(f"{path}: the aligner read {len(tokens)} words, the table has {n_words}")
    return kind, "DS-Net", tokens, times


def _plot_words(
    path: Path,
    samples: np.ndarray,
    rate: int,
    times: list,
    title: str,
    aligner: tuple[str, list[str], np.ndarray] | None,
) -> None:
    """The waveform against seconds, each word's span shaded and labelled (colour: how it was timed)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bgtai.atomic import write_bytes

    colours = {"heard": "tab:green", "misheard": "tab:orange", "interpolated": "tab:red"}
    seconds = np.arange(len(samples)) / rate
    figure, axis = plt.subplots(figsize=(max(8.0, 1.2 * seconds[-1] if len(seconds) else 8.0), 3.5))
    axis.plot(seconds, samples, color="0.55", linewidth=0.5)
    peak = float(np.max(np.abs(samples))) or 1.0
    for k, t in enumerate(times):
        axis.axvspan(t.start, t.end, color=colours[t.status], alpha=0.18, linewidth=0)
        axis.axvline(t.start, color=colours[t.status], linewidth=0.6)
        height = peak * (1.05 if k % 2 == 0 else 0.85)  # alternate rows so neighbours' labels do not overlap
        axis.text((t.start + t.end) / 2, height, t.word, ha="center", va="bottom", fontsize=8, color=colours[t.status])
    if aligner is not None:
        name, _, at = aligner
        axis.plot(
            at, np.full(len(at), -peak * 1.05), "v", color="tab:blue", markersize=6, label=f"{name} (step centre)"
        )
    for status, colour in colours.items():
        if any(t.status == status for t in times):
            axis.plot([], [], color=colour, linewidth=6, alpha=0.4, label=f"Whisper: {status}")
    axis.set_ylim(-peak * 1.25, peak * 1.35)
    axis.set_xlim(0, seconds[-1] if len(seconds) else 1.0)
    axis.set_xlabel("time (s)")
    axis.set_yticks([])
    axis.set_title(f"{title}: word times")
    # below the time axis, where it hides no word and no marker
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=7, ncol=4, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    write_bytes(path, buffer.getvalue())


# --- two audio files or two texts: DTW between their sequences --------------------------------


def _sequence(value: str) -> tuple[str, np.ndarray]:
    """(label, (T, D) features) of an audio file or a text."""
    import bgtai

    if _is_audio(value):
        _status(f"encoding {Path(value).name} (Whisper-tiny-en frames) ...")
        batch = bgtai.encode_sequence("audio", [Path(value)], encoder="whisper-tiny-en", progress=False)
        return f"{Path(value).name} (Whisper-tiny-en frames, 20 ms)", batch.features[0]
    _status("encoding the text (MiniLM tokens) ...")
    batch = bgtai.encode_sequence("text", [value], encoder="minilm", progress=False)
    return "text (MiniLM tokens)", batch.features[0]


def run_sequences(args: argparse.Namespace) -> int:
    from bgtai.align.dtw import dtw

    dsnet = None
    if args.dsnet is not None:
        import torch

        from bgtai.align.dsnet import DSNet, DSNetConfig

        saved = torch.load(args.dsnet, map_location="cpu", weights_only=False)
        if not isinstance(saved, dict) or "config" not in saved or "state" not in saved:
            raise CommandError(f"--dsnet {args.dsnet}: not a saved DS-Net ({{'config': ..., 'state': ...}})")
        if saved.get("inputs"):
            raise CommandError(
                f"--dsnet {args.dsnet}: a speech-to-{saved['inputs']['text']} aligner; "
                "give it an audio file and its transcript"
            )
        dsnet = DSNet(DSNetConfig(**saved["config"]))
        dsnet.load_state_dict(saved["state"])
    label_a, a = _sequence(args.a)
    label_b, b = _sequence(args.b)
    result = dtw(a, b, metric=args.metric, window=args.window)
    print(f"A: {label_a}, {len(a)} steps; B: {label_b}, {len(b)} steps")
    print(
        f"DTW ({args.metric}): cost {result.cost:.4f}, path of {len(result.path)} cells, "
        f"mean cost per cell {result.cost / len(result.path):.4f}"
    )
    per_b = [result.path[result.path[:, 1] == q, 0] for q in range(len(b))]
    print("B step -> A steps: " + ", ".join(f"{q}:{r.min()}-{r.max()}" for q, r in enumerate(per_b)))
    dsnet_path = None
    if dsnet is not None:
        from bgtai.align.dsnet import path_indices

        dsnet_path = path_indices(dsnet.align(a, b)[0])
        print("DS-Net: B step -> A step: " + ", ".join(f"{q}:{t}" for q, t in enumerate(dsnet_path)))
    if args.plot is not None:
        _plot_cost(args.plot, a, b, result.path, dsnet_path, args.metric, label_a, label_b)
        print(f"wrote plot: {args.plot.resolve()}")
    return 0


def _plot_cost(
    path: Path,
    a: np.ndarray,
    b: np.ndarray,
    dtw_path: np.ndarray,
    dsnet_path: np.ndarray | None,
    metric: str,
    label_a: str,
    label_b: str,
) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bgtai.align.dtw import pairwise_cost
    from bgtai.atomic import write_bytes

    figure, axis = plt.subplots(figsize=(8, 5))
    image = axis.imshow(pairwise_cost(b, a, metric), aspect="auto", origin="lower", cmap="viridis")
    figure.colorbar(image, ax=axis, label=f"{metric} cost")
    axis.plot(dtw_path[:, 0], dtw_path[:, 1], color="white", linewidth=1.5, label="DTW")
    if dsnet_path is not None:
        axis.plot(dsnet_path, np.arange(len(dsnet_path)), "o", color="red", markersize=4, label="DS-Net")
    axis.set_xlabel(f"A: {label_a}")
    axis.set_ylabel(f"B: {label_b}")
    axis.legend(loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    plt.close(figure)
    write_bytes(path, buffer.getvalue())
