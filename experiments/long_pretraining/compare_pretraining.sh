#!/usr/bin/env bash
# Does longer masked-LM pretraining help? The recipe's short pretraining (pretrain_k*.json) against the
# long one (pretrain_long_k*.json), each followed by the recipe's fine-tuning on fold 0 of both layers,
# compared on that fold's held-out training sequences (the test split is never read). Sized for one GPU:
# every run of a stage shares it at once.
#   bash experiments/long_pretraining/compare_pretraining.sh [ACCELERATE_CONFIG]
#   (default: training/accelerate/single_gpu.yaml)
# Writes runs/pretrain{,_long}_k*, runs/preview_{short,long}_k*_layer* and this folder's *-gpu-pretraining-*.json
# (rendered in docs/experiments.md); gpu-pretraining-curves.json holds each pretraining run's corpus.json (less its
# arguments) with the epochs its metrics.jsonl logged, gathered from runs/ by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
accelerate_config=${1:-training/accelerate/single_gpu.yaml}
kmers=${KMERS:-3 4 5 6}
launch() { python -m accelerate.commands.launch --config_file "$accelerate_config" --num_cpu_threads_per_process 2 "$@"; }
start() { launch "$2" "$3" >"runs/logs/$1.log" 2>&1 & pids+=($!); } # start NAME SCRIPT CONFIG in the background
finish() { local pid status=0; for pid in "${pids[@]}"; do wait "$pid" || status=1; done; pids=(); return $status; }

mkdir -p runs/logs runs/configs
pids=()
for k in $kmers; do
    for name in pretrain_k$k pretrain_long_k$k; do
        [ -f "runs/$name/member/config.json" ] && continue # the recipe's own pretrained member is reused
        start "$name" training/pretrain_mlm.py "training/configs/$name.json"
    done
done
finish

for layer in layer1 layer2; do
    for pretraining in short long; do
        for k in $kmers; do
            name=preview_${pretraining}_k${k}_$layer
            python - "training/configs/finetune_k${k}_$layer.json" "runs/configs/$name.json" "$pretraining" "$k" <<'EOF'
import json, sys
source, target, pretraining, k = sys.argv[1:]
config = json.load(open(source))
config["init"] = f"runs/pretrain{'_long' if pretraining == 'long' else ''}_k{k}/member"
config["output_dir"] = "runs/" + target.split("/")[-1].removesuffix(".json")
json.dump(config, open(target, "w"), indent=2)
EOF
            start "$name" training/finetune.py "runs/configs/$name.json"
        done
    done
    finish
    for pretraining in short long; do
        python experiments/recipe_variants/score_heldout.py \
            $(for k in $kmers; do echo "runs/preview_${pretraining}_k${k}_$layer"; done) \
            --config "$layer" -o "experiments/long_pretraining/$layer-gpu-pretraining-$pretraining.json"
    done
done
