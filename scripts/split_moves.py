"""How the content-grouped test split (bgtai.data.splits) differs from the old per-item hash rule, on the real data.

For Tux Paint and Asterisk, per test fold: items the grouping moved into or out of the test side, and how
many test items shared content (decoded audio, picture, text) with a training item under each rule.
For COCO and FSDD: training items sharing content with a test item (left out of training).

    .venv/bin/python scripts/split_moves.py
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bgtai.data import load_asterisk, load_coco, load_fsdd, load_tuxpaint
from bgtai.data.splits import HASHED_FOLD_BOUNDS, _content_keys, _hash_fraction, hashed_folds, split_sides


def _leaks(keys: list[list[str]], ids: list[str], test: set[str]) -> tuple[int, dict[str, int]]:
    """(test items sharing a key with a training item, shared keys by kind)."""
    train_keys = {key for item_id, item_keys in zip(ids, keys) if item_id not in test for key in item_keys}
    leaking = 0
    kinds: dict[str, int] = {}
    for item_id, item_keys in zip(ids, keys):
        shared = [key for key in item_keys if key in train_keys] if item_id in test else []
        leaking += bool(shared)
        for key in shared:
            kind = key.split(":", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
    return leaking, kinds


def hashed(dataset: str, items: Sequence[Any]) -> None:
    ids = [str(item.id) for item in items]
    keys = _content_keys(dataset, items)
    for fold in range(hashed_folds()):
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        old = {item_id for item_id in ids if low <= _hash_fraction(dataset, item_id) < high}
        new = set(split_sides(dataset, items, fold).test)
        old_leaks, old_kinds = _leaks(keys, ids, old)
        new_leaks, _ = _leaks(keys, ids, new)
        print(
            f"{dataset} fold {fold}: {len(ids)} items; test old {len(old)}, new {len(new)}; "
            f"moved into test {len(new - old)}, out of test {len(old - new)}; "
            f"test items sharing content with training: old {old_leaks} {old_kinds}, new {new_leaks}"
        )
        # what `bgtai eval retrieval` scores: Tux Paint sound-picture objects, Asterisk speech-transcript prompts
        other = "a picture" if dataset == "tuxpaint" else "a transcript"
        both = {str(i.id) for i in items if i.audio is not None and (i.image if dataset == "tuxpaint" else i.texts)}
        print(f"  test items with audio and {other}: old {len(old & both)}, new {len(new & both)}")
        if fold == 0:
            print(f"  into test: {sorted(new - old)}\n  out of test: {sorted(old - new)}")


def official(dataset: str, items: Sequence[Any]) -> None:
    sides = split_sides(dataset, items)
    ids = [str(item.id) for item in items]
    leaks, kinds = _leaks(_content_keys(dataset, items), ids, set(sides.test))
    print(
        f"{dataset}: {len(ids)} items; test {len(sides.test)}, train {len(sides.train)}; "
        f"test items sharing content with training {leaks} {kinds}; training items left out {len(sides.excluded)}"
        + (f": {sorted(sides.excluded)}" if sides.excluded else "")
    )


def main() -> None:
    hashed("tuxpaint", list(load_tuxpaint()))
    hashed("asterisk", list(load_asterisk()))
    official("coco", list(load_coco()))
    official("fsdd", list(load_fsdd()))


if __name__ == "__main__":
    main()
