#!/usr/bin/env bash
# A quick try of the training recipe on a clone: pretrain, fine-tune and assemble one small k = 3 member
# (2 layers, hidden 128), then classify the example sequences with it. Writes runs/quickstart/ only.
#   bash training/quickstart.sh [ACCELERATE_CONFIG]        (default: training/accelerate/cpu.yaml)
# Extra settings for a step go in QUICKSTART_PRETRAIN_FLAGS / QUICKSTART_FINETUNE_FLAGS ("--epochs 1", say).
set -euo pipefail
cd "$(dirname "$0")/.."
accelerate_config=${1:-training/accelerate/cpu.yaml}
out=${QUICKSTART_DIR:-runs/quickstart}
launch() { accelerate launch --config_file "$accelerate_config" "$@"; }
# shellcheck disable=SC2086  # the flags are meant to split into words
launch training/pretrain_mlm.py training/configs/quickstart_pretrain.json --output_dir "$out/pretrain" \
    ${QUICKSTART_PRETRAIN_FLAGS:-}
# shellcheck disable=SC2086
launch training/finetune.py training/configs/quickstart_finetune.json --output_dir "$out/finetune" \
    --init "$out/pretrain/member" ${QUICKSTART_FINETUNE_FLAGS:-}
python training/build_ensemble.py training/configs/quickstart_ensemble.json --output_dir "$out/model" \
    --members "$out/finetune"
ienhancer-elm predict examples/sample.fasta --model "$out/model" --no-progress
