"""The real pictures the generator learns from, and the held-out ones it is measured against.

Training uses only the training side of the content-clean splits (`bgtai.data.splits`): Tux
Paint stamps outside test fold 0 and COCO-mini's train2017 pictures, so no picture whose sound,
file or caption is scored by the evaluations is ever seen by the generator. Held out: Tux Paint
test stamps and COCO-mini val2017.

Pixels: Tux Paint stamps are drawings on a transparent background, so they are composited on
white and padded to a square (the whole object stays in view); photographs are centre-cropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bgtai.io.image import load_image

SIDES = ("train", "test")


@dataclass(frozen=True)
class Picture:
    path: Path
    dataset: str  # "tuxpaint" or "coco"
    id: str
    caption: str  # the stamp's English description or the first COCO caption ("" if none)


def picture_set(side: str, root: Path | None = None, datasets: tuple[str, ...] = ("tuxpaint", "coco")) -> list[Picture]:
    """Pictures of one side of the split, Tux Paint first, each list sorted by id (a stable order)."""
    if side not in SIDES:
        raise ValueError(f"side {side!r}: use one of {', '.join(SIDES)}")
    from bgtai.data.splits import split_sides

    pictures: list[Picture] = []
    for name in datasets:
        items = _items(name, root)
        sides = split_sides(name, items)
        keep = sides.test if side == "test" else sides.train
        chosen = sorted(
            (item for item in items if str(item.id) in keep and item.image is not None), key=lambda i: str(i.id)
        )
        pictures.extend(
            Picture(Path(item.image), name, str(item.id), item.texts[0] if item.texts else "") for item in chosen
        )
    return pictures


def _items(name: str, root: Path | None) -> list:
    if name == "tuxpaint":
        from bgtai.data.tuxpaint import load_tuxpaint

        return list(load_tuxpaint(root).items)
    if name == "coco":
        from bgtai.data.coco import load_coco

        return list(load_coco(root).items)
    raise ValueError(f"no picture collection {name!r}: use tuxpaint or coco")


def square_picture(source: object, size: int, pad: bool) -> Image.Image:
    """An RGB size x size picture: padded with white to a square (drawings) or centre-cropped (photographs)."""
    image = load_image(source)
    width, height = image.size
    if pad:
        side = max(width, height)
        canvas = Image.new("RGB", (side, side), (255, 255, 255))
        canvas.paste(image, ((side - width) // 2, (side - height) // 2))
        image = canvas
    else:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    # reducing_gap: Pillow's two-pass downscale, sharp and fast for large reductions
    return image.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)


def training_pixels(pictures: list[Picture], size: int) -> np.ndarray:
    """(N, 3, size, size) float32 in [-1, 1], the range the diffusion model works in."""
    out = np.empty((len(pictures), 3, size, size), dtype=np.float32)
    for row, picture in enumerate(pictures):
        pixels = np.asarray(square_picture(picture.path, size, pad=picture.dataset == "tuxpaint"), dtype=np.float32)
        out[row] = pixels.transpose(2, 0, 1) / 127.5 - 1.0
    return out


def to_images(pixels: np.ndarray) -> list[Image.Image]:
    """(N, 3, H, W) in [-1, 1] to RGB pictures."""
    values = np.clip(np.round((np.asarray(pixels) + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return [Image.fromarray(value.transpose(1, 2, 0), mode="RGB") for value in values]
