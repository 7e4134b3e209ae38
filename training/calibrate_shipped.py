"""Fit the calibration slope of a shipped ensemble on its members' held-out fold, and write it into the folder.

python training/calibrate_shipped.py models/ienhancer-elm-layer1 --config layer1

The shipped members trained on folds 1-4 of the training split (5 stratified folds, seed 42, as in
training/configs/finetune_*.json) and were validated on fold 0, where the threshold was chosen; the slope is
fitted on the same held-out sequences, scored here in fp32 by the assembled ensemble. The test split is never
read. New builds fit it themselves (`build_ensemble`); this brings the models shipped before that up to date.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ienhancer_elm.evaluation import EnsembleScorer, load_split
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.training.ensemble import calibration_record
from ienhancer_elm.training.finetuning import stratified_folds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--config", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    train = load_split(DEFAULT_DATASET, args.config, "train")
    labels = np.asarray(train["label"])
    held_out = stratified_folds(labels, args.folds, args.seed)[args.fold][1]
    scorer = EnsembleScorer(str(args.model))
    if scorer.model.config.spectrum_kmers:
        raise SystemExit(
            f"{args.model}: its spectrum member was fitted on fold {args.fold} too; refit_heads.py fits the slope"
        )
    scorer.model.config.calibration_slope = 1.0
    scorer.model.config.threshold = 0.5  # so that the scorer's probability is the members' mean itself
    mean = scorer.score([train["id"][i] for i in held_out], [train["sequence"][i] for i in held_out])
    config_path = args.model / "config.json"
    config = json.loads(config_path.read_text())
    where = f"fold {args.fold} of {args.folds} (seed {args.seed}), n = {len(held_out)}"
    record = calibration_record(labels[held_out], mean, config["threshold"], where)
    config["calibration_slope"] = record["slope"]
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    cv_path = args.model / "cv_results.json"
    cv = json.loads(cv_path.read_text())
    cv["calibration"] = record
    cv_path.write_text(json.dumps(cv, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
