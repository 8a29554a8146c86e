"""Training pairs for the joint space, built from the real datasets, each tagged with how it was made.

A source is a name a registered dataset offers in its entry's `pairs` (`bgtai.data.registry`); its
builder sits in the dataset's own module. `PairOptions.sources` takes any registered source. The
built-in ones:
- `sound_library`: each sound effect with its caption (weak label = the caption): the breadth
  of sound concepts that zero-shot classification needs;
- `urbansound8k`: clips with a caption made from their class name, at most `per_class` clips
  a class (its 10 classes would otherwise crowd out the rest), from `urbansound8k_folds`;
- `tuxpaint`: each stamp with picture, sound and description as one trimodal pair; stamps
  without a sound give picture-description pairs; spoken descriptions give speech-text pairs;
- `coco`: COCO-mini images of `coco_splits`, one pair per caption (label = the image, so its
  other captions are not negatives);
- `fsdd`, `asterisk`: speech with its transcript;
- `class_pairs`: class-level audio-picture pairs: UrbanSound8K clips of a class with Tux Paint
  or COCO pictures whose description names the class, with the audio caption (class), the
  visual caption (the picture's description) and an audio-visual caption joining both;
- `esc50`: ESC-50 clips with class captions, only when `esc50` is not in `hold_out` (by
  default it is, so ESC-50 zero-shot stays zero-shot), and never from `esc50_exclude_folds`.

Your own pairs: `PairOptions.manifests` lists CSV manifests (`bgtai.data.manifest_pairs`:
audio,caption / image,caption / audio,image / speech,transcript), each checked row by row
before any pair is made; a recipe's `data` section names them as
`"manifests": [{"path": "my/pairs.csv", "kind": "audio,caption"}]` (`kind` may be left out).

With `exclude_test` (the default) the test items of `bgtai.data.splits` (Tux Paint and
Asterisk content groups hashed 30 %, FSDD indices 0-4, COCO val2017) never become training
pairs, nor does any item sharing a sound, picture or caption with one of them, so the
retrieval figures of `bgtai eval retrieval` are measured on unseen content. The split is
decided over each dataset's whole item list, so COCO is loaded with both splits and then
cut to `coco_splits`.

Every choice (which clips a class keeps, which caption template) depends only on the
inputs and `seed`, so the same options always give the same pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bgtai.data.manifest_pairs import ManifestSource, manifest_pairs
from bgtai.data.pair_tools import pick
from bgtai.data.registry import pair_builder, pair_sources
from bgtai.data.splits import check_fold
from bgtai.strict_fields import require_known_fields


@dataclass(frozen=True)
class Pair:
    """One training example: whichever of audio, image and caption(s) it has, and how it was made."""

    how: str  # e.g. "sound-library caption", "tuxpaint object", "class-level audio-picture"
    source: str
    group: str  # pairs sharing a group stay on one side of the train/validation split
    audio: Path | None = None
    image: Path | None = None
    caption: str | None = None  # describes the whole pair (an audio-visual caption)
    audio_caption: str | None = None
    visual_caption: str | None = None
    label: str | None = None  # pairs with equal labels are not each other's negatives


@dataclass
class PairOptions:
    sources: list[str] = field(
        default_factory=lambda: ["sound_library", "urbansound8k", "tuxpaint", "coco", "fsdd", "asterisk", "class_pairs"]
    )
    # CSV manifests of your own pairs (`ManifestSource`, or in a recipe {"path": ..., "kind": ...} or a bare path)
    manifests: list[ManifestSource] = field(default_factory=list)
    hold_out: list[str] = field(default_factory=lambda: ["esc50"])
    per_class: int = 80  # UrbanSound8K and ESC-50 clips kept per class
    urbansound8k_folds: list[int] = field(default_factory=lambda: [1, 2, 3])
    coco_splits: list[str] = field(default_factory=lambda: ["train"])
    fsdd_max: int = 300
    class_pairs_per_class: int = 40
    esc50_exclude_folds: list[int] = field(default_factory=lambda: [4])
    max_per_source: dict[str, int] = field(default_factory=dict)
    exclude_test: bool = True  # leave out the test items of `bgtai.data.splits` (what eval retrieval scores)
    # which test fold of the hashed datasets (Tux Paint, Asterisk) is left out: 0 is the default split, 1 and 2
    # let three runs cross-validate; `bgtai eval retrieval` reads it from the model and scores that fold
    test_fold: int = 0
    gloss_view: bool = False  # also pair each COCO picture with the gloss of each caption (bgtai.gloss.view)
    # training audio cut to its first N front-end frames (0: whole clips); BGTAI Table 4's audio-duration rows.
    # Applied by the trainer to the frozen features, so evaluation still embeds whole clips
    max_audio_frames: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        check_fold(self.test_fold)
        known = pair_sources()
        unknown = sorted(set(self.sources) - set(known))
        if unknown:
            raise ValueError(f"unknown pair sources {unknown}; known: {', '.join(known)}")
        self.manifests = [ManifestSource.parse(m) for m in self.manifests]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairOptions:
        require_known_fields(cls, data, "pair options")
        return cls(**data)


def build_pairs(options: PairOptions | None = None, root: Path | None = None) -> list[Pair]:
    """Every pair of the chosen sources, then of the manifests; `root`: the data root (default `data_root()`)."""
    options = options or PairOptions()
    # the manifests first: a bad row fails before the (slower) built-in sources are read
    own = [pair for manifest in options.manifests for pair in manifest_pairs(manifest)]
    pairs: list[Pair] = []
    for source in options.sources:
        if source in options.hold_out:
            continue
        made = list(pair_builder(source)(options, root))  # the registered dataset's builder (bgtai.data.registry)
        cap = options.max_per_source.get(source)
        if cap is not None:
            made = pick(made, cap, options.seed, key=lambda p: f"{p.group}|{p.audio}|{p.image}|{p.caption}")
        pairs.extend(made)
    return pairs + own


def summarise(pairs: Iterable[Pair]) -> dict[str, int]:
    """How many pairs each way of making them gave."""
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.how] = counts.get(pair.how, 0) + 1
    return dict(sorted(counts.items()))


def __getattr__(name: str) -> Any:
    """`SOURCES`, `class_phrase`, `CLASS_TEMPLATES`, `PICTURE_KEYWORDS`: still importable from here."""
    if name == "SOURCES":  # computed: a dataset registered later adds its sources
        return pair_sources()
    if name in ("class_phrase", "CLASS_TEMPLATES"):
        from bgtai.data import pair_tools

        return getattr(pair_tools, name)
    if name == "PICTURE_KEYWORDS":
        from bgtai.data.class_pairs import PICTURE_KEYWORDS

        return PICTURE_KEYWORDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
