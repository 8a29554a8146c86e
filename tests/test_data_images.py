"""COCO captions and Tux Paint stamps in their official layouts, built tiny in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from bgtai.data import load_coco, load_tuxpaint
from bgtai.errors import BadInputError


def write_image(path: Path, fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (200, 30, 30)).save(path, format=fmt)
    return path


def write_ogg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(4800, dtype=np.float32), 48000, format="OGG", subtype="VORBIS")
    return path


def make_coco(root: Path, split: str, images: dict[int, str], skip_file: int | None = None) -> None:
    annotations = [
        {"image_id": image_id, "id": image_id * 10 + k, "caption": f" caption {k} of {image_id} "}
        for image_id in images
        for k in (5, 1, 2, 3, 4)  # ids out of order: captions come back sorted by annotation id
    ]
    data = {
        "info": {},
        "licenses": [],
        "images": [{"id": i, "file_name": name, "width": 8, "height": 6} for i, name in images.items()],
        "annotations": annotations,
    }
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"captions_{split}2017.json").write_text(json.dumps(data))
    for image_id, name in images.items():
        if image_id != skip_file:
            write_image(root / f"{split}2017" / name, "JPEG")


def test_coco_images_with_five_sorted_captions_per_split(tmp_path: Path) -> None:
    make_coco(tmp_path, "train", {790: "000000000790.jpg"})
    make_coco(tmp_path, "val", {397133: "000000397133.jpg", 37777: "000000037777.jpg"})
    data = load_coco(tmp_path)
    assert [(item.id, item.split) for item in data] == [("790", "train"), ("397133", "val"), ("37777", "val")]
    assert data.items[1].texts == tuple(f"caption {k} of 397133" for k in (1, 2, 3, 4, 5))
    assert data.items[1].image == tmp_path / "val2017" / "000000397133.jpg"
    assert len(load_coco(tmp_path, split="val")) == 2


def test_coco_missing_image_is_reported(tmp_path: Path) -> None:
    make_coco(tmp_path, "val", {1: "a.jpg", 2: "b.jpg"}, skip_file=2)
    with pytest.raises(BadInputError, match=r"captions_val2017\.json.*b\.jpg"):
        load_coco(tmp_path, split="val")
    kept = load_coco(tmp_path, split="val", on_missing="keep")
    assert [item.image is None for item in kept] == [False, True] and "b.jpg" in kept.missing[0]


def make_tuxpaint(root: Path) -> Path:
    stamps = root / "stamps"
    koala = stamps / "animals" / "marsupials"
    write_image(koala / "koala.png")
    (koala / "koala.txt").write_text("A koala.\nde.utf8=Ein Koala.\nfr.utf8=Un koala.\n", encoding="utf-8")
    write_ogg(koala / "koala.ogg")
    write_ogg(koala / "koala_desc.ogg")
    write_ogg(koala / "koala_desc_de.ogg")
    (koala / "koala.dat").write_text("colorable\nnomirror\n\n")
    write_ogg(koala / "wallaby_desc.ogg")  # spoken description only, no picture
    signs = stamps / "town" / "roadsigns"
    write_image(signs / "xing_school.png")
    write_image(signs / "xing_school_mirror.png")
    (signs / "xing_school.txt").write_text("A school crossing sign.\n", encoding="utf-8")
    letters = stamps / "symbols" / "alphabets" / "english"
    write_image(letters / "a_filled.png")
    (letters / "a_filled.txt").write_text("The letter a.\n", encoding="utf-8")
    write_ogg(letters / "a_filled_en_GB.ogg")  # a localised sound, not a stamp of its own
    (letters / "u_with_umlaut.dat").write_text("noflip\n")  # an orphan flags file
    clothes = stamps / "clothes"
    (clothes).mkdir(parents=True)
    (clothes / "bikini.txt").write_text("A bikini.\n", encoding="utf-8")  # an SVG-only stamp upstream
    return root


def test_tuxpaint_stamps_join_picture_sound_text_and_speech(tmp_path: Path) -> None:
    data = load_tuxpaint(make_tuxpaint(tmp_path / "tuxpaint"))
    by_id = {item.id: item for item in data}
    assert sorted(by_id) == [
        "animals/marsupials/koala",
        "animals/marsupials/wallaby",
        "clothes/bikini",
        "symbols/alphabets/english/a_filled",
        "town/roadsigns/xing_school",
    ]
    koala = by_id["animals/marsupials/koala"]
    assert koala.image is not None and koala.image.name == "koala.png"
    assert koala.audio is not None and koala.audio.name == "koala.ogg"
    assert koala.texts == ("A koala.",) and koala.label == "animals/marsupials"
    assert koala.meta["description.de"] == "Ein Koala." and koala.meta["description.fr"] == "Un koala."
    assert koala.meta["speech"].endswith("koala_desc.ogg") and koala.meta["speech.de"].endswith("koala_desc_de.ogg")
    assert koala.meta["flags"] == "colorable,nomirror" and koala.meta["category"] == "animals"
    sign = by_id["town/roadsigns/xing_school"]
    assert sign.meta["mirror_image"].endswith("xing_school_mirror.png") and sign.audio is None
    letter = by_id["symbols/alphabets/english/a_filled"]
    assert letter.audio is None and letter.meta["sound.en_GB"].endswith("a_filled_en_GB.ogg")
    assert by_id["clothes/bikini"].image is None and by_id["clothes/bikini"].texts == ("A bikini.",)
    wallaby = by_id["animals/marsupials/wallaby"]
    assert wallaby.image is None and not wallaby.texts and wallaby.meta["speech"].endswith("wallaby_desc.ogg")
    assert "clothes" in (data.classes or [])


def test_tuxpaint_without_stamps_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tuxpaint").mkdir()
    with pytest.raises(BadInputError, match="stamps"):
        load_tuxpaint(tmp_path / "tuxpaint")
