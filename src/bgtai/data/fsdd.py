"""Free Spoken Digit Dataset: `recordings/<digit>_<speaker>_<index>.<audio suffix>`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import folder, pick, trainable
from bgtai.data.registry import DatasetEntry, SplitRule
from bgtai.data.tables import dataset_root
from bgtai.errors import BadInputError
from bgtai.io.audio import AUDIO_SUFFIXES

FOLDER = "fsdd"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)$")
TEST_INDICES = range(5)  # the dataset's documented split: recordings with index 0-4 are test

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions


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


def fsdd_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """Speech with its transcript (the digit word), at most `fsdd_max` recordings, test recordings left out."""
    from bgtai.data.pairs import Pair

    usable = [i for i in trainable(options, "fsdd", load_fsdd(folder(root, "fsdd"))) if i.audio is not None and i.texts]
    for item in pick(usable, options.fsdd_max, options.seed, key=lambda i: i.id):
        yield Pair(
            "fsdd transcript",
            "fsdd",
            f"fsdd:{item.group}",
            audio=item.audio,
            caption=item.texts[0],
            label=f"word:{item.texts[0]}",
        )


ENTRY = DatasetEntry(
    name="fsdd",
    folder=FOLDER,
    display="FSDD",
    loader=load_fsdd,
    # transcripts are the ten digit words, shared by every recording of a digit by design: not compared
    split=SplitRule(
        "official",
        "recordings with index 0-4 are test (the dataset's documented split); training recordings whose "
        "decoded audio equals a test recording's are left out of training (content-checked)",
        is_test=lambda item: int(item.meta["index"]) in TEST_INDICES,
        texts_are_classes=True,
    ),
    pairs={"fsdd": fsdd_pairs},
)
