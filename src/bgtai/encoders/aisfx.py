"""aiSFX sound-effect embeddings: a 9-layer CNN over 44.1 kHz log-mel blocks, 512-d per block.

Preprocessing is aiSFX's librosa path (`aisfx.spectrogram.spectrogram_librosa` and
`aisfx.preprocessing`), re-expressed in torch so a whole batch is transformed at once:
- audio at 44.1 kHz, peak-normalised to max |y| = 1;
- power mel spectrogram: 2048-sample Hann frames, hop 1024, centred with zero padding,
  96 HTK mel bands over 0-22050 Hz, each filter scaled to unit sum (librosa `norm=1`);
- log10(10000 * mel + 1), then divided by 9.4578 (aiSFX's "original" min/max scaling);
- blocks of 100 frames (~2.3 s), hop 50 frames, an incomplete last block dropped unless it
  is the only one (aiSFX `blocking`, `emb_hop_size=0.5`, `drop_partial_block=True`).
One embedding per block (aiSFX `get_embedding`: the CNN trunk, mean over frequency, max over
time); the clip vector is the mean over blocks.

aiSFX's librosa function returns (mels, frames) while its network reads (frames, mels); we
feed (frames, mels), the orientation the network was trained on.

Speed (CPU): the trunk is compiled once to ONNX (cached under `cache_dir()/weights/aisfx/`,
keyed by the checkpoint's hash) and run by onnxruntime with an explicit thread count; torch
eager is the fallback when onnxruntime is missing. With `share_blocks` (a setting, part of the
cache key) overlapping blocks share one pass: the trunk runs once over a run of consecutive
blocks' frames (fully convolutional), and each block takes the max over the final positions
(8 frames each) that cover it. Block edges then see their real neighbours instead of zero
padding and the pooling grid is the run's, not the block's, so vectors differ slightly from
aiSFX's (cosine to `reference_embed` is checked in the tests and `benchmarks/aisfx_paths.py`).

The front end (log-mel, blocks, shared-run positions) is `bgtai.encoders.aisfx_features`, whose
names this module re-exports; here are the weights, the ONNX trunk and the encoder.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.atomic import atomic_path
from bgtai.config import cache_dir
from bgtai.encoders.aisfx_features import (  # noqa: F401 - the front end's names, re-exported
    _RUN_BLOCKS,
    BLOCK_FRAMES,
    BLOCK_HOP,
    BLOCK_POSITIONS,
    F_MAX,
    F_MIN,
    HOP,
    LOG_SCALE,
    N_FFT,
    N_MELS,
    NORM_MAX,
    POOL_STRIDE,
    SAMPLE_RATE,
    block_positions,
    block_runs,
    block_starts,
    blocks_of,
    htk_mel_filters,
    log_mel_batch,
    mel_filterbank,
    peak_normalise,
)
from bgtai.encoders.base import Encoder
from bgtai.io.audio import load_audio

_MODEL_BATCH = 4  # blocks per forward pass: on CPU larger batches run slower per block (cache)
_GPU_BATCH = 256
ONNX_OPSET = 17


AISFX_VERSION = "0.1.2"
# aisfx pins numpy==1.23.0 and librosa==0.9.2 (against this package's numpy>=1.26), so it cannot be
# a declared dependency: it is installed without its dependencies, and only its checkpoint and
# network code (torch alone) are used
INSTALL_COMMAND = f'pip install --no-deps "aisfx=={AISFX_VERSION}"'
MISSING_WEIGHTS = (
    f"aiSFX weights not found (encoder aisfx, the default for sound): install them with `{INSTALL_COMMAND}`"
)


def checkpoint_path() -> Path | None:
    """The aiSFX checkpoint inside the installed package, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("aisfx")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "checkpoint.pth"


def load_checkpoint() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(state_dict, dataset table). The table holds numpy integers, so allow exactly those types."""
    path = checkpoint_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(MISSING_WEIGHTS)
    from numpy._core.multiarray import scalar  # pickled under its numpy-1 name below

    allowed = [np.dtype, type(np.dtype(np.int64)), (scalar, "numpy.core.multiarray.scalar")]
    with torch.serialization.safe_globals(allowed):
        weights, datasets = torch.load(path, map_location="cpu", weights_only=True)
    return weights, datasets


def load_trunk() -> torch.nn.Module:
    """aiSFX's own `EmbeddingNet` (it runs unchanged on current torch) with the checkpoint's weights."""
    weights, _ = load_checkpoint()  # first: a missing package gets the message with the install command
    from aisfx.models.cnn2d import EmbeddingNet

    trunk = EmbeddingNet("max", 3, 1, 64)  # the arguments aiSFX's `load_bestModel` uses
    prefix = "embedding_net."
    trunk.load_state_dict({k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)})
    return trunk.eval().requires_grad_(False)


class TimeMap(torch.nn.Module):
    """`EmbeddingNet.forward` without the final max over time: (N, T, mels) -> (N, 512, T // 8)."""

    def __init__(self, trunk: torch.nn.Module) -> None:
        super().__init__()
        self.trunk = trunk

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        t = self.trunk
        x = torch.unsqueeze(logmel, 1)
        x = t.conv_block1(x, pool_size=(2, 2), pool_type=t.pool_type)
        x = t.conv_block2(x, pool_size=(2, 2), pool_type=t.pool_type)
        x = t.conv_block3(x, pool_size=(2, 2), pool_type=t.pool_type)
        x = t.conv_block4(x, pool_size=(1, 1), pool_type=t.pool_type)
        return torch.mean(x, dim=3)


def checkpoint_hash() -> str:
    path = checkpoint_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(MISSING_WEIGHTS)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def onnx_path() -> Path:
    """The exported time-map model, created once (atomically) and reused."""
    target = cache_dir() / "weights" / "aisfx" / f"timemap-{checkpoint_hash()}-opset{ONNX_OPSET}.onnx"
    if target.is_file():
        return target
    model = TimeMap(load_trunk())
    with atomic_path(target) as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, BLOCK_FRAMES, N_MELS),),
            str(temporary),
            input_names=["logmel"],
            output_names=["timemap"],
            dynamic_axes={
                "logmel": {0: "batch", 1: "frames"},
                "timemap": {0: "batch", 2: "positions"},
            },
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return target


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def onnx_session(threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(onnx_path()), options, providers=["CPUExecutionProvider"])


class AisfxEncoder(Encoder):
    """Sound: aiSFX X-Sequential-CE block embeddings, 512-d per ~2.3 s block (hop ~1.16 s).

    `backend`: "onnxruntime" (default on CPU when installed) or "torch" (eager; the GPU path).
    `share_blocks` (off by default): one trunk pass per run of overlapping blocks (about 1.5x
    less work on 5 s clips, 2x on long files) but cosine to the reference only ~0.98 on ESC-50
    clips (block edges lose their zero padding), so it is opt-in; see the module docstring. `threads`: onnxruntime intra-op threads
    (default: torch's current thread count); the torch backend uses torch's global setting.
    """

    name = "aisfx"
    modality = "audio"
    description = "aiSFX sound-effect CNN, 512-d per 2.3 s block of 44.1 kHz log-mel (package aisfx)"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        device: str | None = None,
        backend: str | None = None,
        share_blocks: bool = False,
        threads: int | None = None,
    ) -> None:
        self.dim = 512
        # CPU unless a GPU is present: the CNN is compute-bound, batching only pays on a GPU
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if backend is None:
            backend = "onnxruntime" if self.device == "cpu" and onnxruntime_available() else "torch"
        if backend not in ("onnxruntime", "torch"):
            raise ValueError(f"unknown aiSFX backend {backend!r} (onnxruntime or torch)")
        if backend == "onnxruntime" and self.device != "cpu":
            raise ValueError("the onnxruntime backend runs on CPU only; use backend='torch' on a GPU")
        self.backend = backend
        self.share_blocks = share_blocks
        self.threads = threads if threads is not None else max(1, torch.get_num_threads())
        self._trunk: torch.nn.Module | None = None
        self._session: Any = None

    def weights_present(self) -> bool:
        path = checkpoint_path()
        return path is not None and path.is_file()

    def settings(self) -> dict[str, Any]:
        return {
            "model": "aisfx-0.1.2/X-Sequential-CE",
            "sample_rate": SAMPLE_RATE,
            "n_fft": N_FFT,
            "hop": HOP,
            "n_mels": N_MELS,
            "fmin": F_MIN,
            "fmax": F_MAX,
            "log": f"log10({LOG_SCALE:g}*mel+1)/{NORM_MAX}",
            "peak_normalise": True,
            "block_frames": BLOCK_FRAMES,
            "block_hop": BLOCK_HOP,
            "drop_partial_block": True,
            "trunk_backend": self.backend,
            "share_blocks": self.share_blocks,
            "shared_run_blocks": _RUN_BLOCKS if self.share_blocks else None,
        }

    def prepare(self, item: Any) -> np.ndarray:
        """Mono 44.1 kHz samples, peak-normalised (float32)."""
        audio = load_audio(item, target_sr=SAMPLE_RATE)
        return peak_normalise(audio.samples).astype(np.float32)

    def _model(self) -> torch.nn.Module:
        if self._trunk is None:
            self._trunk = TimeMap(load_trunk()).to(self.device).eval()
        return self._trunk

    def _time_map(self, logmel: torch.Tensor) -> np.ndarray:
        """(N, frames, mels) -> (N, 512, frames // 8) float32."""
        if self.backend == "onnxruntime":
            if self._session is None:
                self._session = onnx_session(self.threads)
            feed = np.ascontiguousarray(logmel.cpu().numpy(), dtype=np.float32)
            return self._session.run(None, {"logmel": feed})[0]
        return self._model()(logmel).cpu().numpy()

    def _shared(self, logmel: torch.Tensor) -> np.ndarray:
        out = []
        for run in block_runs(block_starts(logmel.shape[0])):
            first = run[0]
            segment = torch.zeros(run[-1] - first + BLOCK_FRAMES, N_MELS, device=logmel.device)
            chunk = logmel[first : first + segment.shape[0]]
            segment[: chunk.shape[0]] = chunk  # zero-padded as aiSFX pads a lone partial block
            positions = self._time_map(segment[None])[0]
            for start in run:
                lo, hi = block_positions(start - first)
                out.append(positions[:, lo:hi].max(axis=1))
        return np.stack(out).astype(np.float32)

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        with torch.inference_mode():
            logmels = log_mel_batch(batch, self.device)
            if self.share_blocks:
                return [self._shared(logmel) for logmel in logmels]
            blocks = [blocks_of(logmel) for logmel in logmels]
            counts = [b.shape[0] for b in blocks]
            stacked = torch.cat(blocks)
            step = _MODEL_BATCH if self.device == "cpu" else _GPU_BATCH
            outputs = [self._time_map(stacked[i : i + step]).max(axis=2) for i in range(0, stacked.shape[0], step)]
            embeddings = np.concatenate(outputs).astype(np.float32)
        return list(np.split(embeddings, np.cumsum(counts)[:-1]))

    def close(self) -> None:
        self._trunk = None
        self._session = None


@functools.lru_cache(maxsize=2)
def _reference_model(device: str) -> torch.nn.Module:
    from aisfx.inference import load_bestModel

    weights, datasets = load_checkpoint()
    return load_bestModel(weights, datasets, device)


def reference_embed(path: str | Path, device: str = "cpu") -> np.ndarray:
    """aiSFX's own documented librosa path for one file, one model call: the (512,) clip vector.

    Uses aiSFX's functions (`compute_spectrogram`, `spectrogram_normalize`, `blocking`,
    `CrossNet.get_embedding`); the spectrogram is transposed to (frames, mels), the model's
    input orientation. Kept as the baseline that `AisfxEncoder` is checked and timed against.
    """
    from aisfx.preprocessing import blocking, spectrogram_normalize
    from aisfx.spectrogram.spectrogram_librosa import compute_spectrogram

    spec = compute_spectrogram(
        filename=str(path), sr=SAMPLE_RATE, block_size=N_FFT, hop_size=HOP, n_mels=N_MELS, f_min=F_MIN, f_max=F_MAX
    )
    spec = spectrogram_normalize(spec.T, spec_norm="original")
    blocks = blocking(spec, block_size=BLOCK_FRAMES, hop_size=BLOCK_HOP, drop_partial_block=True)
    with torch.inference_mode():
        embeddings = _reference_model(device).get_embedding(torch.Tensor(blocks).to(device))
    return embeddings.cpu().numpy().mean(axis=0)
