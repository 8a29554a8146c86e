"""Which generator `--generator NAME|PATH` means, and where the default models live.

- a folder written by `bgtai train generator` (its `model/` or the run folder holding it): our decoder;
- `tiny`: a tiny randomly initialised Stable Diffusion pipeline built from configs (tries the
  pipeline path offline; its pictures are noise by construction);
- any other folder or a hub id: a diffusers text-to-image pipeline (the user's weights).

Defaults are found independent of the working folder: `$BGTAI_MODEL` / `$BGTAI_GENERATOR`,
else the checkout's `runs/default/best` / `runs/generator/model`, else the same under the
current folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from bgtai.generate.base import ImageGenerator

DEFAULT_MODEL = Path("runs/default/best")
DEFAULT_GENERATOR = Path("runs/generator/model")
MODEL_ENV = "BGTAI_MODEL"
GENERATOR_ENV = "BGTAI_GENERATOR"
_CHECKOUT = Path(__file__).resolve().parents[3]


def default_folder(relative: Path, env: str) -> Path | None:
    """The first of $env, <checkout>/relative, ./relative that is a folder (None if none is)."""
    named = os.environ.get(env)
    if named:
        return Path(named).expanduser()
    candidates = []
    if (_CHECKOUT / "pyproject.toml").is_file():
        candidates.append(_CHECKOUT / relative)
    candidates.append(Path.cwd() / relative)
    return next((path for path in candidates if path.is_dir()), None)


def load_generator(name: str | Path | None, steps: int, guidance: float, size: int = 32) -> ImageGenerator:
    """The generator `name` names (None: the default decoder); a clear error when there is none."""
    from bgtai.errors import BadInputError
    from bgtai.generate.decoder import MODEL_FOLDER_NAME, is_decoder_folder, load_decoder
    from bgtai.generate.sampling import DecoderGenerator

    if name is None:
        found = default_folder(DEFAULT_GENERATOR, GENERATOR_ENV)
        if found is None:
            raise BadInputError(
                str(DEFAULT_GENERATOR),
                "no generator here: train one with `bgtai train generator "
                "--out runs/generator`, or give --generator DIR|HUB-ID|tiny",
            )
        if os.environ.get(GENERATOR_ENV) and not found.is_dir():
            raise BadInputError(str(found), f"no such generator folder (named by ${GENERATOR_ENV})")
        name = found
    if str(name) == "tiny":
        from bgtai.generate.diffusers_pipeline import DiffusersGenerator
        from bgtai.generate.tiny_pipeline import ensure_tiny_pipeline

        # built once into the cache and reused; its pictures are noise by construction (random weights)
        return DiffusersGenerator(ensure_tiny_pipeline(), steps=steps, guidance_scale=guidance, height=size, width=size)
    path = Path(name).expanduser()
    for candidate in (path, path / MODEL_FOLDER_NAME):
        if is_decoder_folder(candidate):
            return DecoderGenerator(load_decoder(candidate), steps=steps, guidance=guidance, name=str(candidate))
    if path.exists() and not path.is_dir():
        raise BadInputError(str(path), "is a file; give a generator folder, a diffusers pipeline folder or a hub id")
    from bgtai.generate.diffusers_pipeline import DiffusersGenerator

    return DiffusersGenerator(str(name), steps=steps, guidance_scale=guidance)  # the pipeline's own picture size


def reads_prompts(generator: ImageGenerator) -> bool:
    """True for text-to-image pipelines (they need prompts); our decoder, bare or behind a prior, reads vectors."""
    from bgtai.generate.sampling import DecoderGenerator

    return not isinstance(getattr(generator, "generator", generator), DecoderGenerator)  # WithPrior wraps one
