"""A trained Langue2Gloss on disk: `config.json`, `model.safetensors`, `vocab.json` (target) and `source_vocab.json`.

A folder is written beside its final place and renamed into it, so a reader never sees a
half-written checkpoint. An *ensemble* folder holds only `ensemble.json`: the member folders
(relative to it) and what the ensemble is; `load_members` reads either kind.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model

from bgtai.atomic import replace_folder, temporary_folder, write_text
from bgtai.errors import BadInputError
from bgtai.gloss.model import Langue2Gloss, Langue2GlossConfig
from bgtai.gloss.vocab import Vocab

FILES = ("config.json", "model.safetensors", "vocab.json")
ENSEMBLE_FILE = "ensemble.json"


@dataclass
class GlossCheckpoint:
    model: Langue2Gloss
    vocab: Vocab
    source_vocab: Vocab | None  # for token front-ends (learned embeddings)
    meta: dict[str, Any]


def save_checkpoint(folder: str | Path, checkpoint: GlossCheckpoint) -> Path:
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_folder(folder)
    try:
        config = checkpoint.model.config.to_dict()
        (staging / "config.json").write_text(json.dumps({"model": config, "meta": checkpoint.meta}, indent=2) + "\n")
        # save_model keeps one copy of a table the encoder and decoder share (tie_source)
        save_model(checkpoint.model, str(staging / "model.safetensors"))
        (staging / "vocab.json").write_text(checkpoint.vocab.to_json())
        if checkpoint.source_vocab is not None:
            (staging / "source_vocab.json").write_text(checkpoint.source_vocab.to_json())
        replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load_checkpoint(folder: str | Path) -> GlossCheckpoint:
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing and _is_edit_tagger(folder):
        raise BadInputError(
            str(folder),
            "an edit-tagger folder, not a Langue2Gloss: load it with bgtai.gloss.tagger.EditTagger.load (the CLI does)",
        )
    if missing:
        raise BadInputError(str(folder), f"not a gloss model folder: missing {', '.join(missing)}")
    try:
        data = json.loads((folder / "config.json").read_text())
        config = Langue2GlossConfig.from_dict(data["model"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise BadInputError(str(folder / "config.json"), f"unreadable model config ({error})") from error
    model = Langue2Gloss(config)
    load_model(model, str(folder / "model.safetensors"))
    model.eval()
    vocab = Vocab.from_json((folder / "vocab.json").read_text())
    source_path = folder / "source_vocab.json"
    source_vocab = Vocab.from_json(source_path.read_text()) if source_path.is_file() else None
    return GlossCheckpoint(model, vocab, source_vocab, dict(data.get("meta", {})))


def _is_edit_tagger(folder: Path) -> bool:
    # read here rather than imported from bgtai.gloss.tagger: that module pulls in the rule glosser's lexicon
    try:
        return json.loads((folder / "config.json").read_text()).get("kind") == "gloss-edit-tagger"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def save_ensemble(folder: str | Path, members: list[Path], meta: dict[str, Any]) -> Path:
    """Write `folder/ensemble.json` naming `members` (checkpoint folders) relative to `folder`, atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    relative = [os.path.relpath(Path(member).resolve(), folder.resolve()) for member in members]
    write_text(folder / ENSEMBLE_FILE, json.dumps({"members": relative, "meta": meta}, indent=2) + "\n")
    return folder


def load_members(folder: str | Path) -> tuple[list[GlossCheckpoint], dict[str, Any]]:
    """The checkpoints a model folder decodes with (one, or an ensemble's members) and the folder's meta."""
    folder = Path(folder)
    index = folder / ENSEMBLE_FILE
    if not index.is_file():
        checkpoint = load_checkpoint(folder)
        return [checkpoint], checkpoint.meta
    try:
        data = json.loads(index.read_text())
        names = [str(name) for name in data["members"]]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise BadInputError(str(index), f"unreadable ensemble ({error})") from error
    if not names:
        raise BadInputError(str(index), "an ensemble needs at least one member")
    members = [load_checkpoint(folder / name) for name in names]
    return members, dict(data.get("meta", {}))


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
