"""Training pairs from CSV manifests of your own (`PairOptions.manifests`), checked row by row before training.

A manifest has a header with the two columns of its kind, and optionally `group` and `label`:

    audio,caption                 image,caption          audio,image        speech,transcript
    clips/dog.wav,a dog barks     pics/cat.png,a cat     a.wav,a.png        say/yes.flac,yes

Paths are relative to the manifest's folder (`bgtai.data.manifest.load_manifest` reads it);
speech is audio. `group` keeps rows together on one side of the train/validation split
(default: the row's audio file, or its picture for image,caption); `label` marks rows that
are not each other's negatives (default: equal captions or transcripts, as in the
built-in sources). Every row is
checked (files present and readable as audio or pictures, captions not empty, no unknown
column) and all the bad rows are reported at once, with their line numbers, in one `BadInputError` naming the file:
nothing trains on a half-valid manifest. Unlike the built-in sources, nothing is held out
as a test set: keep your test rows in another file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgtai.errors import BadInputError

if TYPE_CHECKING:
    from bgtai.data.pairs import Pair

# kind -> (first column, second column); which of them are audio, pictures or text is in _ROLES
MANIFEST_KINDS: dict[str, tuple[str, str]] = {
    "audio,caption": ("audio", "caption"),
    "image,caption": ("image", "caption"),
    "audio,image": ("audio", "image"),
    "speech,transcript": ("speech", "transcript"),
}
OPTIONAL_COLUMNS: tuple[str, ...] = ("group", "label")
_ROLES = {"audio": "audio", "speech": "audio", "image": "image", "caption": "text", "transcript": "text"}
MAX_LISTED = 20  # bad rows spelled out in the error; the rest are counted


@dataclass(frozen=True)
class ManifestSource:
    """One manifest of training pairs: its path (relative to the current folder) and kind.

    `kind` "" means the kind whose two columns the header has.
    """

    path: str
    kind: str = ""

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("a manifest source needs a path")
        if self.kind and self.kind not in MANIFEST_KINDS:
            raise ValueError(f"manifest {self.path}: unknown kind {self.kind!r}; known: {', '.join(MANIFEST_KINDS)}")

    @classmethod
    def parse(cls, value: ManifestSource | dict[str, Any] | str) -> ManifestSource:
        """From a recipe's `data.manifests` entry: {"path": ..., "kind": ...}, or a bare path."""
        if isinstance(value, ManifestSource):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"path", "kind"})
            if unknown:
                raise ValueError(f"manifest source {value}: unknown keys {unknown}; expected path and kind")
            return cls(str(value.get("path", "")), str(value.get("kind", "")))
        raise ValueError(f'a manifest source is a path or {{"path": ..., "kind": ...}}, not {value!r}')


def manifest_pairs(source: ManifestSource) -> list[Pair]:
    """The pairs of one manifest, one per row, in file order; any bad row raises before any pair is made."""
    from bgtai.data.manifest import load_manifest
    from bgtai.data.tables import read_table

    path = Path(source.path).expanduser()
    if path.suffix.lower() != ".csv":
        raise BadInputError(str(path), "a pair manifest must be a .csv file")
    table = read_table(path, ())  # the header and each row's line number; load_manifest resolves the files
    kind = _kind(path, table.columns, source.kind)
    first, second = MANIFEST_KINDS[kind]
    if not table.rows:
        raise BadInputError(str(path), f"no rows under the header ({kind} manifest)")
    media = {_ROLES[c]: c for c in (first, second) if _ROLES[c] != "text"}
    text = next((c for c in (first, second) if _ROLES[c] == "text"), None)
    dataset = load_manifest(
        path,
        audio_col=media.get("audio"),
        image_col=media.get("image"),
        text_col=text,
        label_col="label" if "label" in table.columns else None,
        group_col="group" if "group" in table.columns else None,
        on_missing="keep",  # a missing file is one more bad row, reported with the others
    )
    if len(dataset.items) != len(table.rows):  # load_manifest keeps every row in "keep" mode
        raise RuntimeError(f"{path}: {len(table.rows)} rows but {len(dataset.items)} items")
    problems: list[str] = []
    checked: dict[Path, str | None] = {}  # file -> its problem (None: fine), each file opened once
    for row, item in zip(table.rows, dataset.items):
        for role, column in media.items():
            found = item.audio if role == "audio" else item.image
            problem = _file_problem(path, row.values.get(column, "").strip(), found, column, role, checked)
            if problem:
                problems.append(f"line {row.line}: {problem}")
        if text is not None and not item.texts:
            problems.append(f"line {row.line}: empty {text}")
    if problems:
        listed = problems[:MAX_LISTED] + (
            [f"... and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else []
        )
        raise BadInputError(str(path), f"{len(problems)} bad row(s) in this {kind} manifest:\n  " + "\n  ".join(listed))
    return [_PAIR_MAKERS[kind](item, path) for item in dataset.items]


def _kind(path: Path, columns: list[str], given: str) -> str:
    """The manifest's kind (given, or found from the header); any column outside it and `OPTIONAL_COLUMNS` is an error."""
    header = set(columns)
    if given:
        kind = given
    else:
        matching = [k for k, wanted in MANIFEST_KINDS.items() if set(wanted) <= header]
        if len(matching) != 1:
            header_text = ", ".join(columns) or "(none)"
            problem = (
                f"columns {header_text} match none of the pair kinds ({'; '.join(MANIFEST_KINDS)})"
                if not matching
                else f"columns {header_text} match several pair kinds ({'; '.join(matching)}); keep one kind a file"
            )
            raise BadInputError(str(path), f"line 1 (header): {problem}")
        kind = matching[0]
    wanted = MANIFEST_KINDS[kind]
    absent = [c for c in wanted if c not in header]
    unknown = [c for c in columns if c not in wanted and c not in OPTIONAL_COLUMNS]
    if absent or unknown:
        what = "; ".join(
            part
            for part in (
                f"no column {', '.join(repr(c) for c in absent)}" if absent else "",
                f"unknown column {', '.join(repr(c) for c in unknown)}" if unknown else "",
            )
            if part
        )
        article = "an" if kind[0] in "aeiou" else "a"
        raise BadInputError(
            str(path),
            f"line 1 (header): {what}; {article} {kind} manifest has the columns {', '.join(wanted)} "
            f"(and optionally {', '.join(OPTIONAL_COLUMNS)})",
        )
    return kind


def _file_problem(
    manifest: Path, cell: str, found: Path | None, column: str, role: str, checked: dict[Path, str | None]
) -> str | None:
    """Why a row's audio or picture cannot be used (None when it decodes)."""
    if not cell:
        return f"empty {column} cell"
    if found is None:
        listed = Path(cell).expanduser()
        where = listed if listed.is_absolute() else manifest.parent / listed
        return f"{column} file not found: {where}"
    if found not in checked:
        checked[found] = _decode_problem(found, role)
    problem = checked[found]
    return None if problem is None else f"{column} {found} does not decode ({problem})"


def _decode_problem(path: Path, role: str) -> str | None:
    """Why the file does not open as audio (libsndfile reads its header: a format it knows, some samples) or as a
    picture (Pillow identifies and verifies it); None when it does.

    Headers only: a full decode here would cost every run about as much as decoding for the features, even when
    the features come from the cache. A file whose body is damaged is still caught when the features are computed
    (its pairs are then left out, with a warning naming it)."""
    import soundfile as sf
    from PIL import Image, UnidentifiedImageError

    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    if role == "audio":
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError, TypeError) as error:
            return f"not audio that libsndfile reads: {getattr(error, 'error_string', error)}"
        return None if info.frames > 0 and info.samplerate > 0 else "no audio samples (zero length)"
    try:
        with Image.open(path) as image:
            image.verify()
    except UnidentifiedImageError:
        return "not an image Pillow can read"
    except (OSError, SyntaxError, ValueError) as error:
        return f"damaged image ({error})"
    return None


# ---------------------------------------------------------------------------------------------
# one pair per row, by kind


def _group(item: Any, default: Path) -> str:
    return f"manifest:{item.group}" if item.group else f"manifest:{default}"


def _label(item: Any, default: str | None) -> str | None:
    return f"manifest:{item.label}" if item.label else default


def _audio_caption(item: Any, manifest: Path) -> Pair:
    from bgtai.data.pairs import Pair

    caption = item.texts[0]
    return Pair(
        "manifest audio caption",
        f"manifest:{manifest}",
        _group(item, item.audio),
        audio=item.audio,
        caption=caption,
        audio_caption=caption,
        label=_label(item, caption),
    )


def _image_caption(item: Any, manifest: Path) -> Pair:
    from bgtai.data.pairs import Pair

    caption = item.texts[0]
    return Pair(
        "manifest picture caption",
        f"manifest:{manifest}",
        _group(item, item.image),
        image=item.image,
        caption=caption,
        visual_caption=caption,
        label=_label(item, caption),
    )


def _audio_image(item: Any, manifest: Path) -> Pair:
    from bgtai.data.pairs import Pair

    return Pair(
        "manifest audio-picture",
        f"manifest:{manifest}",
        _group(item, item.audio),
        audio=item.audio,
        image=item.image,
        label=_label(item, None),
    )


def _speech_transcript(item: Any, manifest: Path) -> Pair:
    from bgtai.data.pairs import Pair

    transcript = item.texts[0]
    return Pair(
        "manifest speech transcript",
        f"manifest:{manifest}",
        _group(item, item.audio),
        audio=item.audio,
        caption=transcript,
        label=_label(item, f"transcript:{transcript.lower()}"),
    )


_PAIR_MAKERS: dict[str, Callable[[Any, Path], Pair]] = {
    "audio,caption": _audio_caption,
    "image,caption": _image_caption,
    "audio,image": _audio_image,
    "speech,transcript": _speech_transcript,
}
