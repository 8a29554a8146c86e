"""Line-aligned parallel text (sentence i of one file is the translation of line i of the other),
and the sign-language gloss corpora stored that way."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from bgtai.data.gloss_conventions import GLOSS_CONVENTIONS
from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import dataset_root
from bgtai.errors import BadInputError

GLOSS_FOLDER = "gloss"
# corpus -> (file stem, source suffix, gloss suffix, splits)
GLOSS_CORPORA: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "aslg": ("aslg", "en", "gloss.asl", ("dev", "test")),
    "phoenix": ("phoenix2014T", "de", "gloss", ("train", "dev", "test")),
}


class TextPair(NamedTuple):
    source: str
    target: str


def load_parallel_text(src_path: Path | str, tgt_path: Path | str) -> list[TextPair]:
    """(line of `src_path`, same line of `tgt_path`) pairs, stripped; the files must have equal line counts."""
    src_path, tgt_path = Path(src_path), Path(tgt_path)
    sources = _lines(src_path)
    targets = _lines(tgt_path)
    if len(sources) != len(targets):
        raise BadInputError(
            str(src_path),
            f"has {len(sources)} lines but its parallel file {tgt_path} has {len(targets)}: not line-aligned",
        )
    return [TextPair(s, t) for s, t in zip(sources, targets)]


def gloss_files(corpus: str, split: str, root: Path | None = None) -> tuple[Path, Path]:
    """(sentence file, gloss file) of a corpus split, e.g. `gloss/aslg.dev.en`, `gloss/aslg.dev.gloss.asl`."""
    if corpus not in GLOSS_CORPORA:
        raise ValueError(f"unknown gloss corpus {corpus!r}; use one of {', '.join(GLOSS_CORPORA)}")
    stem, source_suffix, gloss_suffix, splits = GLOSS_CORPORA[corpus]
    if split not in splits:
        raise ValueError(f"{corpus} has splits {', '.join(splits)}, not {split!r}")
    base = dataset_root(root, GLOSS_FOLDER)
    return base / f"{stem}.{split}.{source_suffix}", base / f"{stem}.{split}.{gloss_suffix}"


def load_gloss(corpus: str, split: str, root: Path | None = None, raw: bool = False) -> list[TextPair]:
    """(sentence, gloss) pairs: ASLG-PC12 English -> ASL gloss (`aslg`: dev, test) or
    RWTH-PHOENIX-Weather 2014 T German -> DGS gloss (`phoenix`: train, dev, test).

    Glosses are rewritten into the corpus's test convention (`bgtai.data.gloss_conventions`)
    unless `raw`: PHOENIX's train split still carries annotation marks its dev and test lack."""
    pairs = load_parallel_text(*gloss_files(corpus, split, root))
    convention = GLOSS_CONVENTIONS.get(corpus)
    if raw or convention is None:
        return pairs
    return [TextPair(source, convention(target)) for source, target in pairs]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise BadInputError(str(path), "file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise BadInputError(str(path), f"not UTF-8 text ({error})") from error
    # splitlines would also break at form feeds and other separators inside a sentence
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r").strip() for line in lines]


def count_gloss(folder: Path) -> tuple[int, str]:
    """(sentence/gloss pairs of every corpus split present, a note with the count of each), for `bgtai datasets`."""
    counts: list[str] = []
    total = 0
    for corpus, (_, _, _, splits) in GLOSS_CORPORA.items():
        for split in splits:
            source, target = gloss_files(corpus, split, folder)
            if source.is_file() and target.is_file():
                pairs = len(load_parallel_text(source, target))
                total += pairs
                counts.append(f"{corpus} {split}: {pairs}")
    return total, "sentence/gloss pairs; " + ", ".join(counts)


# a text corpus, not an item list: `bgtai datasets` counts it; the gloss tasks read it (bgtai.gloss)
GLOSS_ENTRY = DatasetEntry(name="gloss", folder=GLOSS_FOLDER, display="gloss corpora", count=count_gloss)
