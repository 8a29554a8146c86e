"""`bgtai generate SOUND | --text T | --image P`: pictures from a sound, ranked by the joint space (UniBriVL Task 2).

Writes OUT/<condition>-<rank>.png, OUT/sheet.png (the ranked candidates with their scores) and
OUT/scores.json; prints the ranking. `--volume 0.25,0.5,1,2` repeats the paper's loudness study
(Fig. 3) on one sound: one sheet row per loudness factor.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

import numpy as np

from bgtai.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="generate pictures from a sound, a sentence or a picture, ranked by the joint space"
    )
    parser.add_argument("sound", nargs="?", type=Path, help="the sound file to generate from")
    parser.add_argument("--text", help="generate from a sentence instead")
    parser.add_argument("--image", type=Path, help="generate variations of a picture instead")
    parser.add_argument("--model", type=Path, help="joint model folder (default $BGTAI_MODEL, else runs/default/best)")
    parser.add_argument(
        "--generator",
        help="a folder from `bgtai train generator` (default $BGTAI_GENERATOR, else "
        "runs/generator/model), a diffusers text-to-image pipeline folder or hub id, or `tiny`",
    )
    parser.add_argument("-n", "--candidates", type=int, default=8, help="pictures to generate and rank (default 8)")
    parser.add_argument("--out", type=Path, default=Path("generated"), help="output folder (default ./generated)")
    parser.add_argument("--volume", help="comma-separated loudness factors for the sound, e.g. 0.25,0.5,1,2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--prior",
        choices=("none", "nearest"),
        default="none",
        help="nearest: replace the condition by the mix of its nearest training pictures' vectors "
        "before decoding (the decoder saw only picture vectors); default none",
    )
    parser.add_argument("--steps", type=int, default=25, help="DDIM steps (default 25)")
    parser.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance scale (default 3)")
    parser.add_argument(
        "--prompts",
        type=int,
        default=3,
        help="for text-to-image pipelines: how many of the sound's nearest labels become prompts",
    )
    parser.set_defaults(func=run)


def _conditions_asked(args: argparse.Namespace) -> str:
    given = [name for name, value in (("sound", args.sound), ("--text", args.text), ("--image", args.image)) if value]
    if len(given) != 1:
        raise CommandError(
            'give exactly one of: a SOUND file, --text "...", --image FILE'
            + (f" (got {', '.join(given)})" if given else "")
        )
    if args.volume and given[0] != "sound":
        raise CommandError("--volume scales a sound: give a SOUND file")
    for name, path in (("sound", args.sound), ("--image", args.image)):
        if path is not None and not path.is_file():
            raise CommandError(f"{path}: no such file ({name})")
    if args.candidates < 1:
        raise CommandError("-n must be at least 1")
    return given[0]


def volume_factors(text: str) -> list[float]:
    try:
        factors = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise CommandError(f"--volume {text!r}: expected comma-separated numbers like 0.25,0.5,1,2") from error
    if not factors or any(not np.isfinite(f) or f <= 0 for f in factors):
        raise CommandError(f"--volume {text!r}: factors must be positive numbers")
    return factors


def scaled_copies(sound: Path, factors: list[float], folder: Path) -> list[Path]:
    """The sound at each loudness factor, as 32-bit float WAV files (no clipping above full scale)."""
    import soundfile

    from bgtai.io.audio import load_audio

    audio = load_audio(sound)
    paths = []
    for factor in factors:
        path = folder / f"{sound.stem}-x{factor:g}.wav"
        soundfile.write(path, np.asarray(audio.samples, dtype=np.float32) * factor, audio.sample_rate, subtype="FLOAT")
        paths.append(path)
    return paths


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "condition"


def run(args: argparse.Namespace) -> int:
    from bgtai.atomic import check_target
    from bgtai.generate.base import Condition
    from bgtai.generate.choose import DEFAULT_MODEL, MODEL_ENV, default_folder, load_generator, reads_prompts
    from bgtai.generate.rerank import rerank
    from bgtai.generate.sheet import contact_sheet
    from bgtai.model.joint import load_model

    kind = _conditions_asked(args)
    factors = volume_factors(args.volume) if args.volume else None
    check_target(args.out, folder=True)
    model_dir = args.model or default_folder(DEFAULT_MODEL, MODEL_ENV)
    if model_dir is None or not Path(model_dir).is_dir():
        raise CommandError(
            f"{model_dir or DEFAULT_MODEL}: no joint model; train one with `bgtai train --recipe default` "
            "or give --model DIR"
        )
    model = load_model(model_dir)
    generator = load_generator(args.generator, args.steps, args.guidance)
    if args.prior == "nearest":
        from bgtai.generate.prior import WithPrior, picture_prior

        generator = WithPrior(generator, picture_prior(model))
    with tempfile.TemporaryDirectory(prefix="bgtai-generate-") as scratch:
        if kind == "sound" and factors:
            inputs, labels, modality = (
                scaled_copies(args.sound, factors, Path(scratch)),
                [f"x{f:g}" for f in factors],
                "audio",
            )
        elif kind == "sound":
            inputs, labels, modality = [args.sound], [args.sound.name], "audio"
        elif kind == "--text":
            inputs, labels, modality = [args.text], [args.text], "text"
        else:
            inputs, labels, modality = [args.image], [args.image.name], "image"
        vectors = model.encode(modality, inputs)
    rows, record = [], []
    args.out.mkdir(parents=True, exist_ok=True)
    loudness = {}
    if factors:  # how much loudness moves the condition at all: the generator can only show what it moves
        reference = vectors[factors.index(1.0)] if 1.0 in factors else vectors[0]
        loudness = {label: float(vector @ reference) for label, vector in zip(labels, vectors)}
        print(
            "cosine of each loudness's vector with the "
            + ("x1" if 1.0 in factors else labels[0])
            + " one: "
            + ", ".join(f"{label} {value:.4f}" for label, value in loudness.items())
        )
    for label, vector in zip(labels, vectors):
        prompts = _prompts(model, vector, args.prompts) if reads_prompts(generator) else ()
        condition = Condition(vector, label, prompts)
        ranked = rerank(model, generator.generate(condition, args.candidates, args.seed), condition)
        rows.append((label, ranked))
        print(f"{label}: " + (f"prompts {list(prompts)}; " if prompts else "") + "ranked by the joint space:")
        for rank, item in enumerate(ranked, start=1):
            path = args.out / f"{_slug(label)}-{rank}.png"
            _save_png(item.image, path)
            print(f"  {rank}. {path}  score {item.score:.4f}  (candidate {item.index})")
            record.append(
                {
                    "condition": label,
                    "rank": rank,
                    "file": path.name,
                    "score": item.score,
                    "candidate": item.index,
                    "prompts": list(prompts),
                }
            )
    title = (
        f"{kind if kind != 'sound' else 'sound'}: {args.sound.name if args.sound else labels[0]} -> {generator.name}"
    )
    sheet = contact_sheet(rows, args.out / "sheet.png", title)
    _write_json(
        args.out / "scores.json",
        {
            "model": str(model_dir),
            "generator": generator.name,
            "seed": args.seed,
            "steps": args.steps,
            "guidance": args.guidance,
            "pictures": record,
            **({"loudness_vector_cosine": loudness} if loudness else {}),
        },
    )
    print(f"contact sheet: {sheet}")
    return 0


def _prompts(model: object, vector: np.ndarray, k: int) -> tuple[str, ...]:
    from bgtai.generate.prompts import sound_prompts

    return tuple(prompt for prompt, _ in sound_prompts(model, vector, k))


def _save_png(image: object, path: Path) -> None:
    import io

    from bgtai.atomic import write_bytes

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")  # type: ignore[attr-defined]
    write_bytes(path, buffer.getvalue())


def _write_json(path: Path, data: dict) -> None:
    from bgtai.atomic import write_bytes

    write_bytes(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
