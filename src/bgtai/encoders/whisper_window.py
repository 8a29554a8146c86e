"""Length buckets for Whisper's encoder: run it on the shortest window that holds the clip.

Whisper's encoder was trained on 30 s windows (3000 log-mel frames), and faster-whisper pads
every clip to one; a 5 s clip then costs as much as 30 s of audio. The CTranslate2 encoder
also accepts shorter inputs (its position embeddings are sliced to the input length), so a
clip can be encoded on the smallest of a few fixed windows ("buckets") that holds it. A few
fixed lengths rather than each clip's exact length: clips of one bucket batch together, and
the output of a clip does not depend on which other clips share its batch's length.

Frames kept are the same as on the 30 s path: the encoder's output frames (20 ms each) that
cover the clip's real audio, never the padding, so the mean over them pools the same span.

The functions here are pure (no weights); `bgtai.encoders.whisper` runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SAMPLE_RATE = 16000
MEL_HOP = 160  # samples per log-mel frame (10 ms at 16 kHz)
FULL_WINDOW_FRAMES = 3000  # 30 s: the window the encoder was trained on
SAMPLES_PER_OUTPUT_FRAME = 2 * MEL_HOP  # the encoder's second convolution has stride 2: 20 ms
# 5, 10, 15 and 30 s; the last bucket must be the full window, so every 30 s window has one
CLIP_BUCKETS: tuple[int, ...] = (500, 1000, 1500, 3000)


def check_buckets(buckets: Sequence[int]) -> tuple[int, ...]:
    """The buckets sorted, after checking each is a positive even frame count and the last is 30 s."""
    out = tuple(sorted(int(b) for b in buckets))
    if not out:
        raise ValueError("no Whisper window buckets given")
    for frames in out:
        if frames <= 0 or frames % 2 or frames > FULL_WINDOW_FRAMES:
            raise ValueError(
                f"Whisper window bucket {frames}: need an even number of mel frames in 2..{FULL_WINDOW_FRAMES}"
            )
    if out[-1] != FULL_WINDOW_FRAMES:
        raise ValueError(f"the largest Whisper window bucket must be {FULL_WINDOW_FRAMES} frames (30 s), got {out[-1]}")
    return out


def bucket_for(real_samples: int, buckets: Sequence[int] = CLIP_BUCKETS) -> int:
    """Mel frames of the smallest bucket whose span holds `real_samples` samples at 16 kHz.

    `buckets` must be sorted ascending (as `check_buckets` returns them); a window is at most
    30 s long, so the largest bucket always fits.
    """
    if real_samples < 0:
        raise ValueError(f"a window cannot hold {real_samples} samples")
    for frames in buckets:
        if real_samples <= frames * MEL_HOP:
            return frames
    raise ValueError(f"{real_samples} samples do not fit the largest bucket ({buckets[-1]} frames)")


def kept_frames(real_samples: int) -> int:
    """Encoder output frames that cover `real_samples` of real audio (at least one: a 10 ms clip keeps one)."""
    return max(1, math.ceil(real_samples / SAMPLES_PER_OUTPUT_FRAME))


def bucket_batches(window_buckets: Sequence[int], frame_budget: int) -> list[list[int]]:
    """Indices of the windows grouped by bucket (buckets ascending, input order within one), each group
    cut into batches of at most `frame_budget` mel frames (at least one window per batch)."""
    groups: dict[int, list[int]] = {}
    for index, frames in enumerate(window_buckets):
        groups.setdefault(frames, []).append(index)
    batches: list[list[int]] = []
    for frames in sorted(groups):
        size = max(1, frame_budget // frames)
        members = groups[frames]
        batches.extend(members[start : start + size] for start in range(0, len(members), size))
    return batches
