#!/usr/bin/env bash
# The recipe of the shipped models, step by step; run it again after an interruption and it goes on
# where it stopped (finished steps are skipped, a cut step resumes from its checkpoint).
#   bash training/recipe.sh [ACCELERATE_CONFIG]      (default: training/accelerate/cpu.yaml)
# Per k: MLM pretraining, then fine-tuning for layer 1 and layer 2; then both ensembles; then every member
# retrained on the whole training split (training/release.sh swaps those encoders in).
set -euo pipefail
cd "$(dirname "$0")/.."
accelerate_config=${1:-training/accelerate/cpu.yaml}
launch() { accelerate launch --config_file "$accelerate_config" "$@"; }
output_dir() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))["output_dir"])' "$1"; }
for k in ${KMERS:-3 4 5 6}; do
    [ -f "runs/pretrain_k$k/member/config.json" ] || launch training/pretrain_mlm.py "training/configs/pretrain_k$k.json"
    for layer in layer1 layer2; do
        config="training/configs/finetune_k${k}_$layer.json"
        [ -f "$(output_dir "$config")/summary.json" ] || launch training/finetune.py "$config"
    done
done
for layer in layer1 layer2; do
    python training/build_ensemble.py "training/configs/ensemble_$layer.json"
done
# then, once the fold runs have chosen their epochs, every member again on the whole training split
for layer in layer1 layer2; do
    bash training/refit_members.sh "$layer" "$accelerate_config"
done
