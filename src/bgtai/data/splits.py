"""Which items of a dataset are test items: one rule per dataset, shared by training and evaluation.

Each dataset's rule is the `SplitRule` of its registry entry (`bgtai.data.registry`); the rules of the
built-in datasets, as their modules define them, are:

The joint-space trainer leaves test items out of its pairs and `bgtai eval retrieval` scores
only them, so a retrieval figure never measures memorised training pairs. "Item" is not
enough: Tux Paint's iguana, giraffe and wombat play the nandou's sound, two stamps can share
a picture file, and two Asterisk files say "Thank you." So items are first joined
into content groups (union-find): two items are in one group when they share
- a sound or spoken description whose decoded samples are the same (`bgtai.data.content_hash`:
  16-bit samples and rate, whatever the file or container),
- a picture (same file bytes, or the same decoded pixels), or
- a caption, description or transcript (same text after case and whitespace normalisation).
Then the side of a whole group is decided at once:

- Tux Paint and Asterisk have no official split: a group is test when a hash of its smallest
  member id falls below `HASHED_TEST_FRACTION`. An item that shares nothing is a group of its
  own and keeps the side of the old per-item rule, the split does not depend on the order items
  are listed in, and an item keeps its side when unrelated items are added. For
  cross-validation the hash range is cut into `HASHED_FOLD_BOUNDS`: fold 0 is the default test
  split, folds 1 and 2 the rest, so three models, each trained without one fold, score every
  group once. Compared with the per-item rule (`.venv/bin/python scripts/split_moves.py`), the
  default split (fold 0) moved 77 of 954 Tux Paint stamps (37 into test, 40 out; the test
  stamps with a sound and a picture went from 39 to 29) and 9 of 568 Asterisk prompts (4 in,
  5 out); under the per-item rule 71 Tux Paint and 7 Asterisk test items shared a sound,
  picture or text with a training item, now none do;
- COCO-mini: `val2017` is test, `train2017` trains (the official split), and FSDD: recordings
  with index 0-4 are test (the dataset's documented split). These sides stay as published; a
  training item sharing content with a test item would be left out of training (`ids_for_training`),
  never moved into the test side. On the data here no COCO picture or caption and no FSDD
  recording is shared across the sides. FSDD transcripts are not compared: they are the ten
  digit words, shared by every recording of a digit by design;
- every other dataset (a rule of kind "none"): nothing is marked test here (their protocols live in `bgtai.eval`).

Grouping needs the whole item list, so the functions take all items of a dataset
(`ids_in_test`, `ids_for_training`, `split_sides`), never one item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bgtai.data.content_hash import Kind, file_hashes, normalise_text
from bgtai.data.registry import dataset_entry

HASHED_TEST_FRACTION = 0.3
# fold k is test when its group's hash lies in [bounds[k], bounds[k + 1]); fold 0 keeps the default split
HASHED_FOLD_BOUNDS: tuple[float, ...] = (0.0, HASHED_TEST_FRACTION, 0.6, 1.0)


@dataclass(frozen=True)
class SplitSides:
    """Item ids by side: `excluded` are training-side items of an official split that share content with a
    test item, so training leaves them out too; `train` is everything else that is not test."""

    test: frozenset[str]
    train: frozenset[str]
    excluded: frozenset[str]


def _hash_fraction(dataset: str, key: str) -> float:
    digest = hashlib.blake2b(f"test-split:{dataset}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def hashed_folds() -> int:
    return len(HASHED_FOLD_BOUNDS) - 1


def check_fold(fold: int) -> int:
    if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < hashed_folds():
        raise ValueError(f"test fold {fold!r}: use 0 to {hashed_folds() - 1} (0 is the default test split)")
    return fold


def _content_keys(dataset: str, items: Sequence[Any]) -> list[list[str]]:
    """Each item's content keys ("audio:<hash>", "file:<hash>", "pixels:<hash>", "text:<normalised>")."""
    keys: list[list[str]] = [[] for _ in items]
    # texts that are class words (FSDD's digit words) are shared by design: equal texts say nothing there
    texts_are_classes = dataset_entry(dataset).split.texts_are_classes
    audio: list[tuple[int, Path]] = []
    images: list[tuple[int, Path]] = []
    for index, item in enumerate(items):
        if item.audio is not None:
            audio.append((index, Path(item.audio)))
        speech = (item.meta or {}).get("speech")
        if speech:
            audio.append((index, Path(speech)))
        if item.image is not None:
            images.append((index, Path(item.image)))
        if not texts_are_classes:
            keys[index].extend(f"text:{normalise_text(text)}" for text in item.texts if normalise_text(text))
    hashed: list[tuple[Kind, list[tuple[int, Path]]]] = [("audio", audio), ("file", images), ("pixels", images)]
    for kind, files in hashed:
        for (index, _), digest in zip(files, file_hashes(kind, [path for _, path in files])):
            keys[index].append(f"{kind}:{digest}")
    return keys


def content_groups(dataset: str, items: Sequence[Any]) -> list[list[str]]:
    """The items' ids joined into groups of shared content (union-find), each sorted, sorted by first id."""
    ids = [str(item.id) for item in items]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"{dataset}: item ids must be unique to split by content; repeated: {', '.join(repeated[:5])}")
    parent = list(range(len(items)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_with: dict[str, int] = {}
    for index, keys in enumerate(_content_keys(dataset, items)):
        for key in keys:
            other = first_with.setdefault(key, index)
            parent[root(index)] = root(other)
    members: dict[int, list[str]] = {}
    for index, item_id in enumerate(ids):
        members.setdefault(root(index), []).append(item_id)
    return sorted(sorted(group) for group in members.values())


def split_sides(dataset: str, items: Sequence[Any], fold: int = 0) -> SplitSides:
    """Test, training and excluded ids of `items`, which must be every item of `dataset` (its loader's output).

    `fold` picks another test fold of the hashed datasets (Tux Paint, Asterisk) for cross-validation;
    datasets with an official split have one test split whatever the fold.
    """
    check_fold(fold)
    items = list(items)
    rule = dataset_entry(dataset).split
    if rule.kind == "none":
        return SplitSides(frozenset(), frozenset(str(item.id) for item in items), frozenset())
    groups = content_groups(dataset, items)
    test: set[str] = set()
    excluded: set[str] = set()
    if rule.kind == "hashed":
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        for group in groups:
            if low <= _hash_fraction(dataset, group[0]) < high:
                test.update(group)
    else:
        is_test = rule.is_test
        assert is_test is not None  # SplitRule checks it
        official = {str(item.id) for item in items if is_test(item)}
        for group in groups:
            if official.intersection(group):
                excluded.update(set(group) - official)
        test = official
    everyone = {str(item.id) for item in items}
    return SplitSides(frozenset(test), frozenset(everyone - test - excluded), frozenset(excluded))


def ids_in_test(dataset: str, items: Sequence[Any], fold: int = 0) -> set[str]:
    """Ids of the test items among `items` (all items of `dataset`): what `bgtai eval retrieval` scores."""
    return set(split_sides(dataset, items, fold).test)


def ids_for_training(dataset: str, items: Sequence[Any], fold: int = 0) -> set[str]:
    """Ids training may use: not test, and sharing no content with a test item."""
    return set(split_sides(dataset, items, fold).train)


def split_rule(dataset: str, fold: int = 0) -> str:
    """The split of registered dataset `dataset` in words (its `SplitRule`), for test fold `fold`."""
    check_fold(fold)
    rule = dataset_entry(dataset).split
    if fold and rule.kind == "hashed":  # fold 0 keeps the wording of the default split
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        return (
            f"test fold {fold}, content-grouped: {rule.shared} form one group; groups whose smallest "
            f"id hashes in [{low}, {high}) are test (about {high - low:.0%})"
        )
    return rule.description
