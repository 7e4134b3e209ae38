"""Which variants of the recipe beat it? Held-out AUC of fine-tuning runs, rescored in fp32, alone and averaged;
optionally on both strands.

python experiments/recipe_variants/score_heldout.py runs/finetune_k3_layer1 runs/finetune_k4_layer1 ...
    [--config layer1] [--reverse-complement] [-o experiments/recipe_variants/NAME.json]

Each run's best fold model scores the fold it was validated on (sequences it never trained on), so
experiments are compared on held-out training data only; the test split is never read. With
`--reverse-complement` each sequence is also scored on the other strand and the two averaged. The reports of
the variants tried are in this folder (and long_pretraining/); table.json lists them for the table in
docs/experiments.md.
"""

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ienhancer_elm.evaluation import EnsembleScorer, load_split
from ienhancer_elm.sequences import reverse_complement


def fold_predictions(run: Path, sequences: dict, both_strands: bool) -> dict[str, tuple[int, float]]:
    """id -> (label, probability) over the run's folds, each scored by that fold's best model."""
    scored = {}
    for fold in sorted(run.glob("fold*")):
        with open(fold / "validation_predictions.tsv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        ids = [row["id"] for row in rows]
        scorer = EnsembleScorer(str(fold / "best"))
        probabilities = scorer.score(ids, [sequences[i] for i in ids])
        if both_strands:
            other = scorer.score(ids, [reverse_complement(sequences[i]) for i in ids])
            probabilities = (probabilities + other) / 2
        scored.update({i: (int(row["label"]), float(p)) for i, row, p in zip(ids, rows, probabilities)})
    return scored


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--config", default="layer1")
    parser.add_argument("--dataset", default="hub_configs/datasets/ienhancer-benchmarks")
    parser.add_argument("--reverse-complement", action="store_true")
    parser.add_argument("-o", "--output")
    args = parser.parse_args()
    train = load_split(args.dataset, args.config, "train")
    sequences = dict(zip(train["id"], train["sequence"]))
    per_run = {str(run): fold_predictions(run, sequences, args.reverse_complement) for run in args.runs}
    ids = sorted(set.intersection(*(set(p) for p in per_run.values())))
    labels = np.array([next(iter(per_run.values()))[i][0] for i in ids])
    members = {run: np.array([p[i][1] for i in ids]) for run, p in per_run.items()}
    report = {
        "config": args.config,
        "reverse_complement": args.reverse_complement,
        "n": len(ids),
        "member_auc": {run: roc_auc_score(labels, p) for run, p in members.items()},
        "ensemble_auc": roc_auc_score(labels, np.mean(list(members.values()), axis=0)),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
