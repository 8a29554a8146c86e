"""Test folds of the hashed splits: fold 0 is the default split, the folds partition the items."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bgtai.data.splits import HASHED_TEST_FRACTION, _hash_fraction, hashed_folds, is_test_item, split_rule


def _stamps(count: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=f"animals/stamp-{i}") for i in range(count)]


def test_fold_zero_is_the_default_split_and_every_item_is_test_in_exactly_one_fold() -> None:
    stamps = _stamps(600)
    default = [is_test_item("tuxpaint", s) for s in stamps]
    assert default == [_hash_fraction("tuxpaint", s.id) < HASHED_TEST_FRACTION for s in stamps]
    assert default == [is_test_item("tuxpaint", s, 0) for s in stamps]
    folds = [[is_test_item("tuxpaint", s, fold) for fold in range(hashed_folds())] for s in stamps]
    assert all(sum(row) == 1 for row in folds)
    shares = [sum(row[fold] for row in folds) / len(stamps) for fold in range(hashed_folds())]
    assert 0.25 < shares[0] < 0.35 and 0.25 < shares[1] < 0.35 and 0.35 < shares[2] < 0.45


def test_official_splits_ignore_the_fold_and_bad_folds_are_refused() -> None:
    val = SimpleNamespace(split="val")
    assert all(is_test_item("coco", val, fold) for fold in range(hashed_folds()))
    assert split_rule("tuxpaint") == split_rule("tuxpaint", 0) and "below 0.3" in split_rule("tuxpaint")
    assert "[0.3, 0.6)" in split_rule("tuxpaint", 1) and "[0.6, 1.0)" in split_rule("asterisk", 2)
    for bad in (3, -1, True):
        with pytest.raises(ValueError, match="test fold"):
            is_test_item("tuxpaint", _stamps(1)[0], bad)
