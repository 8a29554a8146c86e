"""`bgtai train generator`: DDPM training of the embedding decoder on the real pictures here.

Each training picture is paired with its own joint-space vector (from `--model`, the joint
space the generator will be driven by). Every step draws a batch, flips half the pictures
left-right, noises them at random timesteps and regresses the noise; with chance
`condition_dropout` a picture's vector is replaced by zeros, which teaches the unconditional
model classifier-free guidance needs. An exponential moving average of the weights is what is
saved (diffusers' `EMAModel`, with its warm-up so short runs are not dominated by the start).

It trains on the shared loop (`bgtai.train.loop`): `checkpoint.pt` (weights, EMA, optimiser,
schedule, the task's own random generator) is written atomically every `checkpoint_every`
steps; a resumed run draws the same batches and noise as an uninterrupted one, so both end
with the same weights.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bgtai.errors import BadInputError
from bgtai.generate.decoder import MODEL_FOLDER_NAME as MODEL_FOLDER
from bgtai.generate.decoder import DecoderConfig, EmbeddingDecoder
from bgtai.train.checkpoint import CHECKPOINT, prepare_run_folder
from bgtai.train.loop import LoopSettings, Stage, StageSetup, TrainingLoop
from bgtai.train.schedule import warmup_cosine

SAMPLES_FILE = "samples.png"


@dataclass(frozen=True)
class GeneratorSettings:
    size: int = 32
    channels: tuple[int, ...] = (32, 64, 128)
    layers_per_block: int = 1
    steps: int = 1500  # optimiser steps
    batch_size: int = 32
    lr: float = 6e-4
    warmup_steps: int = 100
    condition_dropout: float = 0.15  # chance a training picture is shown with the zero ("no condition") vector
    ema_decay: float = 0.999
    checkpoint_every: int = 200
    max_minutes: float = 0.0  # > 0: stop (and save) after this much wall time, even before `steps`
    seed: int = 0
    threads: int = 0  # 0: leave torch's setting alone
    datasets: tuple[str, ...] = ("tuxpaint", "coco")
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "datasets", tuple(self.datasets))
        if not 0.0 <= self.condition_dropout < 1.0:
            raise ValueError(f"condition_dropout must be in [0, 1), got {self.condition_dropout}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be >= 1")

    def decoder_config(self, condition_dim: int, extra: dict[str, Any]) -> DecoderConfig:
        return DecoderConfig(
            size=self.size,
            condition_dim=condition_dim,
            channels=self.channels,
            layers_per_block=self.layers_per_block,
            extra=extra,
        )


@dataclass
class TrainingData:
    pixels: np.ndarray  # (N, 3, S, S) in [-1, 1]
    vectors: np.ndarray  # (N, D) unit joint-space vectors of the same pictures
    names: list[str]


def picture_data(
    model_dir: str | Path, size: int, datasets: tuple[str, ...], progress: Callable[[str], None] = print
) -> TrainingData:
    """The training side's pictures at `size` and their vectors in the joint space of `model_dir`."""
    from bgtai.generate.pictures import picture_set, training_pixels
    from bgtai.model.joint import load_model

    pictures = picture_set("train", datasets=datasets)
    if not pictures:
        raise ValueError("no training pictures found (Tux Paint / COCO-mini under the data root; see BGTAI_DATA)")
    progress(f"{len(pictures)} training pictures ({', '.join(datasets)}); embedding them with {model_dir}")
    vectors = load_model(model_dir).encode("image", [p.path for p in pictures], progress=True)
    return TrainingData(
        training_pixels(pictures, size),
        np.asarray(vectors, dtype=np.float32),
        [f"{p.dataset}:{p.id}" for p in pictures],
    )


class GeneratorTask:
    """The generator's part of a run on the shared loop: decoder, EMA, noise schedule, its own random stream.

    An "epoch" of the loop is `checkpoint_every` steps, so a checkpoint follows every one of them.
    """

    def __init__(self, settings: GeneratorSettings, data: TrainingData, extra: dict[str, Any]) -> None:
        from diffusers import DDPMScheduler
        from diffusers.training_utils import EMAModel

        self.settings = settings
        self.data = data
        torch.manual_seed(settings.seed)  # the weights' initialisation
        self.decoder = EmbeddingDecoder(settings.decoder_config(data.vectors.shape[1], extra))
        self.noise_schedule = DDPMScheduler(**self.decoder.scheduler_config())
        self.ema = EMAModel(self.decoder.parameters(), decay=settings.ema_decay, use_ema_warmup=True, power=0.75)
        self.rng = torch.Generator().manual_seed(settings.seed)  # batches, flips, condition dropout, noise
        self.losses: list[float] = []
        epochs = math.ceil(settings.steps / settings.checkpoint_every)
        self.stages = [Stage("generator", epochs)]

    def identity(self) -> dict[str, Any]:
        return _jsonable(asdict(self.settings))

    def begin_stage(self, index: int) -> StageSetup:
        settings = self.settings
        optimizer = torch.optim.AdamW(self.decoder.parameters(), lr=settings.lr, weight_decay=0.0)
        return StageSetup(
            self.decoder,
            optimizer,
            settings.checkpoint_every,
            lambda step: warmup_cosine(step, settings.warmup_steps, settings.steps, min_ratio=0.1),
        )

    def plan(self, epoch: int) -> list[int]:
        first = epoch * self.settings.checkpoint_every
        return list(range(first, min(self.settings.steps, first + self.settings.checkpoint_every)))

    def loss(self, module: nn.Module, batch: Any, epoch: int) -> torch.Tensor:
        """Noise a random batch (half flipped left-right, some with the zero vector) and regress the noise."""
        settings, rng = self.settings, self.rng
        rows = torch.randint(0, len(self.data.pixels), (settings.batch_size,), generator=rng)
        pixels = torch.from_numpy(self.data.pixels[rows.numpy()])
        flip = torch.rand(settings.batch_size, generator=rng) < 0.5
        pixels = torch.where(flip[:, None, None, None], pixels.flip(-1), pixels)
        vectors = torch.from_numpy(self.data.vectors[rows.numpy()])
        dropped = torch.rand(settings.batch_size, generator=rng) < settings.condition_dropout
        vectors = torch.where(dropped[:, None], torch.zeros_like(vectors), vectors)
        noise = torch.randn(pixels.shape, generator=rng)
        steps = self.noise_schedule.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (settings.batch_size,), generator=rng)
        noisy = self.noise_schedule.add_noise(pixels, noise, timesteps)
        loss = torch.nn.functional.mse_loss(module(noisy, timesteps, vectors), noise)
        self.losses.append(float(loss.detach()))
        return loss

    def after_micro_batch(self, stepped: bool) -> None:
        self.ema.step(self.decoder.parameters())

    def epoch_fields(self) -> dict[str, Any]:
        return {}

    def validate(self) -> dict[str, float]:
        return {}  # no validation: the latest averaged decoder is the one kept

    def save_model(self, folder: Path) -> None:
        self.ema_decoder().save(folder, training={"steps": len(self.losses), "settings": self.identity()})

    def end_stage(self, best: Path) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {
            "decoder": self.decoder.state_dict(),
            "ema": self.ema.state_dict(),
            "rng": self.rng.get_state(),
            "losses": self.losses,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decoder.load_state_dict(state["decoder"])
        self.ema.load_state_dict(state["ema"])
        self.rng.set_state(state["rng"])
        self.losses = list(state["losses"])

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        if saved != self.identity():
            raise BadInputError(
                str(path), "was written with other settings; resume with the same ones or use another --out"
            )

    def restore_best(self, best: Path) -> None:
        from bgtai.generate.decoder import load_decoder

        self.decoder.load_state_dict(load_decoder(best).state_dict())  # the averaged weights it kept

    def ema_decoder(self) -> EmbeddingDecoder:
        """A copy of the decoder holding the averaged weights (what is saved and sampled)."""
        averaged = EmbeddingDecoder(self.decoder.config)
        averaged.load_state_dict(self.decoder.state_dict())
        self.ema.copy_to(averaged.parameters())
        return averaged.eval()


def train_generator(
    settings: GeneratorSettings,
    data: TrainingData,
    out: str | Path,
    resume: bool = False,
    extra: dict[str, Any] | None = None,
    progress: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train on the shared loop, checkpointing as it goes; the averaged decoder goes to OUT/model.

    `max_minutes` is checked after every `checkpoint_every` steps. Returns the run summary.
    """
    from bgtai.provenance import provenance as code_provenance

    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    out = Path(out)
    if (out / CHECKPOINT).exists() and not resume:
        raise BadInputError(
            str(out), "holds a checkpoint already: add --resume to continue it, or choose another --out"
        )
    prepare_run_folder(out, resume, keep=(MODEL_FOLDER,))
    task = GeneratorTask(settings, data, extra or {})
    loop_settings = LoopSettings(
        select_on="", grad_clip=1.0, max_minutes=settings.max_minutes, best_name=MODEL_FOLDER, progress=True
    )
    loop = TrainingLoop(task, loop_settings, out, identity=task.identity(), on_step=on_step)
    if resume and loop.resume():
        progress(f"resumed from {out / CHECKPOINT} at step {loop.step}")
    first_step = loop.step
    run = loop.run()
    steps_this_run = run.steps - first_step
    summary = {
        "steps": run.steps,
        "steps_this_run": steps_this_run,
        "pictures": len(data.pixels),
        "seconds_this_run": round(run.seconds, 1),
        "cpu_seconds_this_run": round(run.cpu_seconds, 1),
        "seconds_per_step": round(run.seconds / max(1, steps_this_run), 3),
        "threads": torch.get_num_threads(),
        "final_loss_mean_last_100": float(np.mean(task.losses[-100:])),
        "settings": task.identity(),
        "extra": extra or {},
        "peak_memory_mb": _peak_memory_mb(),
        "provenance": code_provenance(),
    }
    task.ema_decoder().save(out / MODEL_FOLDER, training=summary)
    progress(f"wrote {out / MODEL_FOLDER} ({run.steps} steps, {run.seconds:.0f} s this run)")
    return summary


def _peak_memory_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
