"""A tiny, randomly initialised Stable Diffusion pipeline, written to a folder fully offline.

No Stable Diffusion or CLIP weights can be downloaded here, yet the path from a sound to
ranked pictures must be tried end to end: a pipeline of the real classes (UNet2DConditionModel,
AutoencoderKL, CLIPTextModel, CLIPTokenizer, DDIMScheduler) at toy sizes, saved with
`save_pretrained`, loads through `DiffusionPipeline.from_pretrained` like any real one. Its
pictures are coloured noise: it tests the plumbing, never the pictures.

The sizes follow diffusers' own fast tests (two blocks of 4 and 8 channels, 2 norm groups, a
32-wide text encoder). The tokenizer is byte-level BPE with no merges: every byte of a word is
one token, which is all a random text encoder needs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bgtai.atomic import replace_folder, temporary_folder

TINY_SIZE = 32  # pixels: the VAE halves once, so the UNet sees 16x16 latents
START, END = "<|startoftext|>", "<|endoftext|>"
MAX_TOKENS = 77  # CLIP's context; the pipeline pads every prompt to the tokenizer's length


def byte_symbols() -> list[str]:
    """The 256 printable stand-ins of byte-level BPE (GPT-2 / CLIP), in byte order.

    Bytes that are printable and not whitespace stand for themselves; the others are mapped,
    in order, to code points from 256 up, so every byte has a visible one-character symbol.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def write_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """vocab.json (each byte symbol, each with CLIP's end-of-word mark, then the two special tokens) and an
    empty merges.txt, in `folder`; returns their paths."""
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + [START, END]
    vocab_path, merges_path = folder / "vocab.json", folder / "merges.txt"
    vocab_path.write_text(
        json.dumps({token: i for i, token in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8"
    )
    merges_path.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab_path, merges_path


def build_components(seed: int = 0, workdir: Path | None = None) -> dict[str, object]:
    """The pipeline's parts, each initialised from `seed` (the same seed gives the same weights)."""
    import tempfile

    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        vocab, merges = write_tokenizer_files(Path(scratch))
        tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=MAX_TOKENS)
    vocab_size = len(tokenizer)
    start_id, end_id = tokenizer.convert_tokens_to_ids(START), tokenizer.convert_tokens_to_ids(END)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=TINY_SIZE // 2,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(4, 8),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=2,
        norm_num_groups=2,
    )
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(4, 8),
        norm_num_groups=2,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
    )
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=MAX_TOKENS,
            bos_token_id=start_id,
            eos_token_id=end_id,
            pad_token_id=end_id,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,  # what Stable Diffusion's own schedulers use (diffusers warns on 0)
    )
    return {
        "unet": unet.eval(),
        "vae": vae.eval(),
        "text_encoder": text_encoder.eval(),
        "tokenizer": tokenizer,
        "scheduler": scheduler,
        "safety_checker": None,
        "feature_extractor": None,
        "image_encoder": None,
    }


def build_tiny_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """Write a tiny random StableDiffusionPipeline into `folder` (replaced whole, atomically); returns it.

    It makes 32x32 pictures by default; `DiffusersGenerator(folder)` loads it like any pipeline.
    """
    from diffusers import StableDiffusionPipeline

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_folder(folder)
    try:
        pipeline = StableDiffusionPipeline(**build_components(seed, workdir=staging), requires_safety_checker=False)
        pipeline.save_pretrained(str(staging / "pipeline"))
        return replace_folder(staging / "pipeline", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # what is left of the staging folder (all of it after a failure)


def default_tiny_folder() -> Path:
    """Where `--generator tiny` keeps its pipeline: under the bgtai cache, built on first use."""
    from bgtai.config import cache_dir

    return cache_dir() / "tiny-stable-diffusion"


def ensure_tiny_pipeline(folder: str | Path | None = None) -> Path:
    """The tiny pipeline's folder, built there first if it holds no pipeline yet."""
    folder = Path(folder) if folder is not None else default_tiny_folder()
    if not (folder / "model_index.json").is_file():
        build_tiny_pipeline(folder)
    return folder
