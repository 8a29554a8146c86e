"""What a query is: an existing audio or image file is searched by its content, anything else as text."""

from __future__ import annotations

from pathlib import Path

from bgtai.errors import BadInputError
from bgtai.search.files import modality_of_path


def parse_query(argument: str) -> tuple[str, str]:
    """(modality, input): ('audio'|'image', path) for a media file, ('text', argument) otherwise.

    A word such as "dog.png" that names no file is a bad input rather than a text query:
    searching for a mistyped file name as text would give confident nonsense.
    """
    if not argument.strip():
        raise BadInputError("query", "empty query")
    path = Path(argument)
    modality = modality_of_path(path) if "\n" not in argument and len(argument) < 4096 else None
    if modality in ("audio", "image"):
        if not path.is_file():
            raise BadInputError(argument, f"no such {modality} file (to search for this text, drop the file suffix)")
        return modality, str(path)
    return "text", argument
