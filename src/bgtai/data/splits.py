"""Which items of a dataset are test items: one rule per dataset, shared by training and evaluation.

The joint-space trainer leaves test items out of its pairs and `bgtai eval retrieval` scores
only them, so a retrieval figure never measures memorised training pairs:

- COCO-mini: `val2017` is test, `train2017` trains (the official split);
- FSDD: recordings with index 0-4 are test (the dataset's own documented split), the rest train;
- Tux Paint and Asterisk have no official split: a stamp or prompt is test when a hash of its
  id falls below `HASHED_TEST_FRACTION`, so the split is stable whatever order files are
  listed in, and an item keeps its side when others are added;
- every other dataset: nothing is marked test here (their protocols live in `bgtai.eval`).
"""

from __future__ import annotations

import hashlib
from typing import Any

HASHED_TEST_FRACTION = 0.3
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


def is_test_item(dataset: str, item: Any) -> bool:
    """True when `item` (a `bgtai.data.Item` of `dataset`) belongs to the dataset's test split."""
    if dataset == "coco":
        return str(item.split or "") == "val"
    if dataset == "fsdd":
        return int(item.meta["index"]) in FSDD_TEST_INDICES
    if dataset in ("tuxpaint", "asterisk"):
        return _hash_fraction(dataset, str(item.id)) < HASHED_TEST_FRACTION
    return False


def split_rule(dataset: str) -> str:
    return SPLIT_RULES.get(dataset, "no test split defined")
