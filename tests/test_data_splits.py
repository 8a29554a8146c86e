"""Content-grouped test split: items sharing a sound, picture or text never straddle train and test."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from bgtai.data import Item, content_hash, load_tuxpaint
from bgtai.data.content_hash import file_hashes
from bgtai.data.splits import (
    HASHED_FOLD_BOUNDS,
    _hash_fraction,
    content_groups,
    hashed_folds,
    ids_for_training,
    ids_in_test,
    split_rule,
    split_sides,
)

PAIRS = 24  # enough pairs that the old per-item rule splits several of them


def _tone(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal(2400)).astype(np.float32)


def _png(path: Path, seed: int, compress_level: int = 6) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)).save(path, compress_level=compress_level)


def _stamp(folder: Path, name: str, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _png(folder / f"{name}.png", seed)
    (folder / f"{name}.txt").write_text(f"Stamp number {seed}.\nde.utf8=Stempel.\n", encoding="utf-8")
    sf.write(folder / f"{name}.ogg", _tone(seed), 24000, format="OGG", subtype="VORBIS")
    return folder / name


def _layout(root: Path) -> tuple[list[Item], list[tuple[str, str]]]:
    """A Tux Paint tree where pair k shares its sound (ogg vs flac), picture bytes, re-saved picture or text."""
    stamps = root / "tuxpaint" / "stamps"
    pairs: list[tuple[str, str]] = []
    flac_for: dict[str, Path] = {}
    for k in range(PAIRS):
        first = _stamp(stamps / "animals", f"a{k}", 1000 + k)
        second = _stamp(stamps / "zoo" / "more", f"b{k}", 2000 + k)
        pairs.append((f"animals/a{k}", f"zoo/more/b{k}"))
        shared = k % 4
        if shared == 0:  # the same sound: the Vorbis file's decoded samples stored again as 16-bit FLAC
            samples, rate = sf.read(first.with_suffix(".ogg"), dtype="float32")
            flac = second.with_name(f"b{k}_sound.flac")
            sf.write(flac, samples, rate, subtype="PCM_16")
            flac_for[f"zoo/more/b{k}"] = flac
        elif shared == 1:  # the same picture file in two categories
            second.with_suffix(".png").write_bytes(first.with_suffix(".png").read_bytes())
        elif shared == 2:  # the same picture re-saved: other bytes, same pixels
            _png(second.with_suffix(".png"), 1000 + k, compress_level=0)
            assert second.with_suffix(".png").read_bytes() != first.with_suffix(".png").read_bytes()
        else:  # the same description, up to case and spacing
            (second.with_suffix(".txt")).write_text(f"  stamp   NUMBER {1000 + k}.\n", encoding="utf-8")
    for k in range(40):  # stamps sharing nothing
        _stamp(stamps / "plants", f"p{k}", 5000 + k)
    items = [replace(item, audio=flac_for.get(item.id, item.audio)) for item in load_tuxpaint(root / "tuxpaint")]
    return items, pairs


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Item], list[tuple[str, str]]]:
    return _layout(tmp_path_factory.mktemp("splits"))


def test_items_sharing_a_sound_picture_or_text_never_straddle_the_split(layout) -> None:
    items, pairs = layout
    groups = {member: tuple(group) for group in content_groups("tuxpaint", items) for member in group}
    assert all(groups[a] == groups[b] == (a, b) for a, b in pairs)  # one group per pair, nothing else joined
    assert all(len(groups[f"plants/p{k}"]) == 1 for k in range(40))
    old_straddles = 0
    for fold in range(hashed_folds()):
        sides = split_sides("tuxpaint", items, fold)
        assert not (sides.test & sides.train) and not sides.excluded
        assert sides.test | sides.train == {item.id for item in items}
        for a, b in pairs:
            assert (a in sides.test) == (b in sides.test), (fold, a, b)
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        old_side = {item.id: low <= _hash_fraction("tuxpaint", item.id) < high for item in items}
        old_straddles += sum(old_side[a] != old_side[b] for a, b in pairs)
    assert old_straddles >= 5  # the per-item rule did split these pairs: the test above can fail


def test_a_group_takes_the_side_of_its_smallest_id_and_lone_items_keep_the_per_item_rule(layout) -> None:
    items, pairs = layout
    for fold in range(hashed_folds()):
        test = ids_in_test("tuxpaint", items, fold)
        low, high = HASHED_FOLD_BOUNDS[fold], HASHED_FOLD_BOUNDS[fold + 1]
        for a, b in pairs:
            assert (a in test) == (low <= _hash_fraction("tuxpaint", min(a, b)) < high)
        for k in range(40):
            assert (f"plants/p{k}" in test) == (low <= _hash_fraction("tuxpaint", f"plants/p{k}") < high)
    # every item is test in exactly one fold
    per_fold = [ids_in_test("tuxpaint", items, fold) for fold in range(hashed_folds())]
    assert all(sum(item.id in ids for ids in per_fold) == 1 for item in items)


def test_the_split_is_stable_under_reordering_and_unrelated_additions(layout) -> None:
    items, _ = layout
    shuffled = list(items)
    random.Random(3).shuffle(shuffled)
    assert ids_in_test("tuxpaint", shuffled, 1) == ids_in_test("tuxpaint", items, 1)
    fewer = [item for item in items if not item.id.startswith("plants/p1")]
    kept = {item.id for item in fewer}
    assert ids_in_test("tuxpaint", fewer) == ids_in_test("tuxpaint", items) & kept
    assert ids_for_training("tuxpaint", fewer) == ids_for_training("tuxpaint", items) & kept


def test_a_shared_spoken_description_groups_and_repeated_ids_are_refused(layout, tmp_path: Path) -> None:
    items, _ = layout
    speech = tmp_path / "desc.flac"
    sf.write(speech, _tone(7), 16000)
    copy = tmp_path / "desc_copy.flac"
    copy.write_bytes(speech.read_bytes())
    by_id = {item.id: item for item in items}
    first, second = by_id.pop("plants/p3"), by_id.pop("plants/p7")  # two lone plants
    changed = [
        replace(first, meta={**first.meta, "speech": str(speech)}),
        replace(second, meta={**second.meta, "speech": str(copy)}),
    ] + list(by_id.values())
    groups = content_groups("tuxpaint", changed)
    assert sorted([first.id, second.id]) in groups
    with pytest.raises(ValueError, match="unique"):
        ids_in_test("tuxpaint", items + [items[0]])


def _coco_item(tmp_path: Path, image_id: str, split: str, seed: int, caption: str) -> Item:
    path = tmp_path / f"{image_id}.png"
    _png(path, seed)
    return Item(id=image_id, image=path, texts=(caption, f"caption {image_id}"), split=split)


def test_official_splits_keep_their_test_side_and_drop_shared_training_items(tmp_path: Path) -> None:
    coco = [
        _coco_item(tmp_path, "1", "val", 1, "A dog on a beach."),
        _coco_item(tmp_path, "2", "train", 2, "a dog  on a BEACH."),  # shares a caption with a val image
        _coco_item(tmp_path, "3", "train", 3, "A cat."),
        _coco_item(tmp_path, "4", "train", 1, "A bus."),  # the val image's picture again
    ]
    sides = split_sides("coco", coco, fold=2)  # the fold does not apply to an official split
    assert sides.test == {"1"} and sides.train == {"3"} and sides.excluded == {"2", "4"}
    fsdd = []
    for index, seed in ((0, 1), (7, 1), (8, 2), (9, 3)):  # index 7 is a copy of test recording 0
        path = tmp_path / f"2_x_{index}.flac"
        sf.write(path, _tone(seed), 8000)
        fsdd.append(Item(id=f"2_x_{index}", audio=path, texts=("two",), meta={"index": str(index)}))
    sides = split_sides("fsdd", fsdd)
    # every recording says "two": equal digit words are the task, not shared content
    assert sides.test == {"2_x_0"} and sides.train == {"2_x_8", "2_x_9"} and sides.excluded == {"2_x_7"}
    assert "left out of training" in split_rule("coco") and "left out of training" in split_rule("fsdd")


def test_the_rule_wording_says_content_grouped_and_bad_folds_are_refused(layout) -> None:
    items, _ = layout
    assert "content-grouped" in split_rule("tuxpaint") and "below 0.3" in split_rule("tuxpaint")
    assert "content-grouped" in split_rule("asterisk", 2) and "[0.6, 1.0)" in split_rule("asterisk", 2)
    assert split_rule("esc50") == "no test split defined" and ids_in_test("esc50", items) == set()
    for bad in (3, -1, True):
        with pytest.raises(ValueError, match="test fold"):
            ids_in_test("tuxpaint", items, bad)


def test_content_hashes_are_cached_by_path_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "cache"))
    decoded: list[Path] = []
    real = content_hash._DIGESTS["audio"]
    monkeypatch.setitem(content_hash._DIGESTS, "audio", lambda path: decoded.append(path) or real(path))
    monkeypatch.setattr(content_hash, "_memory", {})
    monkeypatch.setattr(content_hash, "_loaded_from", set())
    path = tmp_path / "a.flac"
    sf.write(path, _tone(1), 8000)
    first = file_hashes("audio", [path, path])
    assert first[0] == first[1] and decoded == [path]
    assert (tmp_path / "cache" / "content-hashes" / "v1.json").is_file()
    monkeypatch.setattr(content_hash, "_memory", {})  # a new process: the JSON file answers
    monkeypatch.setattr(content_hash, "_loaded_from", set())
    assert file_hashes("audio", [path]) == first[:1] and decoded == [path]
    sf.write(path, _tone(2), 8000)  # new content (new mtime): decoded again, another hash
    assert file_hashes("audio", [path]) != first[:1] and len(decoded) == 2
    (tmp_path / "cache" / "content-hashes" / "v1.json").write_text("{damaged")
    monkeypatch.setattr(content_hash, "_memory", {})
    monkeypatch.setattr(content_hash, "_loaded_from", set())
    assert file_hashes("audio", [path]) and len(decoded) == 3  # a damaged cache is a miss, then rewritten
    assert file_hashes("file", [path]) == [hashlib.sha256(b"file\0" + path.read_bytes()).hexdigest()]


# --- the real Tux Paint stamps ---------------------------------------------------------------


def _real_content(items: list[Item]) -> dict[str, set[str]]:
    """Each stamp's content keys computed here, independently of bgtai.data.content_hash."""
    from bgtai.io.audio import read_audio_file

    keys: dict[str, set[str]] = {}
    for item in items:
        own: set[str] = set()
        for audio in (item.audio, item.meta.get("speech")):
            if audio:
                decoded = read_audio_file(audio)
                own.add(f"audio:{decoded.sample_rate}:{hashlib.sha256(decoded.samples.tobytes()).hexdigest()}")
        if item.image is not None:
            own.add(f"image:{hashlib.sha256(Path(item.image).read_bytes()).hexdigest()}")
        own.update(f"text:{' '.join(text.lower().split())}" for text in item.texts)
        keys[item.id] = own
    return keys


@pytest.mark.integration
@pytest.mark.needs_data
def test_no_real_tux_paint_content_is_on_both_sides() -> None:
    items = list(load_tuxpaint())
    keys = _real_content(items)
    for fold in range(hashed_folds()):
        test = ids_in_test("tuxpaint", items, fold)
        test_keys = {key for item_id in test for key in keys[item_id]}
        train_keys = {key for item_id, own in keys.items() if item_id not in test for key in own}
        shared = test_keys & train_keys
        assert not shared, (fold, sorted(shared)[:5])
        assert 0.2 < len(test) / len(items) < 0.5
    # the known duplicate sounds (iguana, giraffe and wombat play nandou.ogg) are now one group
    groups = {member: group for group in content_groups("tuxpaint", items) for member in group}
    assert {
        "animals/birds/nandou",
        "animals/lizards/iguana",
        "animals/mammals/giraffe",
        "animals/marsupials/wombat",
    } <= set(groups["animals/birds/nandou"])
