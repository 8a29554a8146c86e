"""Generator kind 2: any diffusers text-to-image pipeline, driven by a condition's prompts.

UniBriVL (sec. 5, Fig. 4) drives Stable Diffusion with words derived from the sound and lets
the joint space pick among the candidates (`bgtai.generate.rerank`). This wraps whatever
pipeline the user supplies, from a local folder or a hub id, behind `ImageGenerator`.

Candidate i is drawn with prompt i mod P (the prompts are cycled, best first) and its own
starting noise from a CPU `torch.Generator` seeded by (seed, i): the same seed gives the same
pictures, candidate i's noise does not depend on how many candidates are asked for, and CPU
generators give the same noise whichever device the pipeline runs on.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bgtai.errors import BadInputError
from bgtai.generate.base import Condition

MODEL_INDEX = "model_index.json"
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")
# call parameters that make a pipeline something other than text-to-image (img2img, inpainting, ControlNet)
_NEEDS_PICTURE = ("image", "mask_image", "control_image")


def candidate_seed(seed: int, index: int) -> int:
    """The noise seed of candidate `index`: mixed from (seed, index), so seed 0's second candidate
    is not seed 1's first."""
    if seed < 0 or index < 0:
        raise ValueError(f"seeds and candidate indices are non-negative, got seed {seed}, index {index}")
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _looks_like_a_path(text: str) -> bool:
    """A hub id is `owner/name` (or `name`); anything else that does not exist is a missing folder."""
    return (
        text.startswith((".", "~", "/", "\\"))
        or "\\" in text
        or text.count("/") > 1
        or Path(text).is_absolute()
        or text.endswith("/")
    )


def load_pipeline(path_or_id: str | Path, device: str | None = None, dtype: str | None = None) -> Any:
    """A diffusers text-to-image pipeline from a local folder or a hub id, moved to `device`.

    A missing folder, a folder that is not a saved pipeline and a pipeline that needs an input
    picture are refused with a `BadInputError` naming `path_or_id`, before anything is downloaded.
    A hub id is fetched by huggingface_hub only when the environment allows it (HF_HUB_OFFLINE).
    """
    text = str(path_or_id)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise BadInputError(text, "is a file; give a diffusers pipeline folder (with model_index.json) or a hub id")
        if not (path / MODEL_INDEX).is_file():
            raise BadInputError(text, f"not a diffusers pipeline folder: {MODEL_INDEX} is missing")
        text = str(path)
    elif _looks_like_a_path(text):
        raise BadInputError(text, "no such pipeline folder")

    import torch
    from diffusers import DiffusionPipeline

    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # half precision on a GPU (what Stable Diffusion is run in), full on a CPU (which has no fast float16)
    torch_dtype = getattr(torch, dtype) if dtype else (torch.float16 if device.startswith("cuda") else torch.float32)
    try:
        with warnings.catch_warnings():
            # every release below 1.0 (our bound) takes `torch_dtype`; newer ones prefer `dtype` and warn
            warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
            pipeline = DiffusionPipeline.from_pretrained(text, torch_dtype=torch_dtype)
    except Exception as error:  # hub, config and weight errors come in many types; all mean "cannot use this"
        where = "this folder" if path.exists() else "the hub (no such local folder; offline?)"
        raise BadInputError(
            text, f"could not load a diffusers pipeline from {where} ({type(error).__name__}: {error})"
        ) from error
    check_text_to_image(pipeline, text)
    return pipeline.to(device)


def check_text_to_image(pipeline: Any, source: str) -> None:
    """Refuse a pipeline whose call does not take `prompt`, or that needs a picture to start from."""
    try:
        parameters = inspect.signature(pipeline.__call__).parameters
    except (TypeError, ValueError) as error:
        raise BadInputError(source, f"not a callable diffusers pipeline ({error})") from error
    name = type(pipeline).__name__
    if "prompt" not in parameters:
        raise BadInputError(source, f"{name} takes no prompt: not a text-to-image pipeline")
    needs = [p for p in _NEEDS_PICTURE if p in parameters]
    if needs:
        raise BadInputError(source, f"{name} needs {', '.join(needs)}: not a text-to-image pipeline")


def as_rgb(image: Any) -> Image.Image:
    """A PIL RGB picture from what a pipeline returns (PIL, or an HxWxC float array in [0, 1])."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image, dtype=np.float32)
    if array.ndim != 3:
        raise ValueError(f"a pipeline returned a picture of shape {array.shape}; expected height x width x channels")
    pixels = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    return Image.fromarray(pixels.squeeze(-1) if pixels.shape[-1] == 1 else pixels).convert("RGB")


class DiffusersGenerator:
    """`ImageGenerator` over a diffusers text-to-image pipeline (Stable Diffusion or any other).

    pipeline_or_path: a loaded pipeline, a local pipeline folder or a hub id.
    steps, guidance_scale: the sampler's number of steps and classifier-free guidance weight.
    height, width: picture size in pixels (None: the pipeline's own default).
    batch_size: candidates per pipeline call (memory against speed; the noise per candidate is the same).
    device, dtype: where a pipeline loaded from a path runs (default: CUDA in float16 when there is
    one, else the CPU in float32); a pipeline passed in loaded is used as it is.
    """

    def __init__(
        self,
        pipeline_or_path: Any,
        steps: int = 30,
        guidance_scale: float = 7.5,
        height: int | None = None,
        width: int | None = None,
        *,
        negative_prompt: str | None = None,
        batch_size: int = 4,
        device: str | None = None,
        dtype: str | None = None,
        progress: bool = False,
    ) -> None:
        if steps < 1:
            raise ValueError(f"steps must be at least 1, not {steps}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        for side, value in (("height", height), ("width", width)):
            if value is not None and (value < 8 or value % 8):
                raise ValueError(f"{side} must be a multiple of 8 (and at least 8), not {value}")
        if isinstance(pipeline_or_path, (str, Path)):
            self.pipeline = load_pipeline(pipeline_or_path, device, dtype)
            self.name = f"diffusers:{pipeline_or_path}"
        else:
            check_text_to_image(pipeline_or_path, type(pipeline_or_path).__name__)
            self.pipeline = pipeline_or_path
            self.name = f"diffusers:{type(pipeline_or_path).__name__}"
        if hasattr(self.pipeline, "set_progress_bar_config"):
            self.pipeline.set_progress_bar_config(disable=not progress)
        self.steps = steps
        self.guidance_scale = guidance_scale
        self.height = height
        self.width = width
        self.negative_prompt = negative_prompt
        self.batch_size = batch_size

    def candidate_prompts(self, condition: Condition, n: int) -> list[str]:
        """The prompt of each of the `n` candidates: the condition's prompts cycled, best first."""
        if not condition.prompts:
            raise ValueError(
                f"{condition.source}: no prompts; a text-to-image pipeline needs words "
                "(see bgtai.generate.prompts.sound_prompts)"
            )
        return [condition.prompts[i % len(condition.prompts)] for i in range(n)]

    def generate(self, condition: Condition, n: int, seed: int) -> list[Image.Image]:
        """`n` RGB pictures for `condition`, candidate i from prompt i mod P and noise seed (seed, i)."""
        import torch

        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        prompts = self.candidate_prompts(condition, n)
        seeds = [candidate_seed(seed, i) for i in range(n)]
        pictures: list[Image.Image] = []
        for start in range(0, n, self.batch_size):
            batch = slice(start, start + self.batch_size)
            arguments: dict[str, Any] = {
                "prompt": prompts[batch],
                "num_inference_steps": self.steps,
                "guidance_scale": self.guidance_scale,
                "generator": [torch.Generator("cpu").manual_seed(s) for s in seeds[batch]],
                "output_type": "pil",
            }
            if self.height is not None:
                arguments["height"] = self.height
            if self.width is not None:
                arguments["width"] = self.width
            if self.negative_prompt is not None:
                arguments["negative_prompt"] = [self.negative_prompt] * len(arguments["prompt"])
            with torch.inference_mode():
                output = self.pipeline(**arguments)
            images = output.images if hasattr(output, "images") else output[0]
            pictures.extend(as_rgb(image) for image in images)
        if len(pictures) != n:
            raise RuntimeError(f"{self.name} returned {len(pictures)} pictures for {n} candidates")
        return pictures
