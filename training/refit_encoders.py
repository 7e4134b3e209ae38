"""Swap a shipped ensemble's encoders for its members retrained on the whole training split (issue 15, item 2).

python training/refit_encoders.py models/ienhancer-elm-layer1 --config layer1

After `training/refit_heads.py --apply` (the heads' settings, threshold, slope and spectrum share, all chosen on
fold 0 with the encoders that never saw it) and `bash training/refit_members.sh LAYER` (runs/refit_kK_LAYER).
Keeps every choice; fits the heads again, with the chosen settings, on the refitted encoders' features of the
whole training split. The test split is never read. What the model's held-out figures mean afterwards is in
ienhancer_elm.training.refit.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import load_model
from ienhancer_elm.training.heads import HeadSettings
from ienhancer_elm.training.refit import check_refit_run, record_refit, swap_in_refitted_encoders


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--config", required=True)
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="folder of the refit_kK_CONFIG runs")
    args = parser.parse_args()
    model, tokenizer = load_model(args.model, "cpu", precision="fp32")
    fold_runs = json.loads((args.model / "training.json").read_text())["members"]
    runs = {k: args.runs / f"refit_k{k}_{args.config}" for k in model.config.kmers}
    refits = {k: check_refit_run(k, run, fold_runs[str(k)]) for k, run in runs.items()}
    settings = HeadSettings(**json.loads((args.model / "cv_results.json").read_text())["heads"]["settings"])
    train = load_split(DEFAULT_DATASET, args.config, "train")
    sequences, labels = list(train["sequence"]), np.asarray(train["label"])
    swap_in_refitted_encoders(model, tokenizer, runs, settings, sequences, labels)
    model.save_pretrained(args.model)  # weights only: config (threshold, slope, spectrum) and tokenizer unchanged
    record_refit(args.model, refits, f"python training/refit_encoders.py {args.model} --config {args.config}")
    print(json.dumps({k: refit["summary"] for k, refit in refits.items()}, indent=2))


if __name__ == "__main__":
    main()
