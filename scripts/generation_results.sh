#!/usr/bin/env bash
# Audio-driven generation, measured: train the picture decoder on the default joint space (about an
# hour on 2 cores), then score it with and without the nearest-picture prior into results/ for
# `bgtai report`, draw the sounds -> pictures figure and the loudness study, and time sampling.
#
#   scripts/generation_results.sh          # needs runs/default/best (scripts/grounded_results.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bgtai=".venv/bin/bgtai"
model=runs/default/best
generator=runs/generator
[ -d "$model" ] || $bgtai train --recipe default --out runs/default
[ -f "$generator/model/training.json" ] || $bgtai train generator --model "$model" --out "$generator" --threads 2 --max-minutes 75
$bgtai eval generation --model "$model" --generator "$generator" --json results/generation-decoder.json \
  --figure docs/plots/generation-esc50.png
$bgtai eval generation --model "$model" --generator "$generator" --prior nearest \
  --json results/generation-decoder-prior.json --figure docs/plots/generation-esc50-prior.png
# the loudness study (UniBriVL Fig. 3) on one ESC-50 dog clip that training never saw
dog=$(ls "${BGTAI_DATA:-../shared/data}"/esc50/audio/4-*-A-0.flac | head -1)
$bgtai generate "$dog" --model "$model" --generator "$generator" --volume 0.25,0.5,1,2 -n 6 --out runs/generation-volume
cp runs/generation-volume/sheet.png docs/plots/generation-volume.png
OMP_NUM_THREADS=2 .venv/bin/python benchmarks/generation.py --threads 2 --sizes 32 64 --generator "$generator/model"
