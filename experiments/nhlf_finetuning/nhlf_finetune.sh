#!/usr/bin/env bash
# Fine-tune the layer-1 model's four encoders on NHLF (Enhancer-IF): every training sequence is read whole in
# 200 bp windows (the length the encoders were trained on) and the member's head reads the mean of the windows'
# pooled states, so the loss is on the sequence; each head starts from one fitted on the frozen encoders' states
# (a fresh one starts saturated and barely learns); fold 0 of 5 held out, the epoch chosen by its AUC. Run it
# again after an interruption and it goes on where it stopped; `KMERS="3"` runs some members only. An experiment:
# the shipped NHLF model is heads on the frozen encoders (training/release_nhlf.sh); a fine-tuned ensemble would
# be assembled by `python training/build_ensemble.py training/configs/ensemble_nhlf.json`.
#   bash experiments/nhlf_finetuning/nhlf_finetune.sh [ACCELERATE_CONFIG]      (default: training/accelerate/cpu.yaml)
set -euo pipefail
cd "$(dirname "$0")/../.."
accelerate_config=${1:-training/accelerate/cpu.yaml}
[ -d runs/layer1-members/ienhancer-elm-layer1-k3 ] ||
    ienhancer-elm release export-members models/ienhancer-elm-layer1 -o runs/layer1-members # DNABERT layout, for init
[ -f runs/nhlf/starting-heads/config.json ] || # heads fitted on frozen states of folds 1-4, for init_head
    python training/nhlf_heads.py --write-heads runs/nhlf/starting-heads
for k in ${KMERS:-3 4 5 6}; do
    config="training/configs/finetune_k${k}_nhlf.json"
    [ -f "runs/finetune_k${k}_nhlf/summary.json" ] ||
        accelerate launch --config_file "$accelerate_config" training/finetune.py "$config"
done
