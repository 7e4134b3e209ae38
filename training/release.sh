#!/usr/bin/env bash
# After training/recipe.sh (and training/refit_members.sh): write the ensembles into models/ (the only script that replaces a shipped model),
# score them on the independent test split (once, at the end) with the paired difference against the k-mer
# baseline, render their model cards from those reports, and record the reference predictions the tests check.
#   bash training/release.sh
set -euo pipefail
cd "$(dirname "$0")/.."
trained=models
declare -A repo=([layer1]=ienhancer-elm/ienhancer-elm [layer2]=ienhancer-elm/ienhancer-elm-layer2)
declare -A summary=(
    [layer1]="Layer 1 of iEnhancer-ELM: is a 200 bp human DNA sequence an enhancer?"
    [layer2]="Layer 2 of iEnhancer-ELM: is an enhancer strong or weak? Apply it to sequences layer 1 calls enhancers (\`ienhancer-elm predict --strength\`)."
)
for layer in layer1 layer2; do
    if compgen -G "runs/finetune_k3_${layer}*/summary.json" >/dev/null; then # the recipe's runs are here
        python training/build_ensemble.py "training/configs/ensemble_$layer.json" \
            --output_dir "$trained/ienhancer-elm-$layer" --release true
        # heads refitted on frozen features, the spectrum member, threshold and slope, all chosen on fold 0
        python training/refit_heads.py "$trained/ienhancer-elm-$layer" --config "$layer" --apply
    else
        echo "no recipe runs in runs/: keeping the shipped $trained/ienhancer-elm-$layer as it is" >&2
    fi
    if [ -f "runs/refit_k3_$layer/summary.json" ]; then # members retrained on the whole split (refit_members.sh)
        python training/refit_encoders.py "$trained/ienhancer-elm-$layer" --config "$layer"
    fi
    baseline=runs/baseline-$layer/model.joblib # the k-mer yardstick, chosen by CV on the training split
    [ -f "$baseline" ] || ienhancer-elm release baseline --config "$layer" -o "runs/baseline-$layer"
    ienhancer-elm evaluate --config "$layer" --against "$baseline" \
        -o "results/ienhancer-elm-$layer-test.json" --plot "results/ienhancer-elm-$layer-test.png"
    if [ "$layer" = layer1 ]; then # its genomic background, scored by the new weights (the card reads it)
        ienhancer-elm background "$trained/ienhancer-elm-layer1" data/genome/hg38_chr2_1-2333275.fa.gz \
            data/genome/hg19_chr22_1-22000000.fa.gz data/genome/hg38_chr1_excerpt.fa.gz --stride 200 --no-progress
    fi
done
bash training/release_nhlf.sh # the cell-specific model on the layer-1 encoders
python training/record_reference_predictions.py
# every figure derived from the shipped models (the checks in experiments/), then the tables of README and docs
python experiments/background_calibration/background_calibration.py
python experiments/scan_statistics/scan_statistics.py
python experiments/score_ties/score_ties.py --precisions auto
ienhancer-elm motifs -o results/motifs-layer1
python experiments/beyond_gc/gc_table.py --configs layer1 layer2 enhancer_if_nhlf
for layer in layer1 layer2; do # the cards read the test reports, the background and the GC table
    ienhancer-elm release card "$trained/ienhancer-elm-$layer" --repo-id "${repo[$layer]}" --summary "${summary[$layer]}" \
        --evaluation "results/ienhancer-elm-$layer-test.json" --gc-table experiments/beyond_gc/gc-table.json
done
cp "$trained/ienhancer-elm-layer1/README.md" MODEL_CARD.md
bash training/release_nhlf.sh card
python docs/figures.py
