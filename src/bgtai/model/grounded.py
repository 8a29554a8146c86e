"""The grounded joint model: the concept bridges plus what training adds on top of them.

The space is the text encoder's sentence space (MiniLM, 384-d; text is locked, as in LiT),
where the bridges (`bgtai.bridges`) already put every modality with no training. Each of
audio and image has one tower that reads the modality's pooled frozen features (YAMNet,
EfficientNet-Lite0, ...) and its bridge vector, in one of these designs (the ablation of
`bgtai train --recipe default`):

- `residual` (default): `normalise(bridge + MLP([features, bridge]))`, the MLP's last layer
  starting at zero, so training starts from the bridges and learns a correction;
- `concat`: `normalise(MLP([features, bridge]))`, no skip path;
- `features`: `normalise(MLP(features))`, no bridge (the first wave's kind of head);
- `ridge`: `normalise(W [features, 1])`, a closed-form ridge map to the text vectors (baseline);
- `bridge`: the bridge vector unchanged (no training: the bridges-only space).

Features are standardised with the training set's mean and deviation, kept in the model.
`encode(modality, inputs)` starts from raw inputs (paths, strings) like every joint model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bgtai.errors import BadInputError

FORMAT = "bgtai-grounded-model"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DESIGNS: tuple[str, ...] = ("residual", "concat", "features", "ridge", "bridge")
TOWER_MODALITIES: tuple[str, ...] = ("audio", "image")
SPACE_DIM = 384


@dataclass
class BridgeSettings:
    top_k: int = 10
    speech: bool = True
    speech_gate: float = 0.2


@dataclass
class GroundedConfig:
    design: str = "residual"
    front_ends: dict[str, list[str]] = field(
        default_factory=lambda: {"audio": ["yamnet"], "image": ["efficientnet-lite0"]}
    )
    feature_dims: dict[str, int] = field(default_factory=dict)  # modality -> concatenated feature width
    hidden: int = 512
    dropout: float = 0.2
    # residual design: the learned correction is scaled by this at inference and in training (1.0: all of it);
    # below 1 it keeps more of the bridges' label knowledge (weight-space ensembling towards the bridges)
    residual_scale: float = 1.0
    bridges: BridgeSettings = field(default_factory=BridgeSettings)

    def __post_init__(self) -> None:
        if isinstance(self.bridges, dict):
            self.bridges = BridgeSettings(**self.bridges)
        if self.design not in DESIGNS:
            raise ValueError(f"design must be one of {', '.join(DESIGNS)}, not {self.design!r}")
        unknown = set(self.front_ends) - set(TOWER_MODALITIES)
        if unknown:
            raise ValueError(f"front_ends has {sorted(unknown)}; towers exist for {', '.join(TOWER_MODALITIES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundedConfig:
        from bgtai.strict_fields import require_known_fields

        require_known_fields(cls, data, "grounded model settings")
        if isinstance(data.get("bridges"), dict):
            require_known_fields(BridgeSettings, data["bridges"], "bridge settings")
        return cls(**json.loads(json.dumps(data)))


class Tower(nn.Module):
    """One modality's map from (features, bridge) to the space."""

    def __init__(self, design: str, in_dim: int, hidden: int, dropout: float, residual_scale: float = 1.0) -> None:
        super().__init__()
        self.design = design
        self.residual_scale = residual_scale
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("scale", torch.ones(in_dim))
        if design == "ridge":
            self.linear = nn.Linear(in_dim, SPACE_DIM)
        elif design != "bridge":
            width = in_dim + (SPACE_DIM if design in ("residual", "concat") else 0)
            self.mlp = nn.Sequential(
                nn.LayerNorm(width),
                nn.Linear(width, hidden),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, SPACE_DIM),
            )
            if design == "residual":  # start exactly at the bridges
                nn.init.zeros_(self.mlp[-1].weight)
                nn.init.zeros_(self.mlp[-1].bias)

    def set_standardisation(self, features: np.ndarray) -> None:
        features = np.asarray(features, dtype=np.float64)
        self.mean.copy_(torch.from_numpy(features.mean(axis=0)).float())
        self.scale.copy_(torch.from_numpy(1.0 / np.maximum(features.std(axis=0), 1e-6)).float())

    def forward(self, features: Tensor, bridge: Tensor) -> Tensor:
        x = (features - self.mean) * self.scale
        if self.design == "bridge":
            out = bridge
        elif self.design == "ridge":
            out = self.linear(x)
        elif self.design == "features":
            out = self.mlp(x)
        elif self.design == "concat":
            out = self.mlp(torch.cat([x, bridge], dim=-1))
        else:
            out = bridge + self.residual_scale * self.mlp(torch.cat([x, bridge], dim=-1))
        return nn.functional.normalize(out, dim=-1)


class GroundedModel(nn.Module):
    def __init__(self, config: GroundedConfig) -> None:
        super().__init__()
        self.config = config
        self.towers = nn.ModuleDict(
            {
                m: Tower(
                    config.design, config.feature_dims.get(m, 0), config.hidden, config.dropout, config.residual_scale
                )
                for m in config.front_ends
            }
        )
        self._space: Any = None

    @property
    def modalities(self) -> list[str]:
        return ["text", *self.config.front_ends]

    @property
    def dim(self) -> int:
        return SPACE_DIM

    def bridge_space(self) -> Any:
        if self._space is None:
            from bgtai.bridges import BridgeSpace

            settings = self.config.bridges
            self._space = BridgeSpace(top_k=settings.top_k, speech=settings.speech, speech_gate=settings.speech_gate)
        return self._space

    def features(self, modality: str, inputs: Sequence[Any], progress: bool | None = None) -> np.ndarray:
        """(N, F) float32: the modality's pooled frozen features, concatenated in `front_ends` order."""
        from bgtai import embed

        parts = [
            embed.encode(modality, list(inputs), encoder=name, normalize=False, progress=progress)
            for name in self.config.front_ends[modality]
        ]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def tower_inputs(
        self, modality: str, inputs: Sequence[Any], progress: bool | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(features, bridge vectors) of raw inputs: what a tower reads (and what training caches)."""
        inputs = list(inputs)
        if self.config.design == "bridge":
            features = np.zeros((len(inputs), 0), dtype=np.float32)
        else:
            features = self.features(modality, inputs, progress)
        return features, self.bridge_space().encode(modality, inputs)

    @torch.no_grad()
    def embed_arrays(self, modality: str, features: np.ndarray, bridges: np.ndarray) -> np.ndarray:
        was_training = self.training
        self.eval()
        try:
            out = self.towers[modality](
                torch.from_numpy(np.asarray(features, dtype=np.float32)),
                torch.from_numpy(np.asarray(bridges, dtype=np.float32)),
            )
        finally:
            self.train(was_training)
        return out.numpy().astype(np.float32)

    def encode(self, modality: str, inputs: Any, progress: bool | None = None) -> np.ndarray:
        """(N, 384) unit float32 vectors of raw inputs, row i for input i."""
        if isinstance(inputs, (str, Path)):
            inputs = [inputs]
        if modality == "text":
            return self.bridge_space().encode("text", list(inputs))
        if modality not in self.towers:
            raise ValueError(f"this model embeds {', '.join(self.modalities)}, not {modality!r}")
        return self.embed_arrays(modality, *self.tower_inputs(modality, inputs, progress))

    def save(self, path: str | Path) -> Path:
        """`config.json` and `model.safetensors` in the folder `path`, as `JointModel.save` writes them."""
        from bgtai.model.joint import write_model_folder

        return write_model_folder(path, FORMAT, self.config.to_dict(), self)


def is_grounded_folder(path: str | Path) -> bool:
    config = Path(path) / CONFIG_FILE
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def load_grounded(path: str | Path) -> GroundedModel:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(path)
    config_path = folder / CONFIG_FILE
    try:
        header = json.loads(config_path.read_text(encoding="utf-8"))
        model = GroundedModel(GroundedConfig.from_dict(header["config"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadInputError(str(config_path), f"not a grounded model config ({error})") from error
    try:
        model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)), strict=True)
    except (SafetensorError, OSError, RuntimeError) as error:
        raise BadInputError(str(folder / WEIGHTS_FILE), f"unreadable or mismatched weights ({error})") from error
    return model.eval()
