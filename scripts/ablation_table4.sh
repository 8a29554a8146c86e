#!/usr/bin/env bash
# BGTAI Table 4 as far as our data allows: the aligner's loss (L2, SP, total), with and without
# DS-Net selection (D), and the training audio's duration, on the compact locked-text recipe.
#
#   scripts/ablation_table4.sh [SUFFIX]
#
# Rows (runs/ablation-ROW-SUFFIX, resumed when cut off):
#   A  L2 loss, D        B  SP-Loss, D        C  total (CE + SP), no D (= efficiency "result-filter")
#   D  total, D, audio cut to 1 aiSFX block (2.3 s)      E  total, D, 3 blocks (4.6 s)
#   F  total, D, whole clips (= efficiency "both")
# Each is scored like scripts/compare_recipes.sh (ESC-50 and UrbanSound8K zero-shot, Tux Paint
# sound<->picture, the VGGSound A->I retrieval of the paper's table replaced by Tux Paint's);
# RESULTS.md's joint-space table then has one row per run. FID/IS (generation) is not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
suffix="${1:-compact}"
bgtai=".venv/bin/bgtai"
recipe="${RECIPE:-unibrivl-moco-locked-text}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
settings=(--set 'model.language={"width":128,"layers":2,"heads":4,"ffn":512}'
          --set 'model.image={"width":128,"layers":2,"heads":4,"ffn":512}' --set stages.0.epochs=10)
declare -A rows=(
  [A-l2-dsnet]="--ds-net --result-filter --set alignment.loss=l2"
  [B-sp-dsnet]="--ds-net --result-filter --set alignment.loss=sp"
  [D-total-dsnet-1block]="--ds-net --result-filter --set data.max_audio_frames=1"
  [E-total-dsnet-3blocks]="--ds-net --result-filter --set data.max_audio_frames=3"
)
for row in A-l2-dsnet B-sp-dsnet D-total-dsnet-1block E-total-dsnet-3blocks; do
  run="runs/ablation-$row-$suffix"
  if [ ! -f "$run/.done" ]; then
    resume=(); [ -f "$run/checkpoint.pt" ] && resume=(--resume)
    # shellcheck disable=SC2086
    $bgtai train --recipe "$recipe" --out "$run" --no-progress ${rows[$row]} "${resume[@]}" "${settings[@]}"
    touch "$run/.done"
  fi
done
# rows C and F are runs of scripts/efficiency_study.sh: linked under their row's name, so reports name the row
ln -sfn "efficiency-result-filter-$suffix" "runs/ablation-C-total-no-dsnet-$suffix"
ln -sfn "efficiency-both-$suffix" "runs/ablation-F-total-dsnet-$suffix"
for row in A-l2-dsnet B-sp-dsnet C-total-no-dsnet D-total-dsnet-1block E-total-dsnet-3blocks F-total-dsnet; do
  run="runs/ablation-$row-$suffix"
  if [ ! -d "$run/best" ]; then echo "$run/best is missing (run scripts/efficiency_study.sh $suffix first)" >&2; exit 1; fi
  tag="ablation-$row-$suffix"
  $bgtai eval zeroshot --dataset esc50 --model "$run/best" --json "results/zeroshot-esc50-$tag.json"
  $bgtai eval zeroshot --dataset urbansound8k --model "$run/best" --json "results/zeroshot-urbansound8k-$tag.json"
  $bgtai eval retrieval --model "$run/best" --json "results/retrieval-$tag.json" --pairs tuxpaint-sound-image
done
