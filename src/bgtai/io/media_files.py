"""A folder given as audio or image input stands for its audio (or image) files.

One rule for the API (`bgtai.encode("audio", "clips/")`) and the CLI (`bgtai embed audio clips/`):
the folder's files with a known suffix, recursively, sorted by path, each one input (one row);
a folder with none of them is a bad input naming the folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bgtai.errors import BadInputError
from bgtai.io.audio import AUDIO_SUFFIXES

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def suffixes_of(modality: str) -> tuple[str, ...]:
    return AUDIO_SUFFIXES if modality == "audio" else IMAGE_SUFFIXES


def media_files(folder: Path, modality: str) -> list[Path]:
    """The audio (or image) files under `folder`, recursively, sorted by path."""
    suffixes = suffixes_of(modality)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise BadInputError(str(folder), f"folder holds no {modality} files ({', '.join(suffixes)})")
    return files


def expand_folders(modality: str, items: list[Any]) -> list[Any]:
    """`items` with every folder path (str or PathLike) replaced by its files as str paths; text is left alone."""
    if modality == "text":
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and os.path.isdir(item):
            out.extend(str(path) for path in media_files(Path(item), modality))
        else:
            out.append(item)
    return out
