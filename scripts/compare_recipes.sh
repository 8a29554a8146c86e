#!/usr/bin/env bash
# Train every joint-space recipe with one shared setting and evaluate each the same way, writing
# results/zeroshot-*-RECIPE.json and results/retrieval-RECIPE.*.json for `bgtai report`.
#
#   scripts/compare_recipes.sh [SUFFIX] [--set key=value ...]    e.g.
#   scripts/compare_recipes.sh compact --set 'model.language={"width":128,"layers":2,"heads":4,"ffn":512}'
#
# Runs go to runs/RECIPE-SUFFIX (an existing run is resumed, so a killed comparison continues);
# RECIPES (environment) picks recipes, default all. One torch thread per run: on 2 cores that was
# the fastest setting measured under load (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
suffix="${1:-default}"; shift || true
bgtai=".venv/bin/bgtai"
recipes="${RECIPES:-$($bgtai train --list-recipes | cut -d: -f1)}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
for recipe in $recipes; do
  run="runs/$recipe-$suffix"
  if [ ! -f "$run/best/training.json" ] || [ -f "$run/checkpoint.pt" -a ! -f "$run/.done" ]; then
    resume=(); [ -f "$run/checkpoint.pt" ] && resume=(--resume)
    $bgtai train --recipe "$recipe" --out "$run" --no-progress "${resume[@]}" "$@"
    touch "$run/.done"
  fi
  tag="$recipe-$suffix"
  $bgtai eval zeroshot --dataset esc50 --model "$run/best" --json "results/zeroshot-esc50-$tag.json"
  $bgtai eval zeroshot --dataset urbansound8k --model "$run/best" --json "results/zeroshot-urbansound8k-$tag.json"
  $bgtai eval retrieval --model "$run/best" --json "results/retrieval-$tag.json" \
    --pairs tuxpaint-sound-image tuxpaint-sound-text coco-image-text coco-image-gloss fsdd-speech-text asterisk-speech-text
done
