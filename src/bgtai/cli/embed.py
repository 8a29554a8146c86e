"""`bgtai embed {text,audio,image} INPUT... --out FILE.npy` and `bgtai embed merge OUT.npy SHARD.npy...`.

Output: FILE.npy holds one L2-normalised row per good input, in input order, written
atomically; FILE.json beside it records the encoder, its settings, every input, which input
each row belongs to (`rows`: positions in `inputs`) and the bad inputs with their problems.

Bad inputs: without `--skip-bad` every input is tried, each bad one is listed and nothing
is written (exit code 2). With `--skip-bad` the bad inputs get no row (the .npy holds the
good rows only, in input order; `rows` in the sidecar maps them back) and are listed at the
end. Text inputs are the arguments themselves, or the lines of `--from-file` (one input per
line, so row i is line i when nothing is bad). Audio and image arguments are files; a
folder stands for its audio (or image) files, recursively, sorted by path.

Sharding: `--shard i/n` embeds inputs i, i+n, i+2n, ... of the full list (round-robin), so n
processes can share a job; `bgtai embed merge` puts their outputs back into input order.

Joint space: `--model DIR` (a trained model folder, e.g. runs/NAME/best) embeds through
`bgtai.load_model(DIR).encode(modality, inputs)` instead of a raw encoder: the rows are the
model's unit-norm d-dimensional joint embeddings, so texts, audio and images embedded with
the same model can be compared directly. Bad inputs, `--skip-bad`, `--from-file` and
`--shard` work as above; `--encoder` and `--no-normalize` do not apply.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bgtai.cli import CommandError
from bgtai.encoders.base import MODALITIES
from bgtai.errors import BadInputError, BadItem, BadItemsError

if TYPE_CHECKING:
    from bgtai.model.joint import JointModel

SIDECAR_FORMAT = "bgtai-embed/1"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("embed", help="embed texts, audio or images into a .npy matrix")
    parser.set_defaults(func=_usage, embed_parser=parser)
    kinds = parser.add_subparsers(dest="embed_kind", metavar="{text,audio,image,merge}")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="*", metavar="INPUT", help="texts, or audio/image files and folders")
    common.add_argument(
        "--out", type=Path, required=True, help="the .npy file to write (a .json sidecar goes beside it)"
    )
    common.add_argument("--encoder", help="encoder name (see `bgtai encoders`); default: the modality's default")
    common.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="embed into a trained joint model's space (a folder such as runs/NAME/best) instead of with a raw encoder",
    )
    common.add_argument("--from-file", type=Path, help="read inputs from this file, one per line ('-': stdin)")
    common.add_argument("--batch-size", type=int, default=32, help="inputs per model batch (default 32)")
    common.add_argument("--skip-bad", action="store_true", help="leave bad inputs out instead of failing")
    common.add_argument("--shard", type=_shard, metavar="i/n", help="embed only inputs i, i+n, i+2n, ... (0 <= i < n)")
    common.add_argument("--no-cache", action="store_true", help="neither read nor write the feature cache")
    common.add_argument("--no-normalize", action="store_true", help="keep pooled vectors at their own length")
    common.add_argument("--workers", type=int, help="decoding threads (default: up to 4 for audio/images)")
    for modality in MODALITIES:
        sub = kinds.add_parser(modality, parents=[common], help=f"embed {modality} inputs")
        sub.set_defaults(func=run, modality=modality)

    merge = kinds.add_parser("merge", help="merge the outputs of `--shard i/n` runs into one file, in input order")
    merge.add_argument("out", type=Path, metavar="OUT.npy")
    merge.add_argument("shards", type=Path, nargs="+", metavar="SHARD.npy")
    merge.set_defaults(func=run_merge)


def _usage(args: argparse.Namespace) -> int:
    args.embed_parser.print_help(sys.stderr)
    return 2


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected i/n such as 0/4, got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"shard {text!r}: need 0 <= i < n")
    return index, count


def run(args: argparse.Namespace) -> int:
    from bgtai.embed import encode_with_report

    out = _output_path(args.out)
    inputs = gather_inputs(args.modality, args.inputs, args.from_file)
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.model is not None:
        return _run_model(args, out, inputs)
    _check_encoder(args.encoder, args.modality)
    result = encode_with_report(
        args.modality,
        inputs,
        encoder=args.encoder,
        batch_size=args.batch_size,
        normalize=not args.no_normalize,
        cache=not args.no_cache,
        shard=args.shard,
        workers=args.workers,
    )
    if result.bad and not args.skip_bad:
        raise BadItemsError(result.bad)
    sidecar = {
        "format": SIDECAR_FORMAT,
        "modality": args.modality,
        "encoder": result.encoder,
        "settings": result.settings,
        "dim": int(result.vectors.shape[1]),
        "normalized": not args.no_normalize,
        "shard": list(args.shard) if args.shard else None,
        "inputs": [str(item) for item in inputs],
        "rows": [int(i) for i in result.indices[result.ok]],
        "bad": [_bad_json(b) for b in result.bad],
        "from_cache": result.from_cache,
        "computed": result.computed,
    }
    _write(out, result.vectors[result.ok], sidecar)
    shard_note = f", shard {args.shard[0]}/{args.shard[1]}" if args.shard else ""
    print(
        f"wrote {out}: {int(result.ok.sum())} x {result.vectors.shape[1]} ({result.encoder}{shard_note}; "
        f"{result.computed} computed, {result.from_cache} from cache)"
    )
    _list_bad(result.bad)
    return 0


def _run_model(args: argparse.Namespace, out: Path, inputs: list[str]) -> int:
    """`run` with `--model`: the joint model's embeddings (as `JointModel.encode`), keeping the bad-input rules."""
    from bgtai.embed import encode_sequence

    if args.encoder is not None:
        raise CommandError("give --encoder or --model, not both (a joint model has its own front-ends)")
    if args.no_normalize:
        raise CommandError("--no-normalize does not apply to --model: joint embeddings are unit-norm by construction")
    model = _load_joint_model(args.model)
    if args.modality not in model.modalities:
        raise CommandError(f"--model {args.model} embeds {', '.join(model.modalities)}, not {args.modality}")
    grounded = not hasattr(model, "embed_sequences")  # a GroundedModel (bridges + towers): it embeds raw inputs
    if grounded:
        fronts = model.config.front_ends.get(args.modality, ["minilm"])  # type: ignore[union-attr]
        front_end = "+".join(fronts)
    else:
        front_end = model.config.front_ends[args.modality]
    # what JointModel.encode does (front-end sequences, then the trained parts), with skip_bad so that every
    # bad input is listed, and sharding
    batch = encode_sequence(
        args.modality,
        inputs,
        encoder=front_end.split("+")[0],
        batch_size=args.batch_size,
        cache=not args.no_cache,
        skip_bad=True,
        shard=args.shard,
        workers=args.workers,
    )
    if batch.bad and not args.skip_bad:
        raise BadItemsError(batch.bad)
    if grounded:  # the first front-end found the bad inputs; the model embeds the good ones through all of its parts
        vectors = model.encode(args.modality, [inputs[int(i)] for i in batch.indices[batch.ok]])
    else:
        good = [sequence for sequence, ok in zip(batch.features, batch.ok) if ok]
        vectors = model.embed_sequences(args.modality, good)
    folder = str(args.model.resolve())
    sidecar = {
        "format": SIDECAR_FORMAT,
        "modality": args.modality,
        "encoder": f"joint-model:{folder}",
        "settings": {"model": folder, "front_end": front_end},
        "dim": int(model.dim),
        "normalized": True,
        "shard": list(args.shard) if args.shard else None,
        "inputs": [str(item) for item in inputs],
        "rows": [int(i) for i in batch.indices[batch.ok]],
        "bad": [_bad_json(b) for b in batch.bad],
        "from_cache": None,  # the feature cache does not report its hits through encode_sequence
        "computed": None,
    }
    _write(out, vectors, sidecar)
    shard_note = f", shard {args.shard[0]}/{args.shard[1]}" if args.shard else ""
    print(f"wrote {out}: {len(vectors)} x {model.dim} (joint model {args.model}, front-end {front_end}{shard_note})")
    _list_bad(batch.bad)
    return 0


def _load_joint_model(folder: Path) -> JointModel:
    """`bgtai.load_model(folder)`, with a hint when `folder` is a run folder rather than its model."""
    from bgtai.model.joint import CONFIG_FILE, load_model

    if not folder.is_dir():
        raise CommandError(f"--model {folder}: no such folder (give a trained model folder such as runs/NAME/best)")
    try:
        return load_model(folder)
    except BadInputError as error:
        hint = (
            f"; did you mean {folder / 'best'}?"
            if (folder / "best" / CONFIG_FILE).is_file()
            else (" (give a trained model folder such as runs/NAME/best)")
        )
        detail = error.problem if error.source == str(folder) else f"{error.source}: {error.problem}"
        raise CommandError(f"--model {folder}: {detail}{hint}") from error


def run_merge(args: argparse.Namespace) -> int:
    out = _output_path(args.out)
    parts = [_read_output(_npy_path(path)) for path in args.shards]
    first = parts[0][1]
    for path, (_, sidecar) in zip(args.shards, parts):
        if sidecar.get("shard") is None:
            raise CommandError(f"{path}: not the output of a --shard run")
        for field in ("modality", "encoder", "settings", "normalized", "inputs"):
            if sidecar[field] != first[field]:
                raise CommandError(
                    f"{path}: its {field} differ from those of {args.shards[0]}; these shards do not belong together"
                )
    count = first["shard"][1]
    found = sorted(sidecar["shard"][0] for _, sidecar in parts)
    if any(sidecar["shard"][1] != count for _, sidecar in parts) or found != list(range(count)):
        raise CommandError(f"need exactly the shards 0..{count - 1} of {count}, got {', '.join(str(i) for i in found)}")
    rows = np.concatenate([np.asarray(sidecar["rows"], dtype=np.int64) for _, sidecar in parts])
    vectors = np.concatenate([array for array, _ in parts])
    order = np.argsort(rows, kind="stable")
    bad = sorted((b for _, sidecar in parts for b in sidecar["bad"]), key=lambda b: b["index"])
    merged = {
        **first,
        "shard": None,
        "rows": rows[order].tolist(),
        "bad": bad,
        "from_cache": _total(sidecar["from_cache"] for _, sidecar in parts),
        "computed": _total(sidecar["computed"] for _, sidecar in parts),
        "merged_from": [str(path) for path in args.shards],
    }
    _write(out, vectors[order], merged)
    print(f"wrote {out}: {len(order)} x {vectors.shape[1]} merged from {count} shards")
    _list_bad([BadItem(b["index"], b["source"], b["problem"]) for b in bad])
    return 0


def _total(counts: Any) -> int | None:
    """The sum of the shards' counts, or None when a shard did not count (a --model run)."""
    values = list(counts)
    return None if any(v is None for v in values) else sum(values)


def _check_encoder(name: str | None, modality: str) -> None:
    """A clear message for an unknown encoder or one of another modality, before any work."""
    from bgtai.encoders.registry import modality_of, names

    if name is None or name.startswith("hf:"):
        return
    if name not in names():
        raise CommandError(f"unknown encoder {name!r}; known: {', '.join(names())} (or hf:<id or folder>)")
    if modality_of(name) != modality:
        raise CommandError(f"encoder {name!r} embeds {modality_of(name)}, not {modality}; see `bgtai encoders`")


def gather_inputs(modality: str, arguments: list[str], from_file: Path | None) -> list[str]:
    """The inputs in order: the arguments (folders expanded for audio/images), then the file's lines."""
    inputs: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if modality != "text" and path.is_dir():
            inputs.extend(str(p) for p in _media_files(path, modality))
        else:
            inputs.append(argument)
    if from_file is not None:
        inputs.extend(_read_lines(from_file))
    if not inputs and from_file is not None:
        raise BadInputError(
            "<stdin>" if str(from_file) == "-" else str(from_file), "no inputs: the input list is empty"
        )
    if not inputs:
        raise CommandError("no inputs: give them as arguments or with --from-file")
    return inputs


def _media_files(folder: Path, modality: str) -> list[Path]:
    # the API's rule too (`bgtai.encode("audio", "DIR")`): one function, so the two cannot differ
    from bgtai.io.media_files import media_files

    return media_files(folder, modality)


def _read_lines(path: Path) -> list[str]:
    if str(path) == "-":
        return sys.stdin.read().splitlines()
    if path.is_dir():
        raise BadInputError(str(path), "is a folder; --from-file takes a text file with one input per line")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInputError(str(path), "input list not found") from None
    except OSError as error:
        raise BadInputError(str(path), f"cannot read the input list ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise BadInputError(str(path), f"input list is not UTF-8 text ({error.reason} at byte {error.start})") from None


def _npy_path(path: Path) -> Path:
    if path.suffix != ".npy":
        raise CommandError(f"{path}: expected a .npy file name")
    return path


def _output_path(path: Path) -> Path:
    """The `--out` .npy path, checked before any work: it and its .json sidecar must be writable files."""
    from bgtai.atomic import check_target

    path = _npy_path(path)
    check_target(path)
    check_target(path.with_suffix(".json"))
    return path


def _read_output(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    sidecar_path = path.with_suffix(".json")
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError as error:
        raise BadInputError(str(error.filename), "not found (run `bgtai embed ... --shard i/n` first)") from None
    except (ValueError, OSError) as error:
        raise BadInputError(str(path), f"cannot read this embedding output ({error})") from None
    if sidecar.get("format") != SIDECAR_FORMAT or len(sidecar.get("rows", ())) != len(array):
        raise BadInputError(str(path), f"{sidecar_path.name} is not a matching {SIDECAR_FORMAT} sidecar")
    return array, sidecar


def _write(out: Path, vectors: np.ndarray, sidecar: dict[str, Any]) -> None:
    from bgtai.atomic import write_text
    from bgtai.cache import save_npy_atomic

    save_npy_atomic(out, vectors.astype(np.float32))
    write_text(out.with_suffix(".json"), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")


def _bad_json(item: BadItem) -> dict[str, Any]:
    return {"index": item.index, "source": item.source, "problem": item.problem}


def _list_bad(bad: list[BadItem]) -> None:
    if not bad:
        return
    print(f"skipped {len(bad)} bad input(s):", file=sys.stderr)
    for item in bad:
        print(f"  [{item.index}] {item.source}: {item.problem}", file=sys.stderr)
