"""espeak-ng text-to-speech: real audio, cached by content, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bgtai.errors import BadInputError
from bgtai.io import tts

needs_espeak = pytest.mark.skipif(tts.shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@needs_espeak
def test_speak_writes_audible_speech_longer_for_longer_text(tmp_path: Path) -> None:
    short = tts.speak("Hello.", tmp_path / "short.wav")
    long = tts.speak("Hello. The quick brown fox jumps over the lazy dog.", tmp_path / "long.wav")
    a, rate = sf.read(short)
    b, _ = sf.read(long)
    assert rate > 8000
    assert np.abs(b).max() > 0.05
    assert len(b) > 2 * len(a)


@needs_espeak
def test_speak_cached_reuses_the_file_and_keys_on_the_rate(tmp_path: Path) -> None:
    first = tts.speak_cached("A cached sentence.", folder=tmp_path)
    stamp = first.stat().st_mtime_ns
    again = tts.speak_cached("A cached sentence.", folder=tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    slower = tts.speak_cached("A cached sentence.", rate=100, folder=tmp_path)
    assert slower != first
    assert sf.info(str(slower)).frames > sf.info(str(first)).frames


def test_empty_text_is_a_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="empty"):
        tts.speak("   ", tmp_path / "x.wav")


def test_missing_program_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tts.shutil, "which", lambda name: None)
    with pytest.raises(tts.TTSUnavailableError, match="apt-get install espeak-ng"):
        tts.speak("hello", tmp_path / "x.wav")
