"""How much of each shipped model's call is GC share? Test-split AUC and GC-matched AUC for GC alone, the k-mer
SVM, every member and the ensemble (issue 33, item 1).

    python experiments/beyond_gc/gc_table.py [--configs layer1 layer2] [--resamples 1000]

The shipped model scores the test split in fp32, each member's probability kept; the GC-share baseline (a
logistic regression on GC share) and the k-mer baseline (the candidate and parameters its committed CV report
`results/baseline-{layer1,layer2,nhlf}-cv.json` chose, `ienhancer-elm release baseline`) are fitted on the training split. GC-matched AUC: over every enhancer / non-enhancer pair whose GC shares differ
by at most 0.01, the share the score orders rightly (`ienhancer_elm.metrics.gc_matched_auc`). Intervals: 95%
bootstrap over sequences; differences from GC alone are paired. The models were chosen before this table: it
reports, it chooses nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ienhancer_elm.baseline import refit_chosen, select_baseline
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.metrics import gc_matched_auc_with_interval, gc_matched_difference
from ienhancer_elm.paths import DEFAULT_DATASET, MODEL_FOR_CONFIG
from ienhancer_elm.predict import load_model, member_keys, predict_records
from ienhancer_elm.sequences import Record, gc_fraction

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def model_scores(config: str, test) -> dict[str, np.ndarray]:
    """The shipped model's ensemble and member probabilities on the test split, in fp32."""
    model, tokenizer = load_model(MODEL_FOR_CONFIG[config], "cpu", precision="fp32")
    records = [Record(i, s) for i, s in zip(test["id"], test["sequence"])]
    rows = list(predict_records(model, tokenizer, records, precision="fp32"))
    scores = {"shipped ensemble": np.array([row.probability for row in rows])}
    for key in member_keys(model.config):
        name = f"member k = {key}" if isinstance(key, int) else f"{key} member"
        scores[name] = np.array([row.member_probabilities[key] for row in rows])
    return scores


def gc_baseline_scores(train, test) -> np.ndarray:
    chosen = select_baseline(train["sequence"], train["label"], seed=0, features="gc")
    return chosen["model"].predict_proba(np.asarray(test["sequence"], dtype=object))[:, 1]


def kmer_baseline_scores(config: str, train, test) -> np.ndarray:
    name = MODEL_FOR_CONFIG[config]  # the CV reports are named by model: layer1, layer2, nhlf
    cv = json.loads((REPO / "results" / f"baseline-{name}-cv.json").read_text(encoding="utf-8"))
    model = refit_chosen(cv, train["sequence"], train["label"])
    return model.predict_proba(np.asarray(test["sequence"], dtype=object))[:, 1]


def auc_with_interval(labels, scores, n_resamples: int, seed: int = 0) -> dict:
    """AUC-ROC with its percentile interval over the resamples `metrics.bootstrap_intervals` draws (the same
    draws, computed from ranks: scikit-learn per resample would take minutes for a table of this size)."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    values = [
        _auc(labels[rows], scores[rows])
        for rows in (rng.integers(0, len(labels), len(labels)) for _ in range(n_resamples))
    ]
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return {"value": _auc(labels, scores), "ci95": [float(low), float(high)]}


def _auc(labels, scores) -> float:
    from scipy.stats import rankdata

    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_difference(labels, first, second, n_resamples: int, seed: int = 0) -> dict:
    labels, first, second = np.asarray(labels), np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        rows = rng.integers(0, len(labels), len(labels))
        values.append(_auc(labels[rows], first[rows]) - _auc(labels[rows], second[rows]))
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return {"value": _auc(labels, first) - _auc(labels, second), "ci95": [float(low), float(high)]}


def table(labels, gc, scores: dict[str, np.ndarray], n_resamples: int) -> dict:
    rows = {}
    gc_alone = scores["GC share alone"]
    for name, found in scores.items():
        row = {
            "AUC_ROC": auc_with_interval(labels, found, n_resamples),
            "AUC_GC": gc_matched_auc_with_interval(labels, found, gc, n_resamples),
            "correlation_with_gc": float(np.corrcoef(found, gc)[0, 1]),
        }
        if found is not gc_alone:
            row["minus_gc_alone"] = {
                "AUC_ROC": auc_difference(labels, found, gc_alone, n_resamples),
                "AUC_GC": gc_matched_difference(labels, found, gc_alone, gc, n_resamples),
            }
        rows[name] = row
    return rows


def report_for(config: str, n_resamples: int) -> dict:
    train, test = (load_split(DEFAULT_DATASET, config, split) for split in ("train", "test"))
    labels = np.asarray(test["label"])
    gc = np.array([gc_fraction(s) for s in test["sequence"]])
    scores = {
        "GC share alone": gc_baseline_scores(train, test),
        "k-mer SVM baseline": kmer_baseline_scores(config, train, test),
        **model_scores(config, test),
    }
    in_train = np.asarray(test["in_train"])
    subsets = {"all": np.ones(len(labels), bool), "without_in_train": ~in_train}
    return {
        "n": {name: int(mask.sum()) for name, mask in subsets.items()},
        "mean_gc": {label: float(gc[labels == value].mean()) for value, label in ((1, "positives"), (0, "negatives"))},
        "subsets": {
            name: table(labels[mask], gc[mask], {k: v[mask] for k, v in scores.items()}, n_resamples)
            for name, mask in subsets.items()
            if len(np.unique(labels[mask])) == 2
        },
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["layer1", "layer2"])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "gc-table.json")
    args = parser.parse_args(argv)
    started = time.time()
    saved = json.loads(args.output.read_text()) if args.output.is_file() else {"configs": {}}
    for config in args.configs:
        saved["configs"][config] = report_for(config, args.resamples)
        print(f"{config} done after {time.time() - started:.0f} s", file=sys.stderr)
    command = "python experiments/beyond_gc/gc_table.py" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    for config, entry in saved["configs"].items():  # each config's figures name the run that made them
        entry["command"] = command if config in args.configs else entry.get("command", saved.get("command"))
    saved |= {
        "split": "test",
        "gc_matched": "enhancer / non-enhancer pairs whose GC shares differ by at most 0.01 (2 bases in 200)",
        "bootstrap": {"resamples": args.resamples, "seed": 0},
        "precision": "fp32",
        "command": command,
    }
    args.output.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
