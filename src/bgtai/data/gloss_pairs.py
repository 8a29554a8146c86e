"""The gloss corpora as the gloss trainers and `bgtai eval gloss` split them, and their sentences spoken.

PHOENIX-2014T uses its official train/dev/test. ASLG-PC12 here has only its dev (4000 pairs)
and test (1000) files: dev pairs 0..3599 train, dev 3600..3999 ("valid") select the model,
test scores it. `speech_files` speaks sentences with espeak-ng once and keeps the WAVs in the
cache folder.
"""

from __future__ import annotations

from pathlib import Path

from bgtai.config import cache_dir
from bgtai.data.parallel_text import load_gloss
from bgtai.io.tts import speak

ASLG_VALID_START = 3600  # ASLG dev pairs from here on select the model; the rest train it
VALID_SPLIT = {"aslg": "valid", "phoenix": "dev"}  # the split that selects the model
TTS_VOICE = {"aslg": "en-us", "phoenix": "de"}  # the espeak-ng voice that speaks a corpus's sentences
TTS_RATE = 175  # espeak-ng's default rate, at which the cached files were made


def _file_split(corpus: str, split: str) -> str:
    """The stored split a split reads: ASLG's train and valid are both parts of its dev file."""
    return {"train": "dev", "valid": "dev"}.get(split, split) if corpus == "aslg" else split


def load_pairs(corpus: str, split: str) -> tuple[list[str], list[str]]:
    """(sentences, glosses) of a split: phoenix train/dev/test; aslg train/valid/test (see module doc)."""
    if corpus not in VALID_SPLIT:
        raise ValueError(f"unknown gloss corpus {corpus!r}: use one of {', '.join(VALID_SPLIT)}")
    pairs = load_gloss(corpus, _file_split(corpus, split))
    if corpus == "aslg" and split in ("train", "valid"):
        pairs = pairs[:ASLG_VALID_START] if split == "train" else pairs[ASLG_VALID_START:]
    return [pair.source for pair in pairs], [pair.target for pair in pairs]


def speech_files(corpus: str, split: str, sentences: list[str]) -> list[Path]:
    """One espeak-ng WAV per sentence (voice `TTS_VOICE[corpus]`), made once and kept in the cache folder."""
    offset = ASLG_VALID_START if (corpus == "aslg" and split == "valid") else 0
    voice = TTS_VOICE[corpus]
    folder = cache_dir() / "tts" / f"espeak-ng-{voice}" / corpus / _file_split(corpus, split)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, sentence in enumerate(sentences):
        path = folder / f"{index + offset:05d}.wav"
        if not path.is_file():
            # `speak` writes through `bgtai.atomic.atomic_path`: espeak-ng gets a temporary file name
            # beside `path`, renamed over it only once the WAV is whole
            speak(sentence, path, voice=voice, rate=TTS_RATE)
        paths.append(path)
    return paths


__all__ = ["ASLG_VALID_START", "TTS_VOICE", "VALID_SPLIT", "load_pairs", "speech_files"]
