#!/usr/bin/env bash
# The BERT-member screen of issue 33 on one member (k = 3): masked-LM pretraining as the recipe's (fp32 here: a
# CPU without bf16), then four fine-tuning arms on folds 1-4, scored on fold 0: the recipe as shipped, one
# dinucleotide shuffle of every training enhancer as an extra negative, GC share as a fixed input of the head
# (--gc_offset), and GC-balanced sampling of the training rows (--gc_balanced_sampling). All start from the same
# pretrained weights. Last, the as-shipped arm goes on to at most 12 epochs in a folder of its own: a copy of its
# run resumed (the learning-rate schedule does not depend on the epoch count, and a resumed run ends where an
# uninterrupted one would, tests/integration/test_training_runs.py). Resumable: each run continues from its checkpoint.
#   bash experiments/beyond_gc/bert_screen/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=experiments/beyond_gc/bert_screen
launch() { accelerate launch --config_file training/accelerate/cpu.yaml --num_cpu_threads_per_process "$@"; }
[ -f runs/bert_screen/pretrain_k3/member/config.json ] || launch 2 training/pretrain_mlm.py "$here/pretrain_k3.json"
launch 1 training/finetune.py "$here/finetune_k3_as_shipped.json" > runs/bert_screen/as_shipped.log 2>&1 &
launch 1 training/finetune.py "$here/finetune_k3_shuffles.json" > runs/bert_screen/shuffles.log 2>&1 &
wait
launch 1 training/finetune.py "$here/finetune_k3_gc_offset.json" > runs/bert_screen/gc_offset.log 2>&1 &
launch 1 training/finetune.py "$here/finetune_k3_gc_balanced.json" > runs/bert_screen/gc_balanced.log 2>&1 &
wait
[ -d runs/bert_screen/k3_as_shipped_12 ] || cp -r runs/bert_screen/k3_as_shipped runs/bert_screen/k3_as_shipped_12
launch 2 training/finetune.py "$here/finetune_k3_as_shipped_12.json" > runs/bert_screen/as_shipped_12.log 2>&1
# logged only: GC-balanced sampling for 10 epochs without early stopping, its held-out GC-matched AUC by epoch
launch 2 training/finetune.py "$here/finetune_k3_gc_balanced_10.json" > runs/bert_screen/gc_balanced_10.log 2>&1
python "$here/score.py"
