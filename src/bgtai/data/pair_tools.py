"""What the pair builders of the datasets share: seeded choices, caption templates, the test-split filter.

Every choice (which clips a class keeps, which caption template) depends only on the inputs and
`seed`, so the same options always give the same pairs. `class_caption_pairs` is a whole builder
for any labelled audio dataset (ESC-50 and UrbanSound8K use it; so can a new dataset's entry).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgtai.data.splits import ids_for_training

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions
    from bgtai.data.registry import PairBuilder

CLASS_TEMPLATES: tuple[str, ...] = ("{}", "the sound of {}", "a recording of {}", "{} can be heard")


def class_phrase(name: str) -> str:
    """'dog_bark' -> 'dog bark', 'Crackling-fire' -> 'crackling fire'."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", name)).strip().lower()


def rank(key: str, seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest(), "little")


def pick(items: Sequence[Any], count: int, seed: int, key: Any = str) -> list[Any]:
    """`count` items chosen by a seeded hash of `key(item)`: stable whatever the input order."""
    ranked = sorted(items, key=lambda item: rank(key(item), seed))
    return ranked[: max(0, count)]


def template(key: str, seed: int) -> str:
    return CLASS_TEMPLATES[rank("template:" + key, seed) % len(CLASS_TEMPLATES)]


def folder(root: Path | None, name: str) -> Path | None:
    """The folder of registered dataset `name` under the data root `root` (None: the loader's default)."""
    from bgtai.data.registry import dataset_entry

    return None if root is None else Path(root) / dataset_entry(name).folder


def trainable(options: PairOptions, dataset: str, items: Iterable[Any]) -> list[Any]:
    """The items training may use; `items` must be the dataset's whole list (the split groups shared content)."""
    items = list(items)
    if not options.exclude_test:
        return items
    allowed = ids_for_training(dataset, items, options.test_fold)
    return [item for item in items if str(item.id) in allowed]


def class_clips(items: Iterable[Any], per_class: int, seed: int) -> list[Any]:
    """At most `per_class` labelled clips a class (seeded choice), classes in sorted order."""
    by_class: dict[str, list[Any]] = {}
    for item in items:
        if item.audio is not None and item.label is not None:
            by_class.setdefault(str(item.label), []).append(item)
    return [clip for label in sorted(by_class) for clip in pick(by_class[label], per_class, seed, key=lambda i: i.id)]


def class_caption_pairs(
    dataset: str, keep: Callable[[PairOptions, Any], bool] = lambda options, item: True
) -> PairBuilder:
    """A builder: labelled clips of `dataset` (those `keep` accepts, at most `options.per_class` a class) with a
    caption made from their class name by a seeded template; pairs of one class are not each other's negatives."""

    def build(options: PairOptions, root: Path | None) -> Iterable[Pair]:
        from bgtai.data.pairs import Pair
        from bgtai.data.registry import dataset_entry

        loaded = dataset_entry(dataset).load(root)
        items = [item for item in trainable(options, dataset, loaded) if keep(options, item)]
        for item in class_clips(items, options.per_class, options.seed):
            caption = template(item.id, options.seed).format(class_phrase(item.label))
            yield Pair(
                "class caption",
                dataset,
                f"{dataset}:{item.group if item.group is not None else item.id}",
                audio=item.audio,
                caption=caption,
                audio_caption=caption,
                label=f"class:{item.label}",
            )

    return build
