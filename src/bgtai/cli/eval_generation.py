"""`bgtai eval generation`: the automatic measures of `bgtai.eval.generation`, written as a result JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from bgtai.cli import CommandError

PROTOCOL = (
    "two-choice on ESC-50 fold 4 sounds of the classes ImageNet names (judge: bridges-only space); "
    "rerank of N candidates by the joint model; EfficientNet-Lite0 Fréchet distance and paired test on "
    "Tux Paint test sounds against held-out real pictures"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generation",
        help="audio-driven generation: two-choice test, rerank gain, "
        "EfficientNet Fréchet distance, with a shuffled-conditioning control",
    )
    parser.add_argument("--model", type=Path, help="joint model (default $BGTAI_MODEL, else runs/default/best)")
    parser.add_argument(
        "--generator", help="generator folder, diffusers pipeline or `tiny` (default runs/generator/model)"
    )
    parser.add_argument("--per-class", type=int, default=2, help="ESC-50 clips per class (default 2)")
    parser.add_argument("-n", "--candidates", type=int, default=8, help="pictures per sound, reranked (default 8)")
    parser.add_argument(
        "--tuxpaint-sounds",
        type=int,
        default=40,
        help="Tux Paint test sounds for the distances (default 40; 0 skips them)",
    )
    parser.add_argument(
        "--reference-pictures",
        type=int,
        default=0,
        help="real pictures per side of the Fréchet distance (default 0: all held-out ones)",
    )
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--prior",
        choices=("none", "nearest"),
        default="none",
        help="nearest: replace the condition by the mix of its nearest training pictures' vectors "
        "before decoding (the decoder saw only picture vectors); default none",
    )
    parser.add_argument("--json", type=Path, help="write the result record here")
    parser.add_argument("--figure", type=Path, help="write a contact sheet of sounds -> ranked pictures here (PNG)")
    parser.add_argument("--figure-rows", type=int, default=12, help="sounds in the figure (default 12)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bgtai.atomic import check_target
    from bgtai.eval.generation import GenerationSettings, evaluate_distances, evaluate_two_choice
    from bgtai.eval.results import EvalRecord, current_command, write_result
    from bgtai.generate.choose import DEFAULT_MODEL, MODEL_ENV, default_folder, load_generator, reads_prompts
    from bgtai.model.joint import load_model

    for target in (args.json, args.figure):
        if target is not None:
            check_target(target)
    if args.per_class < 1 or args.candidates < 1:
        raise CommandError("--per-class and -n must be at least 1")
    model_dir = args.model or default_folder(DEFAULT_MODEL, MODEL_ENV)
    if model_dir is None or not Path(model_dir).is_dir():
        raise CommandError(f"{model_dir or DEFAULT_MODEL}: no joint model; give --model DIR")
    model = load_model(model_dir)
    generator = load_generator(args.generator, args.steps, args.guidance)
    if args.prior == "nearest":
        from bgtai.generate.prior import WithPrior, picture_prior

        generator = WithPrior(generator, picture_prior(model))
    prompts = _prompt_maker(model) if reads_prompts(generator) else None
    settings = GenerationSettings(
        args.per_class, args.candidates, args.tuxpaint_sounds, args.seed, args.reference_pictures
    )
    metrics, details, figure = evaluate_two_choice(model, generator, settings, prompts)
    if settings.tuxpaint_sounds:
        distances, more = evaluate_distances(model, generator, settings, prompts)
        metrics.update(distances)
        details.update(more)
    details.update(
        {
            "generator": generator.name,
            "steps": args.steps,
            "guidance": args.guidance,
            "candidates": args.candidates,
            "settings": asdict(settings),
        }
    )
    for name, value in metrics.items():
        print(f"{name:28s} {value:.4f}")
    if args.figure is not None:
        from bgtai.generate.base import ScoredImage
        from bgtai.generate.sheet import contact_sheet

        step = max(1, len(figure) // max(1, args.figure_rows))
        rows = []
        for label, images, scores in figure[::step][: args.figure_rows]:
            order = sorted(range(len(images)), key=lambda i: -float(scores[i]))
            rows.append((label, [ScoredImage(images[i], float(scores[i]), i) for i in order]))
        print(
            f"figure: {contact_sheet(rows, args.figure, f'ESC-50 sounds -> {generator.name}, ranked by the joint space')}"
        )
    if args.json is not None:
        if args.figure is not None:
            details["figure"] = str(args.figure)
        record = EvalRecord(
            "generation",
            "esc50+tuxpaint",
            PROTOCOL,
            f"{model_dir} + {generator.name}",
            metrics,
            current_command(),
            details,
        )
        print(f"wrote {write_result(record, args.json)}")
    return 0


def _prompt_maker(model: object):
    from bgtai.generate.prompts import sound_prompts

    def make(vector):
        return tuple(prompt for prompt, _ in sound_prompts(model, vector, 3))

    return make
