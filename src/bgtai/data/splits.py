"""Which items of a dataset are test items: one rule per dataset, shared by training and evaluation.

The joint-space trainer leaves test items out of its pairs and `bgtai eval retrieval` scores
only them, so a retrieval figure never measures memorised training pairs:

- COCO-mini: `val2017` is test, `train2017` trains (the official split);
- FSDD: recordings with index 0-4 are test (the dataset's own documented split), the rest train;
- Tux Paint and Asterisk have no official split: a stamp or prompt is test when a hash of its
  id falls below `HASHED_TEST_FRACTION`, so the split is stable whatever order files are
  listed in, and an item keeps its side when others are added. For cross-validation the hash
  range is cut into `HASHED_FOLD_BOUNDS`: fold 0 is the default test split, folds 1 and 2 the
  rest, so three models, each trained without one fold, score every item once;
- every other dataset: nothing is marked test here (their protocols live in `bgtai.eval`).
"""

from __future__ import annotations

import hashlib
from typing import Any

HASHED_TEST_FRACTION = 0.3
# fold k is test when its hash lies in [bounds[k], bounds[k + 1]); fold 0 keeps the default split
HASHED_FOLD_BOUNDS: tuple[float, ...] = (0.0, HASHED_TEST_FRACTION, 0.6, 1.0)
HASHED_DATASETS: tuple[str, ...] = ("tuxpaint", "asterisk")
FSDD_TEST_INDICES = range(5)
SPLIT_RULES: dict[str, str] = {
    "coco": "val2017 is test (official split)",
    "fsdd": "recordings with index 0-4 are test (the dataset's documented split)",
    "tuxpaint": f"stamps whose id hashes below {HASHED_TEST_FRACTION} are test (about {HASHED_TEST_FRACTION:.0%})",
    "asterisk": f"prompts whose file hashes below {HASHED_TEST_FRACTION} are test (about {HASHED_TEST_FRACTION:.0%})",
}


def _hash_fraction(dataset: str, key: str) -> float:
    digest = hashlib.blake2b(f"test-split:{dataset}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def hashed_folds() -> int:
    return len(HASHED_FOLD_BOUNDS) - 1


def check_fold(fold: int) -> int:
    if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < hashed_folds():
        raise ValueError(f"test fold {fold!r}: use 0 to {hashed_folds() - 1} (0 is the default test split)")
    return fold


def is_test_item(dataset: str, item: Any, fold: int = 0) -> bool:
    """True when `item` (a `bgtai.data.Item` of `dataset`) belongs to the dataset's test split.

    `fold` picks another test fold of the hashed datasets (Tux Paint, Asterisk) for cross-validation;
    datasets with an official split have one test split whatever the fold.
    """
    check_fold(fold)
    if dataset == "coco":
        return str(item.split or "") == "val"
    if dataset == "fsdd":
        return int(item.meta["index"]) in FSDD_TEST_INDICES
    if dataset in HASHED_DATASETS:
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        return low <= _hash_fraction(dataset, str(item.id)) < high
    return False


def split_rule(dataset: str, fold: int = 0) -> str:
    check_fold(fold)
    if fold and dataset in HASHED_DATASETS:  # fold 0 keeps the wording of the default split
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        unit = "id" if dataset == "tuxpaint" else "file"
        return f"test fold {fold}: items whose {unit} hashes in [{low}, {high}) are test (about {high - low:.0%})"
    return SPLIT_RULES.get(dataset, "no test split defined")
