"""Per-class statistics that make SoundNet's two heads usable, and the command that builds them.

SoundNet's conv8 heads, run as the original `extract_predictions.lua` runs them (softmax over
classes at each step), give the same top class for every input we tried ("Norfolk Terrier"
and "parking garage (outdoor)" for ESC-50 clips of dogs, rain, sea waves, and for silence;
`test_raw_heads_give_every_clip_the_same_top_class` keeps this checked). Each class's logit
carries a large input-independent offset, larger than its variation across clips, which an
argmax over classes cannot see past. A likely cause (not verified on the original Torch
setup): the training script applies LogSoftMax to (batch, class, 1) tensors, which Torch's GPU
kernels may normalise across the batch for each class, where a per-class offset cancels and so
is never learned. The input-dependent part is sound: once each class's logit is standardised
by its mean and spread over a reference set of sounds, the top classes become sensible (dogs
-> dog breeds, church bells -> "bell tower", sea waves -> "sandbar" / "ocean"; the integration
tests check these).

So the heads standardise each class's logit, z = (logit - mean_c) / std_c, with statistics
measured over every output step of a fixed reference set, then take a softmax over classes.
The reference set is a deterministic subset of the project's `sound_library` (sound effects
from Debian packages, freely licensed), never the evaluation data. The statistics are stored
in `data/soundnet_head_calibration.npz` and rebuilt with:

    python -m bgtai.encoders.soundnet_calibration --data-root /work/shared/data
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from bgtai.atomic import atomic_path

CALIBRATION_FILE = "data/soundnet_head_calibration.npz"
EVERY = 6  # every 6th clip of sound_library/manifest.csv, in file order (about 400 clips)


def reference_clips(data_root: Path, every: int = EVERY) -> list[Path]:
    """The calibration clips: every `every`-th row of sound_library's manifest, in order."""
    manifest = data_root / "sound_library" / "manifest.csv"
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [data_root / "sound_library" / row["audio"] for row in rows[::every]]


def head_statistics(paths: list[Path]) -> dict[str, np.ndarray]:
    """Mean and std of every class's raw logit over all output steps of `paths` (float64 sums)."""
    from bgtai.encoders.soundnet import HEADS, SoundNetObjectsEncoder, load_network

    encoder = SoundNetObjectsEncoder(device="cpu")  # its `prepare` repeats short clips to one head step
    network = load_network()
    sums = {head: np.zeros(layer.out_ch) for head, layer in HEADS.items()}
    squares = {head: np.zeros(layer.out_ch) for head, layer in HEADS.items()}
    steps = 0
    with torch.inference_mode():
        for path in paths:
            conv7 = network(torch.from_numpy(encoder.prepare(path))[None, None])
            for head in HEADS:
                logits = network.head_logits(conv7, head)[0].double().numpy()  # (classes, steps)
                sums[head] += logits.sum(axis=1)
                squares[head] += np.square(logits).sum(axis=1)
            steps += logits.shape[1]  # both heads have the same steps
    out: dict[str, np.ndarray] = {}
    for head in HEADS:
        mean = sums[head] / steps
        out[f"{head}_mean"] = mean.astype(np.float32)
        out[f"{head}_std"] = np.sqrt(np.maximum(squares[head] / steps - mean**2, 1e-12)).astype(np.float32)
    out["steps"] = np.array(steps)
    out["clips"] = np.array(len(paths))
    return out


def calibration_path() -> Path:
    return Path(str(resources.files("bgtai.encoders").joinpath(CALIBRATION_FILE)))


@functools.lru_cache(maxsize=1)
def load_calibration() -> dict[str, np.ndarray]:
    """The stored statistics: {objects,places}_{mean,std} float32 arrays."""
    path = calibration_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: SoundNet head calibration missing; "
            "rebuild it with `python -m bgtai.encoders.soundnet_calibration`"
        )
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def calibration_hash() -> str:
    """Short content hash of the stored statistics: part of the heads' cache key."""
    return hashlib.sha256(calibration_path().read_bytes()).hexdigest()[:16]


def write_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    # a handle, not the name: np.savez would add `.npz` to the temporary's name
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        np.savez(handle, **arrays)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild SoundNet's per-class head statistics from sound_library.")
    parser.add_argument("--data-root", type=Path, required=True, help="folder holding sound_library/")
    parser.add_argument("--out", type=Path, default=None, help=f"default: the package's {CALIBRATION_FILE}")
    args = parser.parse_args(argv)
    paths = reference_clips(args.data_root)
    stats = head_statistics(paths)
    write_atomic(args.out or calibration_path(), stats)
    print(f"{int(stats['clips'])} clips, {int(stats['steps'])} steps -> {args.out or calibration_path()}")


if __name__ == "__main__":
    main()
