"""`bgtai align A B`: align two inputs by DTW (and by a trained DS-Net), print and plot the path.

Each of A and B is an audio file (its Whisper-tiny-en encoder frames, 20 ms each) or a text
(its MiniLM token states, one per token). Both encoders give 384-d vectors, but they are
different spaces, so the cosine costs between a speech frame and a text token mean little
unless a DS-Net trained for that pair of encoders is given with `--dsnet FILE`
(a `torch.save` of `{"config": DSNetConfig fields, "state": state_dict}`). A is the
source (columns), B the target (rows).

A file written by `bgtai eval align --dataset asterisk --save-model FILE` (a Result Filter
trained on speech against words or gloss) also names its inputs; then audio becomes Whisper
frames averaged to 100 ms steps and text becomes its words (or gloss tokens), one MiniLM vector
each, and the printout names each word with its time.

    bgtai align speech.wav "the transcript of the speech" --plot alignment.png
    bgtai align speech.wav "the transcript of the speech" --dsnet result-filter.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bgtai.cli import CommandError

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("align", help="DTW (and DS-Net) alignment of two inputs: audio files or texts")
    parser.add_argument("a", help="source: an audio file or a text")
    parser.add_argument("b", help="target: an audio file or a text")
    parser.add_argument("--metric", choices=("cosine", "euclidean", "sqeuclidean"), default="cosine")
    parser.add_argument("--window", type=int, help="Sakoe-Chiba half-width (steps)")
    parser.add_argument("--dsnet", type=Path, help="a trained DS-Net for these two encoders")
    parser.add_argument("--plot", type=Path, default=Path("alignment.png"), help="PNG to write (default alignment.png)")
    parser.set_defaults(func=run)


def _sequence(value: str) -> tuple[str, np.ndarray]:
    """(label, (T, D) features) of an audio file or a text."""
    import bgtai

    path = Path(value)
    if path.suffix.lower() in AUDIO_SUFFIXES:
        if not path.is_file():
            raise CommandError(f"{value}: no such audio file")
        batch = bgtai.encode_sequence("audio", [path], encoder="whisper-tiny-en")
        return f"{path.name} (Whisper-tiny-en frames, 20 ms)", batch.features[0]
    if not value.strip():
        raise CommandError("an input text is empty")
    batch = bgtai.encode_sequence("text", [value], encoder="minilm")
    return "text (MiniLM tokens)", batch.features[0]


def _speech_and_text(value: str, inputs: dict) -> tuple[str, np.ndarray]:
    """Audio as a saved speech aligner reads it: its encoder's frames averaged over its pool."""
    import bgtai
    from bgtai.align.speech_words import pool_frames

    path = Path(value)
    if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
        raise CommandError(f"{value}: this aligner takes an audio file as A")
    audio = inputs["audio"]
    frames = bgtai.encode_sequence("audio", [path], encoder=audio["encoder"]).features[0]
    return f"{path.name} ({audio['encoder']} frames, {audio['pool'] * 20} ms steps)", pool_frames(frames, audio["pool"])


def _text_tokens(value: str, inputs: dict) -> tuple[str, np.ndarray, list[str]]:
    from bgtai.align.speech_words import text_tokens

    try:
        tokens, vectors = text_tokens(value, inputs["text"])
    except ValueError as error:
        raise CommandError(str(error)) from error
    return f"text ({inputs['text']}: {' '.join(tokens)})", vectors, tokens


def run(args: argparse.Namespace) -> int:
    import torch

    from bgtai.align.dsnet import DSNet, DSNetConfig, path_indices
    from bgtai.align.dtw import dtw

    saved = torch.load(args.dsnet, map_location="cpu", weights_only=False) if args.dsnet is not None else None
    inputs = saved.get("inputs") if isinstance(saved, dict) else None
    tokens: list[str] | None = None
    if inputs:
        (label_a, a), (label_b, b, tokens) = _speech_and_text(args.a, inputs), _text_tokens(args.b, inputs)
    else:
        label_a, a = _sequence(args.a)
        label_b, b = _sequence(args.b)
    result = dtw(a, b, metric=args.metric, window=args.window)
    print(f"A: {label_a}, {len(a)} steps; B: {label_b}, {len(b)} steps")
    print(f"DTW ({args.metric}): cost {result.cost:.4f}, path of {len(result.path)} cells, "
          f"mean cost per cell {result.cost / len(result.path):.4f}")
    per_b = [result.path[result.path[:, 1] == q, 0] for q in range(len(b))]
    print("B step -> A steps: " + ", ".join(f"{q}:{r.min()}-{r.max()}" for q, r in enumerate(per_b)))
    dsnet_path = None
    if saved is not None:
        model = DSNet(DSNetConfig(**saved["config"]))
        model.load_state_dict(saved["state"])
        a_hat, _ = model.align(a, b, strict=len(a) >= len(b) and tokens is not None)
        dsnet_path = path_indices(a_hat)
        if tokens is not None:
            step = inputs["audio"]["pool"] * 0.02
            print("DS-Net: " + ", ".join(f"{w}@{t * step:.1f}s" for w, t in zip(tokens, dsnet_path)))
        else:
            print("DS-Net: B step -> A step: " + ", ".join(f"{q}:{t}" for q, t in enumerate(dsnet_path)))
    _plot(args.plot, a, b, result.path, dsnet_path, args.metric, label_a, label_b)
    print(f"wrote {args.plot}")
    return 0


def _plot(path: Path, a: np.ndarray, b: np.ndarray, dtw_path: np.ndarray, dsnet_path: np.ndarray | None,
          metric: str, label_a: str, label_b: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bgtai.align.dtw import pairwise_cost

    figure, axis = plt.subplots(figsize=(8, 5))
    image = axis.imshow(pairwise_cost(b, a, metric), aspect="auto", origin="lower", cmap="viridis")
    figure.colorbar(image, ax=axis, label=f"{metric} cost")
    axis.plot(dtw_path[:, 0], dtw_path[:, 1], color="white", linewidth=1.5, label="DTW")
    if dsnet_path is not None:
        axis.plot(dsnet_path, np.arange(len(dsnet_path)), "o", color="red", markersize=4, label="DS-Net")
    axis.set_xlabel(f"A: {label_a}")
    axis.set_ylabel(f"B: {label_b}")
    axis.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
