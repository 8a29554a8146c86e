"""The feature cache: keys follow content and settings; writes are atomic; damage reads as a miss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgtai.cache as cache_module
from bgtai.cache import FeatureCache
from bgtai.encoders.registry import get_encoder
from bgtai.encoders.tiny import TinyAudioEncoder, TinyTextEncoder


class _OtherSettings(TinyTextEncoder):
    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "ngram": 4}


def _entries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.npy") if not p.name.startswith(".tmp-")]


def test_miss_then_hit_returns_the_stored_array(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    encoder = get_encoder("tiny-text")
    key = cache.key_for(encoder, "a dog barks")
    assert key is not None
    assert cache.get(key) is None
    stored = np.arange(12, dtype=np.float32).reshape(3, 4)
    cache.put(key, stored)
    loaded = cache.get(key)
    assert loaded is not None and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, stored)
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)


def test_default_root_follows_bgtai_cache_at_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGTAI_CACHE", str(tmp_path / "elsewhere"))
    assert FeatureCache().root == tmp_path / "elsewhere" / "features"


def test_key_changes_with_content_encoder_and_settings(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    text = TinyTextEncoder()
    keys = {
        cache.key_for(text, "a dog barks"),
        cache.key_for(text, "a dog barked"),
        cache.key_for(_OtherSettings(), "a dog barks"),
        cache.key_for(TinyAudioEncoder(), (np.zeros(100, dtype=np.float32), 16000)),
        cache.key_for(TinyAudioEncoder(), (np.zeros(100, dtype=np.float32), 8000)),
        cache.key_for(TinyAudioEncoder(), (np.zeros(100, dtype=np.float64), 16000)),
    }
    assert len(keys) == 6 and None not in keys
    # the same text through an equal encoder gives the same key
    assert cache.key_for(TinyTextEncoder(), "a dog barks") == cache.key_for(text, "a dog barks")


def test_same_file_content_at_two_paths_is_one_entry(tmp_path: Path) -> None:
    first, second, third = tmp_path / "a.wav", tmp_path / "sub" / "b.wav", tmp_path / "c.wav"
    second.parent.mkdir()
    first.write_bytes(b"RIFF-same-bytes")
    second.write_bytes(b"RIFF-same-bytes")
    third.write_bytes(b"RIFF-other-bytes")
    cache = FeatureCache(tmp_path / "cache")
    encoder = TinyAudioEncoder()
    assert cache.key_for(encoder, first) == cache.key_for(encoder, str(second))
    assert cache.key_for(encoder, first) != cache.key_for(encoder, third)
    assert cache.key_for(encoder, tmp_path / "missing.wav") is None  # the encoder will report it


def test_settings_folder_is_described(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    key = cache.key_for(_OtherSettings(), "x")
    cache.put(key, np.zeros((1, 16), dtype=np.float32))
    described = (tmp_path / key).parent.parent / "settings.json"
    assert '"ngram": 4' in described.read_text()


def test_corrupt_or_truncated_entry_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    key = cache.key_for(TinyTextEncoder(), "rain")
    good = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
    cache.put(key, good)
    path = cache.path(key)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # truncated
    assert cache.get(key) is None
    path.write_bytes(b"\x00garbage, not an npy file" * 10)
    assert cache.get(key) is None
    cache.put(key, good)
    np.testing.assert_array_equal(cache.get(key), good)


def test_write_that_fails_midway_leaves_nothing_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = FeatureCache(tmp_path)
    key = cache.key_for(TinyTextEncoder(), "thunder")
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        # the temporary file already holds part of the data when the write dies
        raise OSError("disk vanished")

    monkeypatch.setattr(cache_module.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk vanished"):
        cache.put(key, np.ones((1000, 16), dtype=np.float32))
    monkeypatch.setattr(cache_module.os, "fsync", real_fsync)
    assert cache.get(key) is None
    assert not cache.path(key).exists()
    assert list(cache.path(key).parent.iterdir()) == []  # the temporary file was removed too


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    from bgtai.cache import FeatureCache

    cache = FeatureCache(Path(sys.argv[1]))
    round_ = 0
    while True:
        for slot in range(4):
            # each entry's values name its slot, so a reader can check the whole array
            cache.put(f"kill/test/{slot:02d}/entry", np.full((4096, 256), slot, dtype=np.float32))
        round_ += 1
        if round_ == 1:
            print("ready", flush=True)
    """
)


def test_process_killed_mid_write_leaves_no_partial_entry(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(cache_module.__file__).parents[1])}
    for delay in (0.05, 0.13, 0.29):
        root = tmp_path / f"run-{delay}"
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(root)], stdout=subprocess.PIPE, env=env)
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        cache = FeatureCache(root)
        for slot in range(4):
            array = cache.get(f"kill/test/{slot:02d}/entry")
            assert array is not None  # written completely in round one, only ever replaced whole
            assert array.shape == (4096, 256) and np.all(array == slot)
        for entry in _entries(root):
            assert np.load(entry).shape == (4096, 256)


def test_concurrent_writers_of_one_entry_never_expose_a_partial_file(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path)
    key = "race/test/00/entry"
    expected = np.full((2048, 64), 7.0, dtype=np.float32)
    stop = threading.Event()
    seen: list[str] = []

    def writer() -> None:
        writer_cache = FeatureCache(tmp_path)
        while not stop.is_set():
            writer_cache.put(key, expected)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            array = cache.get(key)
            if array is not None:
                seen.append("ok" if np.array_equal(array, expected) else "wrong")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert seen and set(seen) == {"ok"}
    assert [p.name for p in cache.path(key).parent.iterdir()] == ["entry.npy"]


def test_orphans_of_killed_writers_are_swept_but_fresh_temporaries_kept(tmp_path) -> None:
    import os
    import time

    from bgtai.cache import FeatureCache

    cache = FeatureCache(tmp_path)
    key = "enc/abc/ab/abcdef"
    folder = cache.path(key).parent
    folder.mkdir(parents=True)
    old, fresh = folder / ".tmp-old.npy", folder / ".tmp-fresh.npy"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"being written")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    cache.put(key, np.zeros((2, 3), dtype=np.float32))
    assert not old.exists() and fresh.exists()
    assert cache.get(key).shape == (2, 3)
