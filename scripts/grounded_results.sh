#!/usr/bin/env bash
# The grounded joint space beside its baselines, on the content-clean test splits: train the default
# recipe, its ablations and the ridge baseline (seconds to minutes once features are cached), then
# score each and the untrained bridges the same way into results/ for `bgtai report`.
#
#   scripts/grounded_results.sh            # RECIPES="default ridge-baseline ..." to pick recipes
set -euo pipefail
cd "$(dirname "$0")/.."
bgtai=".venv/bin/bgtai"
recipes="${RECIPES:-default ridge-baseline grounded-residual-full grounded-concat grounded-features-only}"
pairs=(tuxpaint-sound-image tuxpaint-sound-text tuxpaint-image-text coco-image-text fsdd-speech-text asterisk-speech-text)
score() {  # score MODEL TAG
  $bgtai eval zeroshot --dataset esc50 --model "$1" --json "results/zeroshot-esc50-$2.json"
  $bgtai eval zeroshot --dataset urbansound8k --model "$1" --json "results/zeroshot-urbansound8k-$2.json"
  $bgtai eval retrieval --model "$1" --json "results/retrieval-$2.json" --pairs "${pairs[@]}"
}
for recipe in $recipes; do
  run="runs/$recipe"
  [ -f "$run/best/training.json" ] || $bgtai train --recipe "$recipe" --out "$run"
  score "$run/best" "$recipe"
done
score bridges bridges
