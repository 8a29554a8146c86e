"""One dataset item (any mix of audio, image and texts) and a loaded dataset of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bgtai.errors import BadInputError


@dataclass(frozen=True)
class Item:
    """What a loader knows about one item; its paths (under the dataset root) exist when set.

    `group` is what grouped cross-validation must keep together (the source recording of
    several clips, the speaker of several utterances); `texts` holds every caption,
    transcript or description of the item (several are allowed).
    """

    id: str
    audio: Path | None = None
    image: Path | None = None
    texts: tuple[str, ...] = ()
    label: str | None = None
    group: str | None = None
    fold: int | None = None
    split: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Dataset:
    """The items of one dataset folder, with its class names when it is a classification set.

    `missing` lists the metadata rows whose files were not found and that the loader kept
    (with no path) or skipped, each as "<metadata file> line <n>: <path>".
    """

    name: str
    root: Path
    items: list[Item]
    classes: list[str] | None = None
    missing: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def filter(self, fold: int | Iterable[int] | None = None, split: str | Iterable[str] | None = None) -> Dataset:
        """The items in `fold` (one or several) and `split` (one or several); None keeps all."""
        folds = _as_set(fold)
        splits = _as_set(split)
        kept = [
            item
            for item in self.items
            if (folds is None or item.fold in folds) and (splits is None or item.split in splits)
        ]
        return replace(self, items=kept, missing=list(self.missing))

    def labels(self) -> list[str]:
        """The label of every item, in order; an unlabelled item is an error, not a silent gap."""
        unlabelled = [item.id for item in self.items if item.label is None]
        if unlabelled:
            raise BadInputError(
                f"{self.name} ({self.root})",
                f"{len(unlabelled)} item(s) have no label, e.g. {', '.join(unlabelled[:3])}",
            )
        return [str(item.label) for item in self.items]


def _as_set(value: object) -> set | None:
    if value is None:
        return None
    if isinstance(value, (str, int)):
        return {value}
    return set(value)  # type: ignore[arg-type]
