"""The embedding model of an index: what the index records, and loading it again to search.

An index is only searchable with the model that built it (another model's vectors live in
another space), so `index.json` records it: `{"kind": "bridges"}` (the untrained concept-bridge
space, `bgtai.bridges.BridgeSpace`) or `{"kind": "model", "path": "/abs/runs/NAME/best"}`
(`bgtai.load_model`). An embedder is anything with `encode(modality, inputs)` returning unit
float32 rows, row i for input i.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bgtai.errors import BadInputError


class Embedder(Protocol):
    def encode(self, modality: str, inputs: Any) -> np.ndarray: ...


def bridges_spec() -> dict[str, Any]:
    return {"kind": "bridges"}


def model_spec(folder: Path) -> dict[str, Any]:
    return {"kind": "model", "path": str(folder.resolve())}


def describe(spec: dict[str, Any]) -> str:
    return "bridges" if spec.get("kind") == "bridges" else f"model {spec.get('path')}"


def load_embedder(spec: dict[str, Any]) -> Embedder:
    """The embedder `spec` names (see the module doc); a bad input naming the model folder when it cannot load."""
    kind = spec.get("kind")
    if kind == "bridges":
        from bgtai.bridges import BridgeSpace

        return BridgeSpace(progress=False)
    if kind == "model":
        from bgtai.model.joint import load_model

        folder = Path(str(spec.get("path")))
        if not folder.is_dir():
            raise BadInputError(str(folder), "the model this index was built with is gone (no such folder)")
        return load_model(folder)
    raise BadInputError(str(spec), "unknown embedding model kind (expected 'bridges' or 'model')")
