"""Image decoding to RGB and a deterministic resize + centre crop.

Size limits, checked on the header before any pixel is decoded (and on in-memory images):
at most `MAX_PIXELS` (64 megapixels, a 9000 x 7100 photo; decoded as RGB about 200 MB) and a
longer side at most `MAX_ASPECT` (50) times the shorter one. Beyond them an image is a
`BadInputError` naming the file: a 30000 x 30000 decompression bomb (a 100 KB PNG) would need
2.7 GB once decoded, and a 1 x 12000 strip, scaled so its shorter side is 224, would become
224 x 2.7 million pixels. Pillow's own bomb check (`Image.DecompressionBombError` above
179 Mpx, and its warning above 89 Mpx when warnings are errors) becomes the same error.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from bgtai.errors import BadInputError

_WHITE = (255, 255, 255)
MAX_PIXELS = 64_000_000
MAX_ASPECT = 50.0


def check_size(width: int, height: int, source: str) -> None:
    """Reject an image too large or too elongated to decode and resize safely (see the module notes)."""
    if width < 1 or height < 1:
        raise BadInputError(source, f"image of {width} x {height} pixels has no pixels")
    if width * height > MAX_PIXELS:
        raise BadInputError(
            source,
            f"image of {width} x {height} pixels ({width * height / 1e6:.0f} megapixels) is over the limit "
            f"of {MAX_PIXELS / 1e6:.0f} megapixels (bgtai.io.image.MAX_PIXELS); scale it down first",
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise BadInputError(
            source,
            f"image of {width} x {height} pixels is more elongated than {MAX_ASPECT:.0f}:1 "
            "(bgtai.io.image.MAX_ASPECT); crop it first",
        )


def _to_rgb(image: Image.Image, source: str) -> Image.Image:
    """Any Pillow mode to RGB: transparency composited over white, 16-bit scaled, CMYK converted."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P" or mode == "PA":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit grey (PNG opens as I;16 or I): full range 0..65535 maps to 0..255
        values = np.asarray(image, dtype=np.float64) / 257.0
        grey = np.clip(np.round(values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if mode == "F":
        values = np.asarray(image, dtype=np.float64)
        scale = 255.0 if values.size and np.nanmax(values) <= 1.0 else 1.0
        grey = np.clip(np.round(values * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    try:
        return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
    except (ValueError, OSError) as error:
        raise BadInputError(source, f"cannot convert image mode {mode} to RGB ({error})") from error


def load_image(source: object) -> Image.Image:
    """A path, PIL image, HxW / HxWxC uint8 or float array, or CxHxW tensor to an RGB PIL image."""
    if isinstance(source, Image.Image):
        check_size(*source.size, "<PIL image>")
        return _to_rgb(source, "<PIL image>")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise BadInputError(name, "file not found")
        if path.stat().st_size == 0:
            raise BadInputError(name, "empty file (0 bytes)")
        try:
            with Image.open(path) as opened:  # reads the header only
                check_size(*opened.size, name)
                opened.load()  # decode now so a truncated file fails here, with its name
                return _to_rgb(opened, name)
        except BadInputError:
            raise  # check_size, or a mode that cannot become RGB: already says what is wrong
        except UnidentifiedImageError as error:
            raise BadInputError(name, "not an image Pillow can read") from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise BadInputError(name, f"refused as a possible decompression bomb ({error})") from error
        except (OSError, SyntaxError, ValueError) as error:
            raise BadInputError(name, f"cannot decode image ({error})") from error
    if hasattr(source, "detach"):  # torch tensor (C, H, W) in [0, 1]
        array = source.detach().cpu().numpy()  # type: ignore[attr-defined]
        if array.ndim == 3 and array.shape[0] in (1, 3, 4):
            array = np.moveaxis(array, 0, -1)
        return _array_to_rgb(array, "<tensor>")
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, "<array>")
    raise BadInputError(repr(type(source)), "not an image: expected a path, PIL image, array or tensor")


def _array_to_rgb(array: np.ndarray, source: str) -> Image.Image:
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise BadInputError(source, f"image array of shape {array.shape}: expected HxW, HxWx3 or HxWx4")
    if array.size == 0:
        raise BadInputError(source, "empty image array")
    check_size(array.shape[1], array.shape[0], source)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise BadInputError(source, "image array contains NaN or infinite values")
        array = np.clip(np.round(array * 255.0), 0, 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise BadInputError(source, f"image array of dtype {array.dtype}: expected uint8 or float in [0, 1]")
    return _to_rgb(Image.fromarray(array), source)


def resize_center_crop(image: Image.Image, size: int) -> np.ndarray:
    """Shorter side to `size` (bicubic), centre crop to size x size; float32 (3, size, size) in [0, 1]."""
    width, height = image.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    resized = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    cropped = resized.crop((left, top, left + size, top + size))
    return np.asarray(cropped, dtype=np.float32).transpose(2, 0, 1) / 255.0
