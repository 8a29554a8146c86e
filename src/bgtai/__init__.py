"""bgtai: one embedding space for text, speech, sound, images and any sequence.

    >>> import bgtai
    >>> vectors = bgtai.encode("text", ["a dog barks", "rain on a roof"])      # (2, 384), MiniLM
    >>> sounds = bgtai.encode("audio", ["clips/"])                              # a folder: its audio files

Public API (imported on first use, so `import bgtai` stays light):

- `encode(modality, inputs, encoder=None, ...)`: one pooled, L2-normalised vector per input;
- `encode_sequence(modality, inputs, ...)`: the un-pooled feature sequences (`SequenceBatch`);
- `encode_with_report(modality, inputs, ...)`: vectors, an ok mask and the bad inputs (`EmbedResult`);
- `merge_shards(...)`: put the outputs of `shard=(i, n)` runs back into input order;
- `load_model(folder)`: a trained joint model (`runs/NAME/best`);
- `BadInputError`, `BadItemsError`: the errors that name a bad input and what was wrong.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it (imported when the name is first used)
_LAZY = {
    "encode": "bgtai.embed",
    "encode_sequence": "bgtai.embed",
    "encode_with_report": "bgtai.embed",
    "merge_shards": "bgtai.embed",
    "EmbedResult": "bgtai.embed",
    "SequenceBatch": "bgtai.embed",
    "load_model": "bgtai.model.joint",
    "BadInputError": "bgtai.errors",
    "BadItemsError": "bgtai.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    # Import the embedding machinery (torch, models) only when it is used.
    if name in _LAZY:
        # looked up each time (not cached here), so a patched `bgtai.embed.encode` is what `bgtai.encode` gives
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bgtai' has no attribute {name!r}")


def __dir__() -> list[str]:
    # tab completion and help() see the public names (lazy ones too, without importing them),
    # the module's own dunders and the sub-packages already imported; not this file's helpers
    own = {name for name in globals() if name.startswith("__")}
    loaded = {
        name
        for name, value in globals().items()
        if isinstance(value, ModuleType) and value.__name__ == f"{__name__}.{name}"
    }
    return sorted(own | loaded | set(__all__))
