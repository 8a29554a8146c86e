"""`bgtai train generator`: DDPM training of the embedding decoder on the real pictures here.

Each training picture is paired with its own joint-space vector (from `--model`, the joint
space the generator will be driven by). Every step draws a batch, flips half the pictures
left-right, noises them at random timesteps and regresses the noise; with chance
`condition_dropout` a picture's vector is replaced by zeros, which teaches the unconditional
model classifier-free guidance needs. An exponential moving average of the weights is what is
saved (diffusers' `EMAModel`, with its warm-up so short runs are not dominated by the start).

Resume: `checkpoint.pt` (weights, EMA, optimiser, step, the one random generator's state) is
written atomically every `checkpoint_every` steps and at the end; a resumed run draws the same
batches and noise as an uninterrupted one, so both end with the same weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.generate.decoder import MODEL_FOLDER_NAME as MODEL_FOLDER
from bgtai.generate.decoder import DecoderConfig, EmbeddingDecoder

CHECKPOINT = "checkpoint.pt"
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


class GeneratorTrainer:
    def __init__(self, settings: GeneratorSettings, data: TrainingData, out: str | Path, extra: dict[str, Any]) -> None:
        from diffusers import DDPMScheduler
        from diffusers.training_utils import EMAModel

        self.settings = settings
        self.data = data
        self.out = Path(out)
        torch.manual_seed(settings.seed)  # the weights' initialisation
        self.decoder = EmbeddingDecoder(settings.decoder_config(data.vectors.shape[1], extra))
        self.scheduler = DDPMScheduler(**self.decoder.scheduler_config())
        self.optimizer = torch.optim.AdamW(self.decoder.parameters(), lr=settings.lr, weight_decay=0.0)
        self.ema = EMAModel(self.decoder.parameters(), decay=settings.ema_decay, use_ema_warmup=True, power=0.75)
        self.rng = torch.Generator().manual_seed(settings.seed)
        self.step = 0
        self.losses: list[float] = []

    def learning_rate(self, step: int) -> float:
        from bgtai.train.joint import warmup_cosine

        return self.settings.lr * warmup_cosine(step, self.settings.warmup_steps, self.settings.steps, min_ratio=0.1)

    def train_step(self) -> float:
        settings, rng = self.settings, self.rng
        rows = torch.randint(0, len(self.data.pixels), (settings.batch_size,), generator=rng)
        pixels = torch.from_numpy(self.data.pixels[rows.numpy()])
        flip = torch.rand(settings.batch_size, generator=rng) < 0.5
        pixels = torch.where(flip[:, None, None, None], pixels.flip(-1), pixels)
        vectors = torch.from_numpy(self.data.vectors[rows.numpy()])
        dropped = torch.rand(settings.batch_size, generator=rng) < settings.condition_dropout
        vectors = torch.where(dropped[:, None], torch.zeros_like(vectors), vectors)
        noise = torch.randn(pixels.shape, generator=rng)
        timesteps = torch.randint(0, self.scheduler.config.num_train_timesteps, (settings.batch_size,), generator=rng)
        noisy = self.scheduler.add_noise(pixels, noise, timesteps)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate(self.step)
        self.decoder.train()
        loss = torch.nn.functional.mse_loss(self.decoder(noisy, timesteps, vectors), noise)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.decoder.parameters(), 1.0)
        self.optimizer.step()
        self.ema.step(self.decoder.parameters())
        self.step += 1
        return float(loss.detach())

    def state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "decoder": self.decoder.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": self.rng.get_state(),
            "losses": self.losses,
            "settings": _jsonable(asdict(self.settings)),
        }

    def save_checkpoint(self) -> Path:
        from bgtai.atomic import atomic_path

        path = self.out / CHECKPOINT
        with atomic_path(path) as temporary:
            torch.save(self.state(), temporary)
        return path

    def load_checkpoint(self) -> bool:
        """Resume from `checkpoint.pt` if there is one; False when there is none. A damaged one is an error naming it."""
        from bgtai.errors import BadInputError

        path = self.out / CHECKPOINT
        if not path.exists():
            return False
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
            self.decoder.load_state_dict(state["decoder"])
            self.ema.load_state_dict(state["ema"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (OSError, RuntimeError, KeyError, EOFError, ValueError) as error:
            raise BadInputError(str(path), f"damaged checkpoint ({error}); delete it to start over") from error
        if state["settings"] != _jsonable(asdict(self.settings)):
            raise BadInputError(
                str(path), "was written with other settings; resume with the same ones or use another --out"
            )
        self.rng.set_state(state["rng"])
        self.step = int(state["step"])
        self.losses = list(state["losses"])
        return True

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
) -> dict[str, Any]:
    """Train, checkpointing as it goes; the averaged decoder goes to OUT/model. Returns the run summary."""
    from tqdm import tqdm

    from bgtai.atomic import sweep
    from bgtai.provenance import provenance as code_provenance

    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    out = Path(out)
    sweep(out, None)
    trainer = GeneratorTrainer(settings, data, out, extra or {})
    if resume and trainer.load_checkpoint():
        progress(f"resumed from {out / CHECKPOINT} at step {trainer.step}")
    elif (out / CHECKPOINT).exists():
        from bgtai.errors import BadInputError

        raise BadInputError(
            str(out), "holds a checkpoint already: add --resume to continue it, or choose another --out"
        )
    started = time.monotonic()
    cpu_started = time.process_time()
    first_step = trainer.step
    bar = tqdm(total=settings.steps, initial=trainer.step, desc="generator", unit="step", disable=None)
    try:
        while trainer.step < settings.steps:
            trainer.losses.append(trainer.train_step())
            bar.update(1)
            if trainer.step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(trainer.losses[-20:]):.4f}")
            if trainer.step % settings.checkpoint_every == 0:
                trainer.save_checkpoint()
                if bar.disable:  # no bar (not a terminal): a line per checkpoint shows the run is alive
                    progress(
                        f"step {trainer.step}/{settings.steps}: loss {np.mean(trainer.losses[-50:]):.4f}, "
                        f"{time.monotonic() - started:.0f} s"
                    )
            if settings.max_minutes > 0 and time.monotonic() - started > settings.max_minutes * 60:
                progress(f"stopping at step {trainer.step}: --max-minutes {settings.max_minutes} reached")
                break
    finally:
        bar.close()
    trainer.save_checkpoint()
    seconds = time.monotonic() - started
    summary = {
        "steps": trainer.step,
        "steps_this_run": trainer.step - first_step,
        "pictures": len(data.pixels),
        "seconds_this_run": round(seconds, 1),
        "cpu_seconds_this_run": round(time.process_time() - cpu_started, 1),
        "seconds_per_step": round(seconds / max(1, trainer.step - first_step), 3),
        "threads": torch.get_num_threads(),
        "final_loss_mean_last_100": float(np.mean(trainer.losses[-100:])),
        "settings": _jsonable(asdict(settings)),
        "extra": extra or {},
        "peak_memory_mb": _peak_memory_mb(),
        "provenance": code_provenance(),
    }
    trainer.ema_decoder().save(out / MODEL_FOLDER, training=summary)
    progress(f"wrote {out / MODEL_FOLDER} ({trainer.step} steps, {seconds:.0f} s this run)")
    return summary


def _peak_memory_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
