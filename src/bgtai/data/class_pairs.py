"""The `class_pairs` pair source: class-level audio-picture pairs (offered by the UrbanSound8K entry).

UrbanSound8K clips of a class (from `urbansound8k_folds`, `class_pairs_per_class` a class) with Tux Paint
or COCO pictures whose description names the class, with the audio caption (class), the visual caption
(the picture's description) and an audio-visual caption joining both. Only pictures training may use
take part (`bgtai.data.splits`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.data.pair_tools import class_clips, class_phrase, template, trainable

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions

# UrbanSound8K class -> words that name it in a picture's description or caption
PICTURE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "air_conditioner": ("air conditioner", "fan"),
    "car_horn": ("car", "taxi"),
    "children_playing": ("children", "child", "kids", "playground"),
    "dog_bark": ("dog", "puppy"),
    "drilling": ("drill",),
    "engine_idling": ("truck", "bus", "engine", "tractor"),
    "gun_shot": ("gun", "cannon", "rifle"),
    "jackhammer": ("jackhammer", "construction"),
    "siren": ("ambulance", "police", "fire engine", "fire truck"),
    "street_music": ("guitar", "drum", "trumpet", "saxophone", "violin"),
}


def class_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """UrbanSound8K clips of a class x pictures whose text names the class (class-level, not item-level)."""
    from bgtai.data.coco import coco_items
    from bgtai.data.pairs import Pair
    from bgtai.data.registry import dataset_entry

    pictures: list[tuple[str, Path, str]] = []  # (id, image, description)
    for item in trainable(options, "tuxpaint", dataset_entry("tuxpaint").load(root)):
        if item.image is not None and item.texts:
            pictures.append((f"tuxpaint:{item.id}", item.image, item.texts[0]))
    for item in coco_items(options, root):
        if item.image is not None and item.texts:
            pictures.append((f"coco:{item.id}", item.image, item.texts[0]))
    clips_of = dataset_entry("urbansound8k").load(root)
    items = [i for i in clips_of if i.fold in set(options.urbansound8k_folds)]
    clips = class_clips(items, options.class_pairs_per_class, options.seed + 1)
    for label in sorted({str(c.label) for c in clips}):
        words = PICTURE_KEYWORDS.get(label, (class_phrase(label),))
        matching = [p for p in pictures if any(re.search(rf"\b{re.escape(w)}s?\b", p[2].lower()) for w in words)]
        if not matching:
            continue
        for number, clip in enumerate(c for c in clips if c.label == label):
            picture_id, image, description = matching[number % len(matching)]
            audio_caption = template(clip.id, options.seed).format(class_phrase(label))
            # the audio-visual caption describes both (SLAVA's AV captions): the sound's caption, then the picture's
            av_caption = f"{audio_caption}, with {description[:1].lower()}{description[1:]}"
            yield Pair(
                "class-level audio-picture",
                "class_pairs",
                f"urbansound8k:{clip.group}",
                audio=clip.audio,
                image=image,
                caption=av_caption,
                audio_caption=audio_caption,
                visual_caption=description,
                label=f"class:{label}",
            )
