"""A tiny, content-based embedder and a collection to index, for the search tests (no weights).

Five concepts, each a basis direction of an 8-d space: a text points at the concepts it
names, a tone at the concept its pitch stands for, a picture at the concept its colour stands
for. So "a dog barks", a 200 Hz tone and a red picture meet, whatever the files are called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image

from bgtai.errors import BadItem, BadItemsError

CONCEPTS = ["dog", "rain", "bell", "car", "bird"]
PITCH = {name: 200.0 * (i + 1) for i, name in enumerate(CONCEPTS)}
COLOUR = {"dog": (255, 0, 0), "rain": (0, 0, 255), "bell": (255, 255, 0), "car": (0, 255, 0), "bird": (255, 0, 255)}
DIM = 8


class FakeEmbedder:
    """`encode(modality, inputs)` -> unit float32 rows; counts what it embedded (to test 'only new files')."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def encode(self, modality: str, inputs: Any) -> np.ndarray:
        inputs = list(inputs)
        self.calls.append((modality, len(inputs)))
        rows, bad = [], []
        for i, item in enumerate(inputs):
            try:
                rows.append(self._one(modality, item))
            except ValueError as error:
                bad.append(BadItem(i, str(item), str(error)))
        if bad:
            raise BadItemsError(bad)
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, DIM), np.float32)

    @property
    def embedded(self) -> int:
        return sum(n for _, n in self.calls)

    def _one(self, modality: str, item: Any) -> np.ndarray:
        vector = np.full(DIM, 0.05)
        if modality == "text":
            for i, name in enumerate(CONCEPTS):
                if name in str(item).lower():
                    vector[i] += 1.0
        elif modality == "audio":
            samples, rate = sf.read(str(item), dtype="float32")
            spectrum = np.abs(np.fft.rfft(samples))
            peak = float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])
            vector[int(np.argmin([abs(peak - p) for p in PITCH.values()]))] += 1.0
        elif modality == "image":
            colour = np.asarray(Image.open(item).convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
            distances = [np.linalg.norm(colour - np.asarray(COLOUR[name])) for name in CONCEPTS]
            vector[int(np.argmin(distances))] += 1.0
        else:
            raise ValueError(f"no {modality}")
        return vector / np.linalg.norm(vector)


def tone(path: Path, concept: str, seconds: float = 0.25, rate: int = 16000) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * PITCH[concept] * t)).astype(np.float32), rate)
    return path


def picture(path: Path, concept: str, size: tuple[int, int] = (24, 16)) -> Path:
    Image.new("RGB", size, COLOUR[concept]).save(path)
    return path


def make_collection(root: Path) -> Path:
    """sounds/, pictures/ and notes/ of the five concepts, files named by number (not by concept)."""
    for folder in ("sounds", "pictures", "notes/deeper"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i, concept in enumerate(CONCEPTS):
        tone(root / "sounds" / f"clip{i}.wav", concept)
        picture(root / "pictures" / f"pic{i}.png", concept)
        (root / "notes" / "deeper" / f"note{i}.txt").write_text(f"a note about a {concept}\n", encoding="utf-8")
    (root / "notes" / "readme.md").write_text("not indexed", encoding="utf-8")
    (root / ".hidden").mkdir(exist_ok=True)
    picture(root / ".hidden" / "skip.png", "dog")
    return root
