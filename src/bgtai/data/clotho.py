"""Clotho captions in the official layout: `clotho_captions_<split>.csv` (file_name, caption_1..5).

Audio is looked for in `audio/` and in the official per-split folder (`development/`,
`validation/`, `evaluation/`), under any audio suffix; each folder is listed once, since
thousands of caption rows may name files that are not there. Clotho's captions are often shipped
without the audio (as here), so an item without audio is kept with `audio=None`.
"""

from __future__ import annotations

from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import FolderIndex, dataset_root, read_table
from bgtai.errors import BadInputError

FOLDER = "clotho_sample"
SPLITS = ("development", "validation", "evaluation")
CAPTION_COLUMNS = tuple(f"caption_{i}" for i in range(1, 6))


def load_clotho(root: Path | None = None, split: str | None = None, require_audio: bool = False) -> Dataset:
    """Items of one split (or of every split file present); 5 captions each.

    `require_audio=True` keeps only the items whose audio file is present.
    """
    base = dataset_root(root, FOLDER)
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown Clotho split {split!r}; use one of {', '.join(SPLITS)}")
    splits = [split] if split is not None else [s for s in SPLITS if _captions_file(base, s).is_file()]
    if not splits:
        raise BadInputError(str(base), "no clotho_captions_<split>.csv file")
    items: list[Item] = []
    shared_audio = FolderIndex(base / "audio")
    for name in splits:
        metadata = _captions_file(base, name)
        folders = (shared_audio, FolderIndex(base / name))
        for row in read_table(metadata, ("file_name", *CAPTION_COLUMNS)).rows:
            file_name = row.values["file_name"]
            audio = next((found for folder in folders if (found := folder.resolve(file_name)) is not None), None)
            if audio is None and require_audio:
                continue
            captions = tuple(row.values[c].strip() for c in CAPTION_COLUMNS if row.values[c].strip())
            items.append(
                Item(
                    id=f"{name}/{Path(file_name).stem}",
                    audio=audio,
                    texts=captions,
                    split=name,
                    meta={"file_name": file_name},
                )
            )
    return Dataset("clotho", base, items)


def _captions_file(base: Path, split: str) -> Path:
    return base / f"clotho_captions_{split}.csv"


# no training source uses Clotho: every split is a test split (`bgtai eval retrieval --pairs clotho-audio-text`)
ENTRY = DatasetEntry(name="clotho", folder=FOLDER, display="Clotho (sample)", loader=load_clotho)
