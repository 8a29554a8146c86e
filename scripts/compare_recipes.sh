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
#
# TEST_FOLD=1 or 2 (environment) trains without that Tux Paint / Asterisk test fold instead of the
# default fold 0 and scores only Tux Paint sound<->picture on it: with the same --set values and
# SUFFIX-fold1, SUFFIX-fold2, the report pools the three folds in its single- vs two-stage check.
set -euo pipefail
cd "$(dirname "$0")/.."
suffix="${1:-default}"; shift || true
bgtai=".venv/bin/bgtai"
recipes="${RECIPES:-$($bgtai train --list-recipes | cut -d: -f1)}"
fold="${TEST_FOLD:-0}"
fold_set=(); [ "$fold" != 0 ] && fold_set=(--set "data.test_fold=$fold")
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
for recipe in $recipes; do
  run="runs/$recipe-$suffix"
  if [ ! -f "$run/best/training.json" ] || [ -f "$run/checkpoint.pt" -a ! -f "$run/.done" ]; then
    resume=(); [ -f "$run/checkpoint.pt" ] && resume=(--resume)
    $bgtai train --recipe "$recipe" --out "$run" --no-progress "${resume[@]}" "$@" "${fold_set[@]}"
    touch "$run/.done"
  fi
  tag="$recipe-$suffix"
  if [ "$fold" != 0 ]; then  # zero-shot does not depend on the fold; fold 0's runs already score it
    $bgtai eval retrieval --model "$run/best" --json "results/retrieval-$tag.json" --pairs tuxpaint-sound-image
    continue
  fi
  $bgtai eval zeroshot --dataset esc50 --model "$run/best" --json "results/zeroshot-esc50-$tag.json"
  $bgtai eval zeroshot --dataset urbansound8k --model "$run/best" --json "results/zeroshot-urbansound8k-$tag.json"
  $bgtai eval retrieval --model "$run/best" --json "results/retrieval-$tag.json" \
    --pairs tuxpaint-sound-image tuxpaint-sound-text coco-image-text coco-image-gloss fsdd-speech-text asterisk-speech-text
done
