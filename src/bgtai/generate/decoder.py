"""Our own generator: a small diffusion decoder conditioned on a joint-space picture vector (unCLIP-style).

diffusers' `UNet2DModel` predicts the noise; the condition (a unit vector of the joint space)
goes through a two-layer projection and is added to the timestep embedding
(`class_embed_type="identity"`), as unCLIP adds its CLIP image embedding. Training sees
pictures' vectors; at inference a sound's or a sentence's vector takes their place, which is
what the shared space is for. A zero vector is the "no condition" of classifier-free guidance
(no unit vector is zero, so the model can tell the two apart).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor, nn

FORMAT = "bgtai-embedding-decoder"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MODEL_FOLDER_NAME = "model"  # where `bgtai train generator` puts the decoder inside its run folder


@dataclass(frozen=True)
class DecoderConfig:
    size: int = 32  # pictures are size x size RGB
    condition_dim: int = 384  # width of the joint space
    channels: tuple[int, ...] = (32, 64, 128)  # per resolution; the last level has self-attention
    layers_per_block: int = 1
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "epsilon"
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes (which joint model made the vectors)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if self.size % (2 ** (len(self.channels) - 1)):
            raise ValueError(
                f"picture size {self.size} must be divisible by {2 ** (len(self.channels) - 1)} "
                f"({len(self.channels)} resolution levels)"
            )

    @property
    def time_dim(self) -> int:
        return self.channels[0] * 4

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecoderConfig:
        values = {key: value for key, value in data.items() if key != "format"}
        return cls(**values)


class EmbeddingDecoder(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        from diffusers import UNet2DModel

        self.config = config
        levels = len(config.channels)
        down = ["DownBlock2D"] * (levels - 1) + ["AttnDownBlock2D"]
        up = ["AttnUpBlock2D"] + ["UpBlock2D"] * (levels - 1)
        self.unet = UNet2DModel(
            sample_size=config.size,
            in_channels=3,
            out_channels=3,
            block_out_channels=config.channels,
            layers_per_block=config.layers_per_block,
            down_block_types=tuple(down),
            up_block_types=tuple(up),
            class_embed_type="identity",
            norm_num_groups=min(32, config.channels[0] // 2),
            attention_head_dim=min(32, config.channels[-1]),
        )
        self.condition = nn.Sequential(
            nn.Linear(config.condition_dim, config.time_dim), nn.SiLU(), nn.Linear(config.time_dim, config.time_dim)
        )

    def forward(self, noisy: Tensor, timesteps: Tensor, vectors: Tensor) -> Tensor:
        """The predicted noise for `noisy` (B, 3, S, S) at `timesteps` (B,) given condition `vectors` (B, D)."""
        return self.unet(noisy, timesteps, class_labels=self.condition(vectors)).sample

    def scheduler_config(self) -> dict[str, Any]:
        return {
            "num_train_timesteps": self.config.train_timesteps,
            "beta_schedule": self.config.beta_schedule,
            "prediction_type": self.config.prediction_type,
            "clip_sample": True,
        }

    def save(self, folder: str | Path, training: dict[str, Any] | None = None) -> Path:
        """`config.json` + `model.safetensors` (+ `training.json`) into `folder`, written atomically as one folder."""
        from safetensors.torch import save_file

        from bgtai.atomic import apply_umask, replace_folder, temporary_folder

        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = temporary_folder(folder)
        try:
            (staging / CONFIG_FILE).write_text(json.dumps(self.config.to_dict(), indent=2) + "\n", encoding="utf-8")
            state = {key: value.detach().contiguous() for key, value in self.state_dict().items()}
            save_file(state, str(staging / WEIGHTS_FILE))
            apply_umask(staging / WEIGHTS_FILE)  # safetensors writes it private; outputs follow the umask
            if training is not None:
                (staging / "training.json").write_text(
                    json.dumps(training, indent=2, sort_keys=True) + "\n", encoding="utf-8"
                )
            return replace_folder(staging, folder)
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise


def is_decoder_folder(path: str | Path) -> bool:
    config = Path(path) / CONFIG_FILE
    try:
        return config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        return False


def load_decoder(path: str | Path) -> EmbeddingDecoder:
    """A decoder saved by `EmbeddingDecoder.save`, in eval mode; a clear error naming the folder otherwise."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from bgtai.errors import BadInputError

    folder = Path(path)
    if not is_decoder_folder(folder):
        raise BadInputError(
            str(folder),
            f"not a generator folder (needs {CONFIG_FILE} with format {FORMAT!r} "
            f"and {WEIGHTS_FILE}; train one with `bgtai train generator`)",
        )
    config = DecoderConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))
    decoder = EmbeddingDecoder(config)
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
        decoder.load_state_dict(state)
    except (OSError, SafetensorError, RuntimeError) as error:
        raise BadInputError(str(folder / WEIGHTS_FILE), f"cannot load the generator's weights ({error})") from error
    return decoder.eval()
