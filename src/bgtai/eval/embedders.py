"""What `--model PATH_OR_NAME` means for zero-shot and retrieval evaluation.

A path is a trained joint model, loaded with `bgtai.load_model`; `bridges` is the untrained
concept-bridge space (`bgtai.bridges.BridgeSpace`), the baseline beside every trained model. A name is a raw frozen
encoder from the registry: it embeds one modality only, so it serves same-modality
retrieval (Tux Paint speech -> sound, both audio) and nothing cross-modal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.eval.zeroshot import JointEmbedder


class ModelUnavailableError(RuntimeError):
    """The requested model cannot do this evaluation (missing, or the wrong modalities)."""


class RawEncoderEmbedder:
    """One registered encoder as a `JointEmbedder` for its own modality only."""

    def __init__(self, name: str) -> None:
        from bgtai.encoders.registry import modality_of

        self.name = name
        self.modality = modality_of(name)

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        if modality != self.modality:
            raise ModelUnavailableError(
                f"encoder {self.name!r} embeds {self.modality} only, so it cannot embed {modality}: "
                "cross-modal evaluation needs a joint model (give the path of a trained model)"
            )
        from bgtai import embed

        return np.asarray(embed.encode(modality, list(inputs), encoder=self.name))


BRIDGES = "bridges"


def load_embedder(spec: str) -> JointEmbedder:
    """A joint model from a path, the bridges-only space (`bridges`), or a raw encoder by registry name."""
    if spec == BRIDGES:
        from bgtai.bridges import BridgeSpace

        return BridgeSpace()
    path = Path(spec)
    if path.exists():
        import bgtai

        try:
            loader = bgtai.load_model
        except (AttributeError, ImportError):
            loader = None
        if loader is None:
            raise ModelUnavailableError(
                f"{spec}: loading a joint model needs `bgtai.load_model`, which this version of bgtai does not have yet"
            )
        return loader(path)
    from bgtai.encoders.registry import names

    if spec in names() or spec.startswith("hf:"):
        return RawEncoderEmbedder(spec)
    raise ModelUnavailableError(
        f"{spec}: neither a model file/folder nor an encoder name (known: {', '.join(names())})"
    )


def _training_record(spec: str) -> Any:
    """The parsed `training.json` of a model folder written by the trainer; None when there is none."""
    path = Path(spec) / "training.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def training_provenance(spec: str) -> dict[str, Any]:
    """For a joint model folder written by the trainer: {"recipe", "stages", "trained_by"}; else {}."""
    try:
        data = _training_record(spec)
        if data is None:
            return {}
        return {
            "recipe": str(data["recipe"]["name"]),
            "stages": len(data["recipe"]["stages"]),
            "trained_by": str(data["command"]),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # provenance is a courtesy: an unreadable file must not stop an evaluation


def trained_test_fold(spec: str) -> int | None:
    """The test fold a joint model folder's training left out (`data.test_fold`, default 0); None for encoders."""
    path = Path(spec) / "training.json"
    try:
        record = _training_record(spec)
        if record is None:
            return None
        data = record["recipe"].get("data", {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ModelUnavailableError(
            f"{path}: unreadable training record ({error}); its test fold is unknown"
        ) from error
    fold = data.get("test_fold", 0) if isinstance(data, dict) else 0
    if not isinstance(fold, int) or isinstance(fold, bool):
        raise ModelUnavailableError(f"{path}: data.test_fold is {fold!r}, not a fold number")
    return fold
