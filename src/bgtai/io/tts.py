"""Text-to-speech with the Debian `espeak-ng` program, cached by what was said and how.

`speak(text, out_path)` writes a WAV file (espeak-ng's own rate, 22050 Hz mono 16-bit).
`speak_cached(text)` keeps one file per (text, voice, rate, espeak-ng version) under
`<cache_dir>/tts/`, named by the sha256 of those, so the same sentence is synthesised once.
A missing `espeak-ng` gives one clear error saying how to install it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from bgtai.atomic import atomic_path
from bgtai.config import cache_dir
from bgtai.errors import BadInputError

DEFAULT_RATE = 160  # words per minute; espeak-ng's default of 175 is hurried for an ASR front end
PROGRAM = "espeak-ng"


class TTSUnavailableError(RuntimeError):
    """espeak-ng is not installed (or does not run)."""


def espeak_program() -> str:
    path = shutil.which(PROGRAM)
    if path is None:
        raise TTSUnavailableError(
            f"text-to-speech needs the '{PROGRAM}' program; install it with `sudo apt-get install espeak-ng`"
        )
    return path


@functools.lru_cache(maxsize=1)
def espeak_version() -> str:
    result = subprocess.run([espeak_program(), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip()


def speak(text: str, out_path: str | Path, voice: str = "en-us", rate: int = DEFAULT_RATE) -> Path:
    """Synthesise `text` into the WAV file `out_path` (written atomically) and return its path."""
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(repr(text)[:80], "nothing to say: the text is empty")
    out = Path(out_path)
    with atomic_path(out) as temporary:  # espeak-ng writes WAV whatever the file's extension
        # the text goes on stdin: no length limit and nothing is read as an option
        result = subprocess.run(
            [espeak_program(), "-v", voice, "-s", str(int(rate)), "-w", str(temporary), "--stdin"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or os.path.getsize(temporary) <= 44:  # 44 bytes: a WAV header, no audio
            raise BadInputError(
                repr(text)[:80],
                f"espeak-ng failed (voice {voice!r}, exit {result.returncode}): {result.stderr.strip()}",
            )
    return out


def speak_cached(text: str, voice: str = "en-us", rate: int = DEFAULT_RATE, folder: str | Path | None = None) -> Path:
    """The cached WAV of `text` (synthesised on first use)."""
    key = hashlib.sha256("\0".join([espeak_version(), voice, str(int(rate)), text]).encode("utf-8")).hexdigest()
    root = Path(folder) if folder is not None else cache_dir() / "tts"
    path = root / key[:2] / f"{key}.wav"
    if path.is_file():
        return path
    return speak(text, path, voice=voice, rate=rate)
