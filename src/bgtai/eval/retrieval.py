"""Cross-modal retrieval: built-in pair sets from the real datasets, and their evaluation.

A `PairSet` holds two sides (say Tux Paint sounds and pictures) and which items of side B
are correct for each item of side A; both directions (A->I and I->A) are scored with the
chunked metrics of `bgtai.eval.metrics`. Several correct items per query are the rule, not
the exception: 5 captions per COCO image, every recording of "seven" for the text "seven".
Identical texts on a gallery side are merged into one gallery item, so a query is never
judged against copies of its own answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from bgtai.errors import BadInputError
from bgtai.eval.metrics import DEFAULT_KS, Relevance, RetrievalResult, retrieval_metrics
from bgtai.eval.zeroshot import JointEmbedder

Level = Literal["item", "class"]
LETTER = {"audio": "A", "text": "T", "image": "I"}


@dataclass(frozen=True)
class Side:
    name: str  # what the inputs are: "sound", "speech", "description", "picture", "caption", "transcript"
    modality: str  # "audio", "text" or "image"
    inputs: list[Any]


@dataclass(frozen=True)
class PairSet:
    name: str
    a: Side
    b: Side
    links: list[set[int]]  # links[i]: indices into b.inputs correct for a.inputs[i]
    level: Level = "item"
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.links) != len(self.a.inputs):
            raise ValueError(f"{self.name}: {len(self.links)} link sets for {len(self.a.inputs)} items on side A")

    def reverse_links(self) -> list[set[int]]:
        reverse: list[set[int]] = [set() for _ in self.b.inputs]
        for i, targets in enumerate(self.links):
            for j in targets:
                reverse[j].add(i)
        return reverse


def direction_label(query: Side, gallery: Side) -> str:
    """'A->I' across modalities; side names ('speech->sound') within one modality."""
    if query.modality != gallery.modality:
        return f"{LETTER[query.modality]}->{LETTER[gallery.modality]}"
    return f"{query.name}->{gallery.name}"


def pairs_from_texts(a_inputs: list[Any], a_texts: list[Sequence[str]]) -> tuple[list[str], list[set[int]]]:
    """Distinct texts as side B, and for each A item the indices of its texts."""
    index: dict[str, int] = {}
    links = []
    for texts in a_texts:
        links.append({index.setdefault(t, len(index)) for t in texts})
    return list(index), links


def _embed(model: JointEmbedder, side: Side) -> np.ndarray:
    vectors = np.asarray(model.encode(side.modality, side.inputs), dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(side.inputs):
        raise ValueError(f"model returned {vectors.shape} for {len(side.inputs)} {side.name} inputs")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def evaluate_pairs(
    model: JointEmbedder, pairs: PairSet, ks: Sequence[int] = DEFAULT_KS, chunk_size: int = 256
) -> dict[str, RetrievalResult]:
    """Both directions of `pairs` by cosine similarity: {direction label: result}."""
    a, b = _embed(model, pairs.a), _embed(model, pairs.b)
    return {
        direction_label(pairs.a, pairs.b): retrieval_metrics(a, b, Relevance(sets=pairs.links), ks, chunk_size),
        direction_label(pairs.b, pairs.a): retrieval_metrics(
            b, a, Relevance(sets=pairs.reverse_links()), ks, chunk_size
        ),
    }


# --- built-in pair sets from the loaders in `bgtai.data` ------------------------------


Split = Literal["test", "all"]
SPLITS: tuple[str, ...] = ("test", "all")


def select_split(dataset: str, items: Iterable[Any], split: Split, fold: int = 0) -> tuple[list[Any], str]:
    """The items of `split` ("test": the test items of `bgtai.data.splits`, which training leaves out) and its name.

    `items` must be every item of `dataset`: the test split groups items that share content.
    `fold` is the test fold of the hashed datasets (`bgtai.data.splits.HASHED_FOLD_BOUNDS`) the model left out.
    """
    from bgtai.data.splits import ids_in_test, split_rule

    items = list(items)
    if split == "all":
        return items, "all items (training items included)"
    if split != "test":
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    test = ids_in_test(dataset, items, fold)
    return [item for item in items if str(item.id) in test], f"test split: {split_rule(dataset, fold)}"


def tuxpaint_pairs(first: str, second: str, split: Split = "test", fold: int = 0) -> PairSet:
    """Tux Paint stamps: the same object as picture, sound effect, English description, spoken description.

    Only stamps that have both sides take part. Descriptions shared by several stamps are merged.
    """
    from bgtai.data import load_tuxpaint

    items, split_name = select_split("tuxpaint", load_tuxpaint(), split, fold)
    getters: dict[str, tuple[str, Callable[[Any], Any]]] = {
        "sound": ("audio", lambda it: it.audio),
        "speech": ("audio", lambda it: it.meta.get("speech") if it.meta else None),
        "description": ("text", lambda it: it.texts[0] if it.texts else None),
        "picture": ("image", lambda it: it.image),
    }
    (ma, get_a), (mb, get_b) = getters[first], getters[second]
    usable = [it for it in items if get_a(it) is not None and get_b(it) is not None]
    if not usable:
        raise BadInputError("tuxpaint", f"no stamp has both a {first} and a {second}")
    a_inputs = [get_a(it) for it in usable]
    if mb == "text":
        b_inputs, links = pairs_from_texts(a_inputs, [[get_b(it)] for it in usable])
    else:
        b_inputs, links = [get_b(it) for it in usable], [{i} for i in range(len(usable))]
    return PairSet(
        f"tuxpaint-{first}-{second}",
        Side(first, ma, a_inputs),
        Side(second, mb, b_inputs),
        links,
        "item",
        f"Tux Paint stamps with a {first} and a {second} ({len(usable)} objects; {split_name})",
    )


def captioned_pairs(
    name: str, items: list[Any], modality: str, side_name: str, description: str, level: Level = "item"
) -> PairSet:
    """Items with several captions each (COCO, Clotho) or one transcript each (FSDD, Asterisk)."""
    usable = [it for it in items if getattr(it, modality) is not None and it.texts]
    if not usable:
        raise BadInputError(name, "no item has both its input and a text")
    inputs = [getattr(it, modality) for it in usable]
    texts, links = pairs_from_texts(inputs, [list(it.texts) for it in usable])
    input_modality = "audio" if modality == "audio" else "image"
    text_name = "caption" if side_name != "speech" else "transcript"
    return PairSet(
        name,
        Side(side_name, input_modality, inputs),
        Side(text_name, "text", texts),
        links,
        level,
        f"{description} ({len(usable)} items, {len(texts)} distinct texts)",
    )


def _coco(split: Split, fold: int) -> PairSet:
    from bgtai.data import load_coco

    items, split_name = select_split("coco", load_coco(), split)
    return captioned_pairs(
        "coco-image-text", items, "image", "picture", f"COCO-mini images and their 5 captions; {split_name}"
    )


def _coco_gloss(split: Split, fold: int) -> PairSet:
    """COCO-mini with each caption replaced by its sign-language-style gloss: raw vs glossed caption->image."""
    from bgtai.data import load_coco
    from bgtai.gloss.view import gloss_view

    items, split_name = select_split("coco", load_coco(), split)
    glossed = [replace(item, texts=tuple(gloss_view(text) for text in item.texts)) for item in items]
    return captioned_pairs(
        "coco-image-gloss",
        glossed,
        "image",
        "picture",
        f"COCO-mini images and the gloss of their 5 captions (bgtai.gloss.view); {split_name}",
    )


def _fsdd(split: Split, fold: int) -> PairSet:
    from bgtai.data import load_fsdd

    items, split_name = select_split("fsdd", load_fsdd(), split)
    return captioned_pairs(
        "fsdd-speech-text", items, "audio", "speech", f"FSDD spoken digits and the digit word; {split_name}", "class"
    )


def _asterisk(split: Split, fold: int) -> PairSet:
    from bgtai.data import load_asterisk

    items, split_name = select_split("asterisk", load_asterisk(), split, fold)
    return captioned_pairs(
        "asterisk-speech-text", items, "audio", "speech", f"Asterisk prompts and transcripts; {split_name}"
    )


def _clotho(split: Split, fold: int) -> PairSet:  # no training source uses Clotho: every split is a test split
    from bgtai.data import load_clotho

    items = list(load_clotho(require_audio=True))
    return captioned_pairs(
        "clotho-audio-text", items, "audio", "sound", "Clotho clips with audio here and their 5 captions (format check)"
    )


# each takes the split and the test fold of the hashed datasets (the others have one official test split)
BUILTIN_PAIRS: dict[str, Callable[[Split, int], PairSet]] = {
    "tuxpaint-sound-image": lambda split, fold: tuxpaint_pairs("sound", "picture", split, fold),
    "tuxpaint-sound-text": lambda split, fold: tuxpaint_pairs("sound", "description", split, fold),
    "tuxpaint-speech-text": lambda split, fold: tuxpaint_pairs("speech", "description", split, fold),
    "tuxpaint-speech-image": lambda split, fold: tuxpaint_pairs("speech", "picture", split, fold),
    "tuxpaint-image-text": lambda split, fold: tuxpaint_pairs("picture", "description", split, fold),
    "tuxpaint-speech-sound": lambda split, fold: tuxpaint_pairs("speech", "sound", split, fold),
    "coco-image-text": _coco,
    "coco-image-gloss": _coco_gloss,
    "fsdd-speech-text": _fsdd,
    "asterisk-speech-text": _asterisk,
    "clotho-audio-text": _clotho,
}


def register_pair_set(name: str, build: Callable[[Split, int], PairSet]) -> None:
    """Add a pair set to `bgtai eval retrieval --pairs` (a dataset module of your own calls this beside
    `register_dataset`); `build(split, fold)` makes it, e.g. with `select_split` and `captioned_pairs`."""
    if name in BUILTIN_PAIRS:
        raise ValueError(f"pair set {name!r} is already registered")
    BUILTIN_PAIRS[name] = build


def builtin_pairs(name: str, split: Split = "test", fold: int = 0) -> PairSet:
    """A built-in pair set; `split="test"` keeps the items that joint-space training (test fold `fold`) leaves out."""
    from bgtai.data.splits import check_fold

    if name not in BUILTIN_PAIRS:
        raise ValueError(f"unknown pair set {name!r}; known: {', '.join(BUILTIN_PAIRS)}")
    return BUILTIN_PAIRS[name](split, check_fold(fold))
