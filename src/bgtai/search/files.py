"""Which files under a folder are indexed, and as which modality.

Audio and images by the suffixes `bgtai embed` knows (`bgtai.io.media_files`); text is a
`.txt` file, one document per file. Hidden files and folders (a leading dot) are skipped:
they are editor back-ups, version-control data and this project's own temporaries.
"""

from __future__ import annotations

from pathlib import Path

from bgtai.errors import BadInputError
from bgtai.io.media_files import suffixes_of

TEXT_SUFFIXES = (".txt",)
MODALITIES = ("audio", "image", "text")
# a text document longer than this is cut: the text encoders read a few hundred tokens at most
MAX_TEXT_CHARS = 4000


def modality_of_path(path: Path) -> str | None:
    """'audio', 'image' or 'text' by the file's suffix; None for any other file."""
    suffix = path.suffix.lower()
    for modality in ("audio", "image"):
        if suffix in suffixes_of(modality):
            return modality
    return "text" if suffix in TEXT_SUFFIXES else None


def collect_files(roots: list[Path]) -> list[tuple[Path, str]]:
    """(absolute path, modality) of every indexable file under `roots` (folders or single files), sorted, unique."""
    found: dict[Path, str] = {}
    for root in roots:
        if not root.exists():
            raise BadInputError(str(root), "no such file or folder")
        candidates = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for path in candidates:
            relative = path.relative_to(root) if path != root else Path(path.name)
            if any(part.startswith(".") for part in relative.parts):
                continue
            modality = modality_of_path(path)
            if modality is not None:
                found[path.resolve()] = modality
        if root.is_file() and root.resolve() not in found:
            raise BadInputError(str(root), "not an audio, image or .txt file")
    return sorted(found.items())


def read_text_document(path: Path) -> str:
    """The text of a `.txt` document (UTF-8, stripped, cut at MAX_TEXT_CHARS); a bad input when empty or not UTF-8."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError as error:
        raise BadInputError(str(path), f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise BadInputError(str(path), f"cannot read ({error.strerror})") from None
    if not text:
        raise BadInputError(str(path), "empty text document")
    return text[:MAX_TEXT_CHARS]
