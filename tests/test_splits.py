"""Test folds of the hashed splits: fold 0 is the default split, the folds partition the items."""

from __future__ import annotations

import pytest

from bgtai.data import Item
from bgtai.data.splits import HASHED_TEST_FRACTION, _hash_fraction, hashed_folds, ids_in_test, split_rule


def _stamps(count: int) -> list[Item]:
    return [Item(id=f"animals/stamp-{i}") for i in range(count)]  # no shared content: one group each


def test_fold_zero_is_the_default_split_and_every_item_is_test_in_exactly_one_fold() -> None:
    stamps = _stamps(600)
    default = ids_in_test("tuxpaint", stamps)
    assert default == {s.id for s in stamps if _hash_fraction("tuxpaint", s.id) < HASHED_TEST_FRACTION}
    assert default == ids_in_test("tuxpaint", stamps, 0)
    folds = [ids_in_test("tuxpaint", stamps, fold) for fold in range(hashed_folds())]
    assert all(sum(s.id in fold for fold in folds) == 1 for s in stamps)
    shares = [len(fold) / len(stamps) for fold in folds]
    assert 0.25 < shares[0] < 0.35 and 0.25 < shares[1] < 0.35 and 0.35 < shares[2] < 0.45


def test_official_splits_ignore_the_fold_and_bad_folds_are_refused() -> None:
    val = Item(id="1", split="val")
    assert all(ids_in_test("coco", [val], fold) == {"1"} for fold in range(hashed_folds()))
    assert split_rule("tuxpaint") == split_rule("tuxpaint", 0) and "below 0.3" in split_rule("tuxpaint")
    assert "[0.3, 0.6)" in split_rule("tuxpaint", 1) and "[0.6, 1.0)" in split_rule("asterisk", 2)
    for bad in (3, -1, True):
        with pytest.raises(ValueError, match="test fold"):
            ids_in_test("tuxpaint", _stamps(1), bad)
