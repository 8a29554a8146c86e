"""Image decoding: every Pillow mode to RGB, deterministic resize/crop, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bgtai.errors import BadInputError
from bgtai.io.image import load_image, resize_center_crop


def _saved(tmp_path: Path, image: Image.Image, name: str) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


def test_every_mode_becomes_rgb_with_the_expected_colour(tmp_path: Path) -> None:
    red = Image.new("RGB", (8, 8), (255, 0, 0))
    palette = red.convert("P")
    transparent = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    half_blue = Image.new("RGBA", (8, 8), (0, 0, 255, 128))
    grey16 = Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16))
    cases = {
        "l.png": (Image.new("L", (8, 8), 100), (100, 100, 100)),
        "la.png": (Image.new("LA", (8, 8), (0, 0)), (255, 255, 255)),  # fully transparent: white
        "p.png": (palette, (255, 0, 0)),
        "rgba.png": (transparent, (255, 255, 255)),
        "half.png": (half_blue, (127, 127, 255)),
        "cmyk.jpg": (Image.new("CMYK", (8, 8), (0, 0, 0, 0)), (255, 255, 255)),
        "grey16.png": (grey16, (255, 255, 255)),
    }
    for name, (image, colour) in cases.items():
        rgb = load_image(_saved(tmp_path, image, name))
        assert rgb.mode == "RGB", name
        centre = np.asarray(rgb)[4, 4]
        assert np.allclose(centre, colour, atol=3), (name, centre)


def test_palette_with_transparency_is_composited_over_white(tmp_path: Path) -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0] * 256)
    image.info["transparency"] = 0
    assert np.asarray(load_image(_saved(tmp_path, image, "pt.png")))[0, 0].tolist() == [255, 255, 255]


def test_arrays_tensors_and_pil_give_the_same_image() -> None:
    array = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    from_array = np.asarray(load_image(array))
    from_float = np.asarray(load_image(array.astype(np.float32) / 255.0))
    from_tensor = np.asarray(load_image(torch.from_numpy(array).permute(2, 0, 1).float() / 255.0))
    from_pil = np.asarray(load_image(Image.fromarray(array)))
    assert np.array_equal(from_array, from_pil)
    assert np.array_equal(from_array, from_float) and np.array_equal(from_array, from_tensor)


def test_resize_center_crop_is_deterministic_and_square() -> None:
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (300, 500, 3), dtype=np.uint8))
    a, b = resize_center_crop(image, 224), resize_center_crop(image, 224)
    assert a.shape == (3, 224, 224) and a.dtype == np.float32
    assert np.array_equal(a, b) and 0.0 <= a.min() and a.max() <= 1.0
    tiny = resize_center_crop(Image.new("RGB", (3, 2), (10, 20, 30)), 224)  # upscaled, not crashed
    assert tiny.shape == (3, 224, 224)


def test_bad_images_name_the_file_and_the_problem(tmp_path: Path) -> None:
    good = _saved(
        tmp_path, Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)), "good.png"
    )
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "text.png"
    text.write_text("not an image")
    for path, problem in {
        truncated: "cannot decode",
        empty: "empty file",
        text: "not an image",
        tmp_path / "none.png": "not found",
    }.items():
        with pytest.raises(BadInputError) as caught:
            load_image(path)
        assert str(path) in str(caught.value) and problem in str(caught.value)
    with pytest.raises(BadInputError, match="NaN"):
        load_image(np.full((4, 4, 3), np.nan, dtype=np.float32))
