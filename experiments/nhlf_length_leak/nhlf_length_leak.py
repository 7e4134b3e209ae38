"""The NHLF length leak: what sequence length alone achieves, and whether the NHLF model leans on it.

python experiments/nhlf_length_leak/nhlf_length_leak.py [--model models/ienhancer-elm-nhlf]
    [--whole results/ienhancer-elm-nhlf-test.json]

In this copy of Enhancer-IF every enhancer is 1 (mod 10) bp long and every non-enhancer 6 (mod 10). Two
classifiers on length alone are fitted on the training split and scored on the test split: logistic regressions
on (a) the length's last digit (one-hot) and (b) the length itself. The model is then scored on the central
400 bp of every test sequence, where every sequence has the same length, and its AUC compared with the one on
whole sequences that `ienhancer-elm evaluate` recorded (`--whole`); the k-mer baseline, which sees no length,
is scored both ways too. Part of the release (training/release_nhlf.sh): it reads the test split, after every
choice was made. Writes experiments/nhlf_length_leak/nhlf-length-leak.json; docs/nhlf.md renders it.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.metrics import metrics_with_intervals
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record

CONFIG, CENTRAL_BP = "enhancer_if_nhlf", 400


def central(sequence: str, width: int = CENTRAL_BP) -> str:
    start = max(0, (len(sequence) - width) // 2)
    return sequence[start : start + width]


def length_classifiers(train, test) -> dict:
    lengths = {
        name: np.array([[len(s)] for s in split["sequence"]]) for name, split in (("train", train), ("test", test))
    }
    models = {
        "last_digit_of_length": make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression()),
        "length": make_pipeline(StandardScaler(), LogisticRegression()),
    }
    report = {}
    for name, model in models.items():
        features = {split: (values % 10 if name.startswith("last") else values) for split, values in lengths.items()}
        model.fit(features["train"], np.asarray(train["label"]))
        probabilities = model.predict_proba(features["test"])[:, 1]
        figures = metrics_with_intervals(np.asarray(test["label"]), probabilities)
        report[name] = {metric: figures[metric] for metric in ("AUC_ROC", "BACC", "MCC")}
    return report


def baseline_aucs(path: str, test) -> dict:
    """The k-mer baseline (length-free: k-mer frequencies) on whole sequences and on their central bases: how
    much of the model's drop comes from reading less of each sequence."""
    import joblib

    model = joblib.load(path)["model"]  # written by `ienhancer-elm release baseline`; never load untrusted pickles
    labels = np.asarray(test["label"])
    scores = {
        "whole_sequences": model.predict_proba(np.asarray(test["sequence"], dtype=object))[:, 1],
        f"central_{CENTRAL_BP}_bp": model.predict_proba(
            np.asarray([central(s) for s in test["sequence"]], dtype=object)
        )[:, 1],
    }
    aucs = {name: metrics_with_intervals(labels, found)["AUC_ROC"] for name, found in scores.items()}
    return aucs | {"whole_minus_central": aucs["whole_sequences"]["value"] - aucs[f"central_{CENTRAL_BP}_bp"]["value"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/ienhancer-elm-nhlf")
    parser.add_argument("--whole", default="results/ienhancer-elm-nhlf-test.json")
    parser.add_argument("--baseline", default="runs/baseline-enhancer_if_nhlf/model.joblib")
    parser.add_argument("-o", "--output", default="experiments/nhlf_length_leak/nhlf-length-leak.json")
    args = parser.parse_args()
    train, test = (load_split(DEFAULT_DATASET, CONFIG, split) for split in ("train", "test"))
    model, tokenizer = load_model(args.model, "cpu", precision="fp32")  # as `evaluate` scores
    records = (Record(i, central(s)) for i, s in zip(test["id"], test["sequence"]))
    rows = list(predict_records(model, tokenizer, records, precision="fp32"))
    labels = np.asarray(test["label"])
    on_central = metrics_with_intervals(labels, np.array([row.probability for row in rows]))
    whole = json.loads(Path(args.whole).read_text(encoding="utf-8"))["results"]["all"]
    report = {
        "command": "python experiments/nhlf_length_leak/nhlf_length_leak.py",
        "model": args.model,
        "test": {"n": int(len(labels)), "positives": int(labels.sum())},
        "length_alone": length_classifiers(train, test),
        "model_auc": {
            "whole_sequences": whole["AUC_ROC"],
            f"central_{CENTRAL_BP}_bp": on_central["AUC_ROC"],
            "whole_minus_central": whole["AUC_ROC"]["value"] - on_central["AUC_ROC"]["value"],
        },
        "model_on_central": {metric: on_central[metric] for metric in ("BACC", "MCC", "AUC_ROC")},
        "baseline_auc": baseline_aucs(args.baseline, test),
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
