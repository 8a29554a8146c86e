#!/usr/bin/env bash
# BGTAI's training-efficiency study (paper Fig. 2) on our data: the same recipe, seed and pairs
# trained four ways (Base, DS-Net selection, Result Filter term, both; and DS-Net scoring pairs only
# every third epoch, which makes selection cheaper), keeping every epoch's
# model, then zero-shot and probe accuracy of each epoch against epoch and training wall time.
#
#   scripts/efficiency_study.sh [SUFFIX] [--set key=value ...]
#
# Runs go to runs/efficiency-{base,ds-net,result-filter,both}-SUFFIX (resumed when cut off);
# the curves to results/efficiency-SUFFIX.json (+ .png), which `bgtai report` reads.
# Default setting: the compact one of scripts/compare_recipes.sh (width 128, 2 layers, 10 epochs).
set -euo pipefail
cd "$(dirname "$0")/.."
suffix="${1:-compact}"; shift || true
bgtai=".venv/bin/bgtai"
recipe="${RECIPE:-unibrivl-moco-locked-text}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
settings=(--set 'model.language={"width":128,"layers":2,"heads":4,"ffn":512}'
          --set 'model.image={"width":128,"layers":2,"heads":4,"ffn":512}' --set stages.0.epochs=10 "$@")
declare -A flags=([base]="" [ds-net]="--ds-net" [result-filter]="--result-filter" [both]="--ds-net --result-filter"
                  [ds-net-rescore-3]="--ds-net --set alignment.rescore_every=3")
runs=()
for config in base ds-net result-filter both ds-net-rescore-3; do
  run="runs/efficiency-$config-$suffix"
  if [ ! -f "$run/.done" ]; then
    resume=(); [ -f "$run/checkpoint.pt" ] && resume=(--resume)
    # shellcheck disable=SC2086
    $bgtai train --recipe "$recipe" --out "$run" --no-progress --snapshots ${flags[$config]} "${resume[@]}" "${settings[@]}"
    touch "$run/.done"
  fi
  runs+=("$config=$run")
done
$bgtai eval efficiency --runs "${runs[@]}" --json "results/efficiency-$suffix.json"
