"""COCO captions in the official layout: `annotations/captions_<split>2017.json`, `<split>2017/<file_name>`."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import folder, trainable
from bgtai.data.registry import DatasetEntry, SplitRule
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root
from bgtai.errors import BadInputError

FOLDER = "coco_mini"
SPLITS = ("train", "val")

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions


def load_coco(root: Path | None = None, split: str | None = None, on_missing: OnMissing = "error") -> Dataset:
    """Images of one split (or of every split whose annotation file is present) with all their captions."""
    base = dataset_root(root, FOLDER)
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown COCO split {split!r}; use one of {', '.join(SPLITS)}")
    splits = [split] if split is not None else [s for s in SPLITS if _annotations(base, s).is_file()]
    if not splits:
        raise BadInputError(str(base / "annotations"), "no captions_<split>2017.json file")
    items: list[Item] = []
    reports: list[str] = []
    for name in splits:
        loaded, missing = _load_split(base, name, on_missing)
        items.extend(loaded)
        reports.extend(missing)
    return Dataset("coco", base, items, missing=reports)


def _annotations(base: Path, split: str) -> Path:
    return base / "annotations" / f"captions_{split}2017.json"


def _load_split(base: Path, split: str, on_missing: OnMissing) -> tuple[list[Item], list[str]]:
    path = _annotations(base, split)
    if not path.is_file():
        raise BadInputError(str(path), "annotation file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images, annotations = data["images"], data["annotations"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise BadInputError(str(path), f"not a COCO captions file ({error})") from error
    captions: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for annotation in annotations:
        captions[annotation["image_id"]].append((annotation["id"], annotation["caption"].strip()))
    missing = MissingFiles(path, on_missing)
    items: list[Item] = []
    for index, image in enumerate(images):
        # a JSON file has no row lines; the report names the image's position in "images" instead
        found, keep = missing.file(base / f"{split}2017" / image["file_name"], index)
        if not keep:
            continue
        items.append(
            Item(
                id=str(image["id"]),
                image=found,
                texts=tuple(text for _, text in sorted(captions.get(image["id"], []))),
                split=split,
                meta={
                    "file_name": image["file_name"],
                    "width": str(image.get("width", "")),
                    "height": str(image.get("height", "")),
                },
            )
        )
    missing.warn()
    return items, missing.reports


# ---------------------------------------------------------------------------------------------
# training pairs and the registry entry


def coco_items(options: PairOptions, root: Path | None) -> list[Any]:
    """COCO items of `coco_splits` that training may use: split over both official splits, then cut."""
    everything = load_coco(folder(root, "coco"))
    return [item for item in trainable(options, "coco", everything) if item.split in options.coco_splits]


def coco_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """COCO-mini images of `coco_splits`, one pair per caption (label = the image, so its other captions are not
    negatives); with `gloss_view`, also one per caption's gloss (`bgtai.gloss.view`)."""
    from bgtai.data.pairs import Pair

    for item in coco_items(options, root):
        for caption in item.texts:
            yield Pair(
                "coco caption",
                "coco",
                f"coco:{item.id}",
                image=item.image,
                caption=caption,
                visual_caption=caption,
                label=f"coco:{item.id}",
            )
            if options.gloss_view:
                from bgtai.gloss.view import gloss_view

                gloss = gloss_view(caption)
                yield Pair(
                    "coco caption gloss",
                    "coco",
                    f"coco:{item.id}",
                    image=item.image,
                    caption=gloss,
                    visual_caption=gloss,
                    label=f"coco:{item.id}",
                )


ENTRY = DatasetEntry(
    name="coco",
    folder=FOLDER,
    display="COCO-mini",
    loader=load_coco,
    split=SplitRule(
        "official",
        "val2017 is test (official split); train2017 images sharing a picture or a caption with val2017 "
        "are left out of training (content-checked)",
        is_test=lambda item: str(item.split or "") == "val",
    ),
    pairs={"coco": coco_pairs},
)
