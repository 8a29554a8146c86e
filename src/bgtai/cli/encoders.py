"""`bgtai encoders`: the registered encoders, their dimension and whether their weights are here.

Builds each encoder (constructors are cheap) but loads no weights: `weights_present()`
only checks that the files are there.
"""

from __future__ import annotations

import argparse

from bgtai.cli import format_table
from bgtai.encoders.base import MODALITIES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("encoders", help="list the encoders: modality, dimension, weights present")
    parser.add_argument("--modality", choices=MODALITIES, help="only this modality")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.encoders.registry import DEFAULT_ENCODER, get_encoder, modality_of, names

    rows = []
    for name in names(args.modality):
        modality = modality_of(name)
        try:
            encoder = get_encoder(name)
        except ImportError as error:
            # one encoder whose package is missing must not hide the others
            rows.append([name, modality, "?", "no", f"cannot be built: {error}"])
            continue
        default = " (default)" if DEFAULT_ENCODER.get(modality) == name else ""
        present = "yes" if encoder.weights_present() else "no"
        rows.append([name, modality, encoder.dim, present, encoder.description + default])
    print(format_table(["name", "modality", "dim", "weights", "description"], rows))
    print("\nany transformers model also works as hf:<hub id or local folder>[#modality]")
    return 0
