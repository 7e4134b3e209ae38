#!/usr/bin/env bash
# Retrain every member of an ensemble on the whole training split (issue 15, item 2): from the same pretrained
# checkpoint, with the same settings, for the epoch count its held-out fold chose (best epoch + 1, from the fold
# run's summary.json, or from the shipped model's training.json where the fold runs are gone). No held-out data
# is read. Resumable, like the recipe.
#   bash training/refit_members.sh layer1|layer2 [ACCELERATE_CONFIG]
# Then `python training/refit_encoders.py models/ienhancer-elm-LAYER --config LAYER` swaps the encoders in
# (training/release.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
layer=$1
accelerate_config=${2:-training/accelerate/cpu.yaml}
for k in ${KMERS:-3 4 5 6}; do
    config="training/configs/finetune_k${k}_$layer.json"
    out=runs/refit_k${k}_$layer
    [ -f "$out/summary.json" ] && continue
    epochs=$(python - "$config" "models/ienhancer-elm-$layer/training.json" "$k" <<'PY'
import json, pathlib, sys
config, shipped, k = sys.argv[1:]
fold_run = pathlib.Path(json.load(open(config))["output_dir"]) / "summary.json"
summary = json.load(open(fold_run)) if fold_run.is_file() else json.load(open(shipped))["members"][k]["summary"]
print(max(summary["best_epochs"].values()) + 1)
PY
)
    accelerate launch --config_file "$accelerate_config" training/finetune.py "$config" \
        --output_dir "$out" --refit_epochs "$epochs"
done
