"""Transcribed speech listed in a TSV (audio path, transcript), and the Asterisk prompts that use it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import folder, trainable
from bgtai.data.registry import DatasetEntry, SplitRule
from bgtai.data.splits import HASHED_TEST_FRACTION
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table

FOLDER = "asterisk_prompts"
_SHARED = "prompts sharing decoded audio or a transcript"

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair, PairOptions


def load_transcript_tsv(
    tsv_path: Path | str,
    audio_col: str = "file",
    text_col: str = "transcript",
    on_missing: OnMissing = "error",
    name: str | None = None,
) -> Dataset:
    """One item per row: audio (relative paths resolved against the TSV's folder), text = transcript.

    The TSV is read without quote handling: transcripts contain literal `"` characters.
    """
    tsv_path = Path(tsv_path)
    base = tsv_path.parent
    missing = MissingFiles(tsv_path, on_missing)
    items: list[Item] = []
    for row in read_table(tsv_path, (audio_col, text_col), delimiter="\t", quoting=csv.QUOTE_NONE).rows:
        listed = Path(row.values[audio_col].strip())
        audio, keep = missing.audio(listed if listed.is_absolute() else base / listed, row.line)
        if not keep:
            continue
        meta = {key: value for key, value in row.values.items() if key not in (audio_col, text_col)}
        meta["file"] = listed.as_posix()
        transcript = row.values[text_col].strip()
        texts = (transcript,) if transcript else ()
        items.append(Item(id=listed.with_suffix("").as_posix(), audio=audio, texts=texts, meta=meta))
    missing.warn()
    return Dataset(name or tsv_path.stem, base, items, missing=missing.reports)


def load_asterisk(root: Path | None = None, on_missing: OnMissing = "error") -> Dataset:
    """The Asterisk telephony prompts: `transcripts.tsv` (file, transcript) and `audio/**`."""
    base = dataset_root(root, FOLDER)
    return load_transcript_tsv(base / "transcripts.tsv", on_missing=on_missing, name="asterisk")


def asterisk_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """Speech with its transcript; transcripts equal up to case are not each other's negatives."""
    from bgtai.data.pairs import Pair

    for item in trainable(options, "asterisk", load_asterisk(folder(root, "asterisk"))):
        if item.audio is not None and item.texts:
            yield Pair(
                "asterisk transcript",
                "asterisk",
                f"asterisk:{item.id}",
                audio=item.audio,
                caption=item.texts[0],
                label=f"transcript:{item.texts[0].lower()}",
            )


ENTRY = DatasetEntry(
    name="asterisk",
    folder=FOLDER,
    display="Asterisk",
    loader=load_asterisk,
    split=SplitRule(
        "hashed",
        f"content-grouped: {_SHARED} form one group; groups whose "
        f"smallest file id hashes below {HASHED_TEST_FRACTION} are test (about {HASHED_TEST_FRACTION:.0%})",
        shared=_SHARED,
    ),
    pairs={"asterisk": asterisk_pairs},
)
