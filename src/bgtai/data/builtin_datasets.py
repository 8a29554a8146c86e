"""The built-in datasets, registered in this order (the order `bgtai datasets` lists them in).

Each entry is defined at the end of its dataset's own module; a new built-in dataset adds its module
and one line here. Datasets of your own need no line here: call `register_dataset` from your module.
"""

from __future__ import annotations

from bgtai.data import (
    asterisk,
    bbc_summary,
    clotho,
    coco,
    esc50,
    fsdd,
    parallel_text,
    sound_library,
    tuxpaint,
    urbansound8k,
)
from bgtai.data.registry import register_dataset

BUILTIN = (
    esc50.ENTRY,
    urbansound8k.ENTRY,
    clotho.ENTRY,
    coco.ENTRY,
    tuxpaint.ENTRY,
    fsdd.ENTRY,
    asterisk.ENTRY,
    sound_library.ENTRY,
    parallel_text.GLOSS_ENTRY,
    bbc_summary.ENTRY,
)
for _entry in BUILTIN:
    register_dataset(_entry)
