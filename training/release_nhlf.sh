#!/usr/bin/env bash
# The NHLF model (Enhancer-IF, docs/nhlf.md): heads fitted on the frozen layer-1 encoders' window states,
# chosen on held-out NHLF training sequences (training/nhlf_heads.py --apply); then, once, the test split: the
# model against the k-mer baseline, the baseline's own report, the length-leak check (experiments/nhlf_length_leak/),
# and, once the GC table holds the model (training/release.sh), the card. Called by training/release.sh.
#   bash training/release_nhlf.sh [card]
set -euo pipefail
cd "$(dirname "$0")/.."
config=enhancer_if_nhlf
model=models/ienhancer-elm-nhlf
if [ "${1:-}" = card ]; then
    ienhancer-elm release card "$model" --repo-id ienhancer-elm/ienhancer-elm-nhlf \
        --summary "iEnhancer-ELM for one cell line (Enhancer-IF, NHLF): is a 400-1,000 bp human DNA sequence an enhancer in normal human lung fibroblasts?" \
        --evaluation results/ienhancer-elm-nhlf-test.json --widget examples/nhlf_sample.fasta \
        --gc-table experiments/beyond_gc/gc-table.json
    exit 0
fi
baseline=runs/baseline-$config/model.joblib # the k-mer yardstick, chosen by CV on the training split
[ -f "$baseline" ] || ienhancer-elm release baseline --config "$config" -o "runs/baseline-$config"
python training/nhlf_heads.py --apply # held-out comparison with the baseline needs its cv.json
cp "runs/baseline-$config/cv.json" results/baseline-nhlf-cv.json
ienhancer-elm evaluate --model "$model" --config "$config" --against "$baseline" \
    -o results/ienhancer-elm-nhlf-test.json --plot results/ienhancer-elm-nhlf-test.png
ienhancer-elm evaluate --model "$baseline" --config "$config" -o results/baseline-nhlf-test.json
python experiments/nhlf_length_leak/nhlf_length_leak.py
