"""The dataset registry: one `DatasetEntry` holds everything the project needs to know about a dataset.

An entry names the dataset, its folder under the data root, its loader, how its items split into
training and test (`SplitRule`, applied by `bgtai.data.splits`), how `bgtai eval` scores its labelled
items (`bgtai.eval.protocols.ClassificationProtocol`, run by `bgtai.eval.datasets`), its display name, and the pair
builders `bgtai.data.pairs.build_pairs` makes training pairs with (one per pair source it offers).

The built-in datasets register themselves, each at the end of its own module (`bgtai.data.esc50`...);
`bgtai.data.builtin_datasets` imports them all the first time the registry is read. A new dataset is
one module that ends with `register_dataset(DatasetEntry(...))` (docs/CONTRIBUTING.md, "Add a dataset").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bgtai.eval.protocols import ClassificationProtocol

if TYPE_CHECKING:
    from bgtai.data.item import Dataset, Item
    from bgtai.data.pairs import Pair, PairOptions

# (options, data root or None for the default) -> pairs; the builder loads what it needs itself
PairBuilder = Callable[["PairOptions", "Path | None"], Iterable["Pair"]]
SplitKind = Literal["none", "hashed", "official"]


@dataclass(frozen=True)
class SplitRule:
    """Which items are test items (see `bgtai.data.splits` for how items are grouped by shared content first).

    - "none": nothing is test here (the dataset's protocol, if any, lives in `bgtai.eval`);
    - "hashed": no official split; a content group is test when a hash of its smallest id falls in the
      test fold's range (`bgtai.data.splits.HASHED_FOLD_BOUNDS`); `shared` words what makes a group in
      the rule's text for folds other than 0;
    - "official": `is_test(item)` says which items are test, whatever the fold; a training item sharing
      content with a test item is left out of training.
    `texts_are_classes`: the items' texts are class words, shared by design, so equal texts join nothing.
    `description`: the rule in words, as results and `bgtai eval retrieval` print it (fold 0).
    """

    kind: SplitKind = "none"
    description: str = "no test split defined"
    is_test: Callable[[Item], bool] | None = None
    shared: str = ""
    texts_are_classes: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("none", "hashed", "official"):
            raise ValueError(f"split rule kind {self.kind!r}: use none, hashed or official")
        if self.kind == "official" and self.is_test is None:
            raise ValueError("an official split rule needs is_test(item)")


NO_SPLIT = SplitRule()


@dataclass(frozen=True)
class DatasetEntry:
    """Everything about one dataset; `register_dataset` makes it known to loading, splits, pairs and `bgtai eval`.

    `loader(folder, on_missing=...)` returns a `bgtai.data.item.Dataset` (folder None: `<data root>/<folder>`).
    Text-only corpora that are not item lists (gloss, BBC summaries) give `count(folder) -> (pairs, note)`
    instead, for `bgtai datasets`. `pairs` maps each pair source this dataset offers (a name recipes put in
    `data.sources`) to its builder.
    """

    name: str
    folder: str
    display: str
    loader: Callable[..., Dataset] | None = None
    split: SplitRule = NO_SPLIT
    protocol: ClassificationProtocol | None = None
    pairs: Mapping[str, PairBuilder] = field(default_factory=dict)
    count: Callable[[Path], tuple[int, str]] | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.folder:
            raise ValueError("a dataset entry needs a name and a folder")
        if (self.loader is None) == (self.count is None):
            raise ValueError(f"dataset {self.name!r}: give exactly one of loader (items) or count (text pairs)")

    def load(self, root: Path | None = None, **options: Any) -> Dataset:
        """The dataset under the data root `root` (default: `bgtai.config.data_root()`)."""
        if self.loader is None:
            raise ValueError(f"dataset {self.name!r} has no item loader (it is a text corpus)")
        return self.loader(None if root is None else Path(root) / self.folder, **options)


_ENTRIES: dict[str, DatasetEntry] = {}
_SOURCES: dict[str, str] = {}  # pair source -> the dataset offering it
_builtins_loaded = False


def _load_builtins() -> None:
    """Import the built-in dataset modules once; they call `register_dataset` themselves."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True  # before the import: the built-ins register through `register_dataset`
        try:
            import bgtai.data.builtin_datasets  # noqa: F401 (registers on import)
        except BaseException:
            _builtins_loaded = False
            raise


def register_dataset(entry: DatasetEntry) -> DatasetEntry:
    """Make `entry` known; a name or pair source already taken is an error (entries are never replaced)."""
    if not isinstance(entry, DatasetEntry):
        raise TypeError(f"register_dataset takes a DatasetEntry, not {type(entry).__name__}")
    _load_builtins()  # a made-up dataset must not take a built-in's name
    if entry.name in _ENTRIES:
        raise ValueError(f"dataset {entry.name!r} is already registered")
    taken = sorted(source for source in entry.pairs if source in _SOURCES)
    if taken:
        owners = ", ".join(f"{s} (by {_SOURCES[s]})" for s in taken)
        raise ValueError(f"dataset {entry.name!r}: pair source(s) already registered: {owners}")
    _ENTRIES[entry.name] = entry
    for source in entry.pairs:
        _SOURCES[source] = entry.name
    return entry


def unregister_dataset(name: str) -> None:
    """Forget a dataset (tests register made-up ones and clean up after themselves)."""
    entry = dataset_entry(name)
    del _ENTRIES[name]
    for source in entry.pairs:
        _SOURCES.pop(source, None)


def dataset_names() -> tuple[str, ...]:
    """Every registered dataset, in registration order (built-ins first)."""
    _load_builtins()
    return tuple(_ENTRIES)


def dataset_entry(name: str) -> DatasetEntry:
    """The entry of `name`; an unknown name is an error listing the known ones."""
    _load_builtins()
    if name not in _ENTRIES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(_ENTRIES)}")
    return _ENTRIES[name]


def pair_sources() -> tuple[str, ...]:
    """Every pair source a recipe may name in `data.sources`, in registration order."""
    _load_builtins()
    return tuple(_SOURCES)


def pair_builder(source: str) -> PairBuilder:
    """The builder of pair source `source`; an unknown source is an error listing the known ones."""
    _load_builtins()
    if source not in _SOURCES:
        raise ValueError(f"unknown pair source {source!r}; known: {', '.join(_SOURCES)}")
    return dataset_entry(_SOURCES[source]).pairs[source]


def classification_sets() -> tuple[str, ...]:
    """Datasets with a classification protocol (what `bgtai eval probe` and `zeroshot` take)."""
    return tuple(name for name in dataset_names() if _ENTRIES[name].protocol is not None)
