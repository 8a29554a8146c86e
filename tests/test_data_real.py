"""The loaders on the real data root: counts from its README (shared/data/README.md)."""

from __future__ import annotations

from collections import Counter

import pytest

from bgtai.data import (
    count_alignment,
    load_asterisk,
    load_bbc_summary,
    load_clotho,
    load_coco,
    load_esc50,
    load_fsdd,
    load_gloss,
    load_sound_library,
    load_tuxpaint,
    load_urbansound8k,
)

pytestmark = pytest.mark.needs_data


def test_esc50_subset_has_all_of_fold_4() -> None:
    data = load_esc50()
    assert len(data) == 414 and len(data.filter(fold=4)) == 400
    fold4 = Counter(data.filter(fold=4).labels())
    assert len(fold4) == 50 and set(fold4.values()) == {8}
    assert all(item.audio is not None and item.audio.suffix == ".flac" for item in data)


def test_urbansound8k_folds() -> None:
    data = load_urbansound8k()
    assert len(data) == 2985
    assert Counter(item.fold for item in data) == {1: 873, 2: 888, 10: 837, 3: 387}
    assert len(data.classes or []) == 10


def test_speech_sets() -> None:
    fsdd = load_fsdd()
    assert len(fsdd) == 3000 and len({item.group for item in fsdd}) == 6
    assert len(load_asterisk()) == 568


def test_tuxpaint_pictures_sounds_and_speech() -> None:
    data = load_tuxpaint()
    pictures = sum(item.image is not None for item in data) + sum("mirror_image" in item.meta for item in data)
    assert pictures == 796
    assert sum(item.audio is not None and item.meta["category"] != "symbols" for item in data) == 108
    assert sum("speech" in item.meta for item in data) == 66


def test_coco_and_clotho() -> None:
    coco = load_coco()
    assert Counter(item.split for item in coco) == {"train": 80, "val": 159}
    assert all(len(item.texts) == 5 for item in coco)
    clotho = load_clotho()
    assert len(clotho) == 3938 and all(len(item.texts) == 5 for item in clotho)
    with_audio = load_clotho(require_audio=True)
    assert len(with_audio) == 7 and {item.split for item in with_audio} == {"evaluation"}


def test_gloss_line_counts() -> None:
    expected = {
        ("aslg", "dev"): 4000,
        ("aslg", "test"): 1000,
        ("phoenix", "train"): 7096,
        ("phoenix", "dev"): 519,
        ("phoenix", "test"): 642,
    }
    assert {key: len(load_gloss(*key)) for key in expected} == expected


def test_phoenix_convention_leaves_dev_and_test_as_they_are_and_cleans_train() -> None:
    for split in ("dev", "test"):
        assert load_gloss("phoenix", split) == load_gloss("phoenix", split, raw=True)
    raw = {token for pair in load_gloss("phoenix", "train", raw=True) for token in pair.target.split()}
    clean = {token for pair in load_gloss("phoenix", "train") for token in pair.target.split()}
    assert (len(raw), len(clean)) == (1232, 1075)
    assert not any(token.startswith(("__", "loc-", "cl-")) or token.endswith("PLUSPLUS") for token in clean)


def test_sound_library() -> None:
    data = load_sound_library()
    assert len(data) == 2378 and len(data.classes or []) == 925


@pytest.mark.integration  # reads and aligns 4450 files: a few seconds
def test_bbc_summaries_are_extractive_but_rarely_in_article_order() -> None:
    pairs = load_bbc_summary()
    counts = count_alignment(pairs)
    assert counts.pairs == 2225
    # nearly every summary sentence is found whole in its article ...
    assert counts.exact_sentences / counts.summary_sentences > 0.99
    assert counts.matched_pairs / counts.pairs > 0.99
    # ... but most summaries do not keep the article's order (README says they do)
    assert counts.monotonic_pairs / counts.matched_pairs < 0.1
    business_001 = next(p for p in pairs if p.id == "business/001")
    assert business_001.source[0] != 0 and not business_001.monotonic
