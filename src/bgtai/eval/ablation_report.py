"""The report's alignment-ablation table (BGTAI Table 4 as far as our data allows).

Rows are joint models trained with sequence alignment (`--ds-net` and/or `--result-filter`);
their settings are read from the training command each result records (`trained_by`), so the
table states what was run, not what a run folder is called. Columns: the aligner's loss,
DS-Net selection (D), the training audio kept, then the figures the paper's table has an
analogue of here: audio->picture retrieval (Tux Paint instead of VGGSound) and zero-shot
accuracy. FID and IS (image generation) have no counterpart.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from bgtai.eval.results import EvalRecord

# (header, task, dataset, metric)
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("Tux Paint sound->picture R@1", "retrieval", "tuxpaint-sound-image A->I", "R@1"),
    ("R@5", "retrieval", "tuxpaint-sound-image A->I", "R@5"),
    ("MRR", "retrieval", "tuxpaint-sound-image A->I", "MRR"),
    ("ESC-50 fold 4 zero-shot top-1", "zeroshot", "esc50", "top1"),
    ("UrbanSound8K fold 10 zero-shot top-1", "zeroshot", "urbansound8k-fold10", "top1"),
)
AISFX_BLOCK_S = 2.32  # one aiSFX block (100 mel frames of 1024 samples at 44.1 kHz)


def alignment_settings(command: str) -> dict[str, str] | None:
    """{"loss", "D", "audio"} from a `bgtai train` command line; None when it trains no alignment."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if "--result-filter" not in words and "--ds-net" not in words:
        return None
    values = dict(re.findall(r"(alignment\.loss|data\.max_audio_frames)=(\S+)", " ".join(words)))
    loss = values.get("alignment.loss", "total")
    frames = int(values.get("data.max_audio_frames", "0") or 0)
    audio = "whole clips" if frames <= 0 else f"first {frames} block(s), {AISFX_BLOCK_S * (frames + 1) / 2:.1f} s"
    labels = {"total": "CE + SP", "ce": "CE", "sp": "SP", "l2": "L2"}
    return {
        "loss": labels.get(loss, loss),
        "D": "yes" if "--ds-net" in words else "no",
        "audio": audio,
        "result filter": "yes" if "--result-filter" in words else "no",
    }


def render_ablation(records: Sequence[EvalRecord], link: Callable[[Path], str]) -> list[str]:
    rows: dict[str, dict[tuple[str, str], EvalRecord]] = {}
    settings: dict[str, dict[str, str]] = {}
    for record in records:
        command = record.details.get("trained_by") if isinstance(record.details, dict) else None
        found = alignment_settings(command) if isinstance(command, str) else None
        if found is None or record.task not in ("zeroshot", "retrieval"):
            continue
        settings[record.model] = found
        rows.setdefault(record.model, {})[(record.task, record.dataset)] = record
    if not rows:
        return []
    header = ["model", "aligner loss", "D (DS-Net selection)", "Result Filter term", "training audio"]
    header += [c[0] for c in COLUMNS]
    lines = [
        "## Alignment ablation (BGTAI Table 4 as far as our data allows)",
        "",
        (
            "Settings are read from each model's training command. Audio duration: aiSFX blocks overlap by half, so "
            "N blocks span (N+1)/2 x 2.32 s; most training clips here are one or two blocks long, which limits what "
            "cutting them can show. FID and IS (generation) are not measured."
        ),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for model in sorted(rows):
        found = settings[model]
        cells = [model, found["loss"], found["D"], found["result filter"], found["audio"]]
        for _, task, dataset, metric in COLUMNS:
            record = rows[model].get((task, dataset))
            if record is None or metric not in record.metrics:
                cells.append("not run")
            elif record.path is None:
                cells.append(f"{record.metrics[metric]:.4f}")
            else:
                cells.append(f"[{record.metrics[metric]:.4f}]({link(record.path)})")
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]
