"""GC share alone on the held-out fold that chose each shipped model (fold 0 of 5, seed 42, as fine-tuning
splits the training split): its AUC and GC-matched AUC, fitted on folds 1-4, the yardstick for the held-out
figures in docs/benchmarks.md and docs/nhlf.md (issue 33, item 1).

    python experiments/beyond_gc/heldout_gc.py [--resamples 1000]

The shipped members' per-sequence held-out predictions were not kept (only their figures, in each model's
cv_results.json), so their GC-matched AUC on this fold is not here; the screens' members have theirs
(spectrum-screen.json, bert-screen.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ienhancer_elm.baseline import candidates
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.metrics import gc_matched_auc_with_interval, metrics_with_intervals
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.sequences import gc_fraction
from ienhancer_elm.training.finetuning import stratified_folds

HERE = Path(__file__).resolve().parent
CONFIGS = ("layer1", "layer2", "enhancer_if_nhlf")


def heldout_gc(config: str, resamples: int) -> dict:
    """GC share alone, fitted on folds 1-4 of `config`'s training split, scored on fold 0."""
    train = load_split(DEFAULT_DATASET, config, "train")
    sequences, labels = list(train["sequence"]), np.asarray(train["label"])
    fit_rows, held_rows = stratified_folds(labels, 5, 42)[0]
    ((model, _),) = candidates(seed=0, features="gc").values()  # the `baseline --features gc` model
    model.fit([sequences[i] for i in fit_rows], labels[fit_rows])
    held = [sequences[i] for i in held_rows]
    scores = model.predict_proba(held)[:, 1]
    gc = np.array([gc_fraction(s) for s in held])
    auc = metrics_with_intervals(labels[held_rows], scores, n_resamples=resamples)["AUC_ROC"]
    return {
        "n": len(held_rows),
        "AUC_ROC": auc,
        "AUC_GC": gc_matched_auc_with_interval(labels[held_rows], scores, gc, resamples),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "heldout-gc.json")
    args = parser.parse_args(argv)
    report = {
        "held_out": "fold 0 of 5 stratified folds (seed 42) of each training split, as fine-tuning splits it",
        "score": "a logistic regression on GC share, fitted on folds 1-4",
        "configs": {config: heldout_gc(config, args.resamples) for config in CONFIGS},
        "bootstrap": {"resamples": args.resamples, "seed": 0},
        "command": "python experiments/beyond_gc/heldout_gc.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
