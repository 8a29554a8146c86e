"""Free Spoken Digit Dataset: `recordings/<digit>_<speaker>_<index>.<audio suffix>`."""

from __future__ import annotations

import re
from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.tables import dataset_root
from bgtai.errors import BadInputError
from bgtai.io.audio import AUDIO_SUFFIXES

FOLDER = "fsdd"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)$")


def load_fsdd(root: Path | None = None) -> Dataset:
    """Every recording; text = the digit as an English word, label = the digit, group = the speaker.

    A recording stored under two suffixes counts once (the first in `AUDIO_SUFFIXES` order).
    """
    base = dataset_root(root, FOLDER)
    recordings = base / "recordings"
    if not recordings.is_dir():
        raise BadInputError(str(recordings), "no recordings/ folder")
    rank = {suffix: i for i, suffix in enumerate(AUDIO_SUFFIXES)}
    chosen: dict[str, Path] = {}
    for path in recordings.iterdir():
        suffix = path.suffix.lower()
        if suffix not in rank or not path.is_file():
            continue
        previous = chosen.get(path.stem)
        if previous is None or rank[suffix] < rank[previous.suffix.lower()]:
            chosen[path.stem] = path
    items: list[Item] = []
    for stem, path in sorted(chosen.items()):
        match = _NAME.match(stem)
        if match is None:
            raise BadInputError(str(path), "name is not <digit>_<speaker>_<index>")
        digit, speaker, index = match.groups()
        items.append(
            Item(
                id=stem, audio=path, texts=(DIGIT_WORDS[int(digit)],), label=digit, group=speaker, meta={"index": index}
            )
        )
    return Dataset("fsdd", base, items, classes=[str(d) for d in range(10)])
