"""Transcribed speech listed in a TSV (audio path, transcript), and the Asterisk prompts that use it."""

from __future__ import annotations

import csv
from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.tables import MissingFiles, OnMissing, dataset_root, read_table

FOLDER = "asterisk_prompts"


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
