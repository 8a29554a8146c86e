"""The embedding pipeline: order, batching, caching, normalisation, sequences, bad inputs, shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

import bgtai
from bgtai.cache import FeatureCache
from bgtai.embed import encode_sequence, encode_with_report, merge_shards, shard_indices
from bgtai.encoders.tiny import TinyAudioEncoder, TinyTextEncoder
from bgtai.errors import BadItemsError

TEXTS = [
    f"sentence number {i} about {word}"
    for i, word in enumerate(["dogs", "rain", "bells", "cars", "wind", "birds", "a", "b", "c"])
]


class SpyText(TinyTextEncoder):
    """Counts how many inputs reach the model."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0
        self.batches: list[int] = []

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        self.encoded += len(batch)
        self.batches.append(len(batch))
        return super().encode_prepared(batch)


class NaNForCats(TinyTextEncoder):
    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        out = super().encode_prepared(batch)
        return [np.full_like(seq, np.nan) if "cat" in tokens else seq for seq, tokens in zip(out, batch)]


def _tone(path: Path, freq: float, seconds: float = 0.5, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


def test_rows_follow_input_order_with_mixed_cache_hits(tmp_path: Path) -> None:
    reference = bgtai.encode("text", TEXTS, encoder="tiny-text", cache=False)
    cache = FeatureCache(tmp_path)
    bgtai.encode("text", TEXTS[1::3], encoder="tiny-text", cache=cache)  # warm a third of them
    spy = SpyText()
    mixed = bgtai.encode("text", TEXTS, encoder=spy, cache=FeatureCache(tmp_path))
    assert spy.encoded == len(TEXTS) - len(TEXTS[1::3])
    np.testing.assert_array_equal(mixed, reference)
    assert len({tuple(row) for row in reference}) == len(TEXTS)  # rows really differ


def test_batch_size_does_not_change_vectors() -> None:
    results = [bgtai.encode("text", TEXTS, encoder="tiny-text", batch_size=b, cache=False) for b in (1, 3, 64)]
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_batches_hold_at_most_batch_size_items() -> None:
    spy = SpyText()
    bgtai.encode("text", TEXTS, encoder=spy, batch_size=4, cache=False)
    assert spy.batches == [4, 4, 1]


def test_normalize_gives_unit_rows_and_raw_rows_are_the_pooled_sequence() -> None:
    unit = bgtai.encode("text", TEXTS, encoder="tiny-text", cache=False)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-6)
    raw = bgtai.encode("text", TEXTS, encoder="tiny-text", cache=False, normalize=False)
    sequences = encode_sequence("text", TEXTS, encoder="tiny-text", cache=False)
    np.testing.assert_allclose(raw, np.stack([s.mean(axis=0) for s in sequences.features]), atol=1e-6)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)


def test_sequence_lengths_and_padding() -> None:
    texts = ["one", "one two three", "one two"]
    batch = bgtai.encode_sequence("text", texts, encoder="tiny-text", cache=False)
    assert batch.lengths.tolist() == [1, 3, 2]
    assert [f.shape for f in batch.features] == [(1, 16), (3, 16), (2, 16)]
    padded, mask = batch.padded()
    assert padded.shape == (3, 3, 16) and mask.tolist() == [[1, 0, 0], [1, 1, 1], [1, 1, 0]]
    np.testing.assert_array_equal(padded[1], batch.features[1])
    assert np.all(padded[0, 1:] == 0)
    # the first token of each sentence is the same word, so the same vector
    np.testing.assert_array_equal(batch.features[0][0], batch.features[2][0])


def test_single_input_is_a_batch_of_one() -> None:
    single = bgtai.encode("text", "a dog barks", encoder="tiny-text", cache=False)
    listed = bgtai.encode("text", ["a dog barks"], encoder="tiny-text", cache=False)
    assert single.shape == (1, 16)
    np.testing.assert_array_equal(single, listed)
    as_array = bgtai.encode("text", np.array(["a dog barks", "rain"]), encoder="tiny-text", cache=False)
    assert as_array.shape == (2, 16)
    np.testing.assert_array_equal(as_array[0], single[0])


def test_every_bad_item_is_listed(tmp_path: Path) -> None:
    good = _tone(tmp_path / "good.wav", 440)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 20)
    inputs = [good, tmp_path / "missing.wav", good, empty, junk]
    with pytest.raises(BadItemsError) as caught:
        bgtai.encode("audio", inputs, encoder="tiny-audio", cache=False)
    bad = caught.value.bad
    assert [b.index for b in bad] == [1, 3, 4]
    assert [Path(b.source).name for b in bad] == ["missing.wav", "empty.wav", "junk.wav"]
    assert "not found" in bad[0].problem and "empty" in bad[1].problem and "decode" in bad[2].problem
    for name in ("missing.wav", "empty.wav", "junk.wav"):
        assert name in str(caught.value)


def test_skip_bad_gives_nan_rows_and_a_report(tmp_path: Path) -> None:
    good = _tone(tmp_path / "good.wav", 440)
    inputs = [good, tmp_path / "missing.wav", _tone(tmp_path / "other.wav", 880)]
    report = encode_with_report("audio", inputs, encoder="tiny-audio", cache=False)
    assert report.ok.tolist() == [True, False, True]
    assert np.all(np.isnan(report.vectors[1])) and np.all(np.isfinite(report.vectors[[0, 2]]))
    assert [b.index for b in report.bad] == [1]
    with pytest.warns(UserWarning, match="missing.wav"):
        vectors = bgtai.encode("audio", inputs, encoder="tiny-audio", cache=False, skip_bad=True)
    np.testing.assert_array_equal(vectors[[0, 2]], report.vectors[[0, 2]])
    sequences = encode_sequence("audio", inputs, encoder="tiny-audio", cache=False, skip_bad=True)
    assert sequences.lengths[1] == 0 and sequences.ok.tolist() == [True, False, True]


def test_non_finite_model_output_is_a_bad_item_not_a_vector() -> None:
    with pytest.raises(BadItemsError, match="NaN"):
        bgtai.encode("text", ["a dog", "a cat", "a cow"], encoder=NaNForCats(), cache=False)


def test_second_call_reads_the_cache(tmp_path: Path) -> None:
    spy = SpyText()
    first = bgtai.encode("text", TEXTS, encoder=spy, cache=FeatureCache(tmp_path))
    assert spy.encoded == len(TEXTS)
    report = encode_with_report("text", TEXTS, encoder=spy, cache=FeatureCache(tmp_path))
    assert spy.encoded == len(TEXTS)  # no new model calls
    assert (report.from_cache, report.computed) == (len(TEXTS), 0)
    np.testing.assert_array_equal(report.vectors, first)


def test_default_cache_lives_under_bgtai_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path))
    spy = SpyText()
    bgtai.encode("text", TEXTS[:3], encoder=spy)
    bgtai.encode("text", TEXTS[:3], encoder=spy)
    assert spy.encoded == 3
    assert len(list((tmp_path / "features").rglob("*.npy"))) == 3


def test_damaged_cache_entry_is_recomputed(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    spy = SpyText()
    first = bgtai.encode("text", TEXTS[:2], encoder=spy, cache=cache)
    cache.path(cache.key_for(spy, TEXTS[0])).write_bytes(b"garbage")
    again = bgtai.encode("text", TEXTS[:2], encoder=spy, cache=cache)
    assert spy.encoded == 3
    np.testing.assert_array_equal(again, first)
    assert cache.get(cache.key_for(spy, TEXTS[0])) is not None  # rewritten


def test_audio_arrays_tensors_and_files_agree(tmp_path: Path) -> None:
    path = _tone(tmp_path / "tone.wav", 523.0, rate=16000)
    samples, rate = sf.read(path, dtype="float32")
    from_file = bgtai.encode("audio", [path], encoder="tiny-audio", cache=False)
    from_array = bgtai.encode("audio", samples, encoder="tiny-audio", sample_rate=rate, cache=False)
    from_tuple = bgtai.encode("audio", (torch.from_numpy(samples), rate), encoder="tiny-audio", cache=False)
    np.testing.assert_array_equal(from_file, from_array)
    np.testing.assert_array_equal(from_file, from_tuple)


def test_audio_array_sample_rate_is_part_of_the_cache_key(tmp_path: Path) -> None:
    samples = np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    cache = FeatureCache(tmp_path)
    at_16k = bgtai.encode("audio", samples, encoder="tiny-audio", sample_rate=16000, cache=cache)
    at_8k = bgtai.encode("audio", samples, encoder="tiny-audio", sample_rate=8000, cache=cache)
    assert not np.allclose(at_16k, at_8k)
    assert cache.stats.hits == 0


def test_images_from_paths_arrays_and_pil_agree(tmp_path: Path) -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "img.png")
    vectors = bgtai.encode(
        "image", [tmp_path / "img.png", pixels, Image.fromarray(pixels)], encoder="tiny-image", cache=False
    )
    np.testing.assert_array_equal(vectors[0], vectors[1])
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_threaded_decoding_keeps_order(tmp_path: Path) -> None:
    paths = [_tone(tmp_path / f"t{i}.wav", 200.0 * (i + 1), seconds=0.3) for i in range(7)]
    serial = bgtai.encode("audio", paths, encoder="tiny-audio", cache=False, workers=0, batch_size=2)
    threaded = bgtai.encode("audio", paths, encoder="tiny-audio", cache=False, workers=3, batch_size=2)
    np.testing.assert_array_equal(serial, threaded)
    assert len({tuple(r) for r in serial}) == 7


def test_shards_merge_back_into_input_order() -> None:
    texts = TEXTS[:8]  # 3 + 3 + 2 rows
    full = bgtai.encode("text", texts, encoder="tiny-text", cache=False)
    parts = [bgtai.encode("text", texts, encoder="tiny-text", cache=False, shard=(i, 3)) for i in range(3)]
    assert [len(p) for p in parts] == [3, 3, 2]
    assert shard_indices(8, (1, 3)).tolist() == [1, 4, 7]
    np.testing.assert_array_equal(parts[1], full[1::3])
    np.testing.assert_array_equal(merge_shards(parts), full)
    with pytest.raises(ValueError, match="shard"):
        merge_shards([parts[2], parts[1], parts[0]])


def test_shard_bad_items_use_positions_in_the_full_list() -> None:
    report = encode_with_report("text", ["ok", "fine", "good", "   "], encoder="tiny-text", cache=False, shard=(1, 2))
    assert report.indices.tolist() == [1, 3]
    assert [b.index for b in report.bad] == [3]


def test_wrong_modality_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="embeds text, not audio"):
        bgtai.encode("audio", [np.zeros(10)], encoder=TinyTextEncoder())
    bgtai.encode("text", ["built once"], encoder="tiny-text", cache=False)
    with pytest.raises(ValueError, match="embeds text, not audio"):
        bgtai.encode("audio", [np.zeros(10)], encoder="tiny-text")


def test_empty_input_list_gives_an_empty_matrix() -> None:
    assert bgtai.encode("audio", [], encoder=TinyAudioEncoder(), cache=False).shape == (0, 16)
