#!/usr/bin/env bash
# Issue 16, item 4: the layer-1 members fine-tuned with windows of the background's genome pieces as extra
# negatives, beside the same members fine-tuned as shipped: both on fold 0 (the configs' only_fold), from the same
# pretrained checkpoints, with the same settings. Resumable, like the recipe; KMERS="3" runs one member's pair.
#   bash experiments/genome_negatives/genome_negative_members.sh [ACCELERATE_CONFIG] [--field value ...]
# Flags after the accelerate config go to pretraining and both fine-tunes alike, so they must be fields all
# three take (on a CPU without bf16 units: --mixed_precision no, as bf16 is emulated there and slow).
#   python experiments/genome_negatives/genome_negative_members.py          # then the comparison
set -euo pipefail
cd "$(dirname "$0")/../.."
accelerate_config=${1:-training/accelerate/cpu.yaml}
[[ $accelerate_config != --* ]] || { echo "name the accelerate config before the flags" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
settings=("$@")
launch() { accelerate launch --config_file "$accelerate_config" "$@" ${settings[@]+"${settings[@]}"}; }
output_dir() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))["output_dir"])' "$1"; }
# finetune.py takes any FASTA as negatives: the experiment refuses its held-out piece before any launch
line=$(python experiments/genome_negatives/genome_check.py)
read -r -a pieces <<<"$line"
for k in ${KMERS:-3 4 5 6}; do
    [ -f "runs/pretrain_k$k/member/config.json" ] || launch training/pretrain_mlm.py "training/configs/pretrain_k$k.json"
    config="training/configs/finetune_k${k}_layer1.json"
    [ -f "$(output_dir "$config")/summary.json" ] || launch training/finetune.py "$config"
    out="runs/genome_negatives_k${k}_layer1"
    [ -f "$out/summary.json" ] || launch training/finetune.py "$config" --output_dir "$out" --extra_negatives "${pieces[@]}"
done
