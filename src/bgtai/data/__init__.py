"""Dataset loaders, one per dataset in its official layout, plus a generic manifest and a catalogue."""

from bgtai.data.asterisk import load_asterisk, load_transcript_tsv
from bgtai.data.bbc_summary import SummaryPair, count_alignment, load_bbc_summary
from bgtai.data.clotho import load_clotho
from bgtai.data.coco import load_coco
from bgtai.data.esc50 import load_esc50
from bgtai.data.fsdd import load_fsdd
from bgtai.data.item import Dataset, Item
from bgtai.data.manifest import load_manifest
from bgtai.data.parallel_text import TextPair, load_gloss, load_parallel_text
from bgtai.data.sound_library import load_sound_library
from bgtai.data.tuxpaint import load_tuxpaint
from bgtai.data.urbansound8k import load_urbansound8k

__all__ = [
    "Dataset",
    "Item",
    "SummaryPair",
    "TextPair",
    "count_alignment",
    "load_asterisk",
    "load_bbc_summary",
    "load_clotho",
    "load_coco",
    "load_esc50",
    "load_fsdd",
    "load_gloss",
    "load_manifest",
    "load_parallel_text",
    "load_sound_library",
    "load_transcript_tsv",
    "load_tuxpaint",
    "load_urbansound8k",
]
