"""What a scan can find (issue 33, item 3): enhancers against windows of plain genome of the same GC share, each
called at background p <= 0.01 (and 0.05) as `scan` calls (the model's background, 10 GC strata).

    python experiments/beyond_gc/scan_yield.py [--fold-models runs/bert_screen/k3_as_shipped/fold0/best ...]

Enhancers a model was not fitted on, against one window of the held-out chr21 piece per enhancer, matched on GC
within 0.01 (`training.negatives.gc_matched_windows`, seed 0; N-free forward windows at stride 200, no benchmark
sequence). A model that reads only GC calls both at the same rate; the target is five times as many enhancers.

- Fold models (fine-tuned on folds 1-4 of the layer-1 training split, seed 42): fold 0's enhancers. Not wholly
  unseen: fold 0 chose the fold model's epoch, and masked-LM pretraining read its sequences without labels, as the
  recipe's does. Each fold model's background is scored here (fp32) from the windows the shipped background is made
  of (its three pieces, stride 200, at most 10% N), so that its p-values mean what the shipped model's mean.
- The shipped layer-1 ensemble, with its own background.json, scored in the background's precision: the test
  split's enhancers that do not occur in the training split (all 100 strong test enhancers do, so these are the
  100 weak ones), read once, after the screens chose nothing.

Shares come with 95% bootstrap intervals over the enhancers (the windows resampled with them, pair by pair). With
about 100-300 pairs a share of 0.01 is a handful of calls: read the intervals, not the ratio alone. The target is
judged on the point estimates, as the issue states it, and the interval's lower end is given beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ienhancer_elm.background import Background, background_for
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record, gc_fraction
from ienhancer_elm.training.heads import genome_windows, shipped_held_out_fold
from ienhancer_elm.training.negatives import benchmark_sequences, fasta_windows, gc_matched_pairs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHIPPED = ROOT / "models/ienhancer-elm-layer1"
HELD_OUT_PIECE = ROOT / "data/genome/grch38_chr21_contigs.fa.gz"
RATES = (0.01, 0.05)  # the issue asks for 0.01; 0.05 shows more where 0.01 calls few
TARGET_RATIO = 5


def scored(model, tokenizer, sequences: list[str], precision: str = "fp32") -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, GC fractions) as `predict` gives them."""
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    rows = list(predict_records(model, tokenizer, records, 64, precision))
    return np.array([row.probability for row in rows]), np.array([row.gc for row in rows])


def fold_background(model, tokenizer, shipped: Background) -> Background:
    """The fold model's scores of the windows the shipped background is made of, in the shipped strata's count."""
    windows = [w for piece in shipped.pieces for w in genome_windows(ROOT / "data/genome" / piece["file"])]
    scores, gc = scored(model, tokenizer, windows)
    return Background(scores, 200, 200, 0.1, gc=gc, gc_strata=shipped.gc_strata)


def shares(enhancer_p: np.ndarray, window_p: np.ndarray, rate: float, resamples: int, seed: int = 0) -> dict:
    """Called shares of the enhancers and of their matched windows, and their ratio, with bootstrap intervals."""
    called = np.stack([enhancer_p <= rate, window_p <= rate]).astype(float)
    rng = np.random.default_rng(seed)
    draws = called[:, rng.integers(0, called.shape[1], (resamples, called.shape[1]))].mean(axis=2)
    difference = draws[0] - draws[1]

    def summary(value, spread):
        return {"value": float(value), "ci95": [float(x) for x in np.quantile(spread, [0.025, 0.975])]}

    point = called.mean(axis=1)
    return {
        "enhancers_called": summary(point[0], draws[0]),
        "windows_called": summary(point[1], draws[1]),
        "difference": summary(point[0] - point[1], difference),
        "ratio": float(point[0] / point[1]) if point[1] else None,  # None: no window called
        "meets_target": bool(point[0] > 0 and point[0] >= TARGET_RATIO * point[1]),
    }


def matched(enhancers: list[str], pool: list[str], pool_gc: np.ndarray) -> tuple[list[str], list[str]]:
    """The enhancers that found a GC-matched window, and those windows, pair by pair."""
    pairs = gc_matched_pairs([gc_fraction(s) for s in enhancers], pool_gc, seed=0)
    return [enhancers[i] for i, _ in pairs], [pool[j] for _, j in pairs]


def measure(model, tokenizer, background: Background, enhancers, windows, resamples: int, precision="fp32") -> dict:
    enhancer_scores, enhancer_gc = scored(model, tokenizer, enhancers, precision)
    window_scores, window_gc = scored(model, tokenizer, windows, precision)
    enhancer_p, window_p = (
        background.p_values(enhancer_scores, enhancer_gc),
        background.p_values(window_scores, window_gc),
    )
    return {"pairs": len(enhancers)} | {f"p <= {rate}": shares(enhancer_p, window_p, rate, resamples) for rate in RATES}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold-models", nargs="*", default=[], type=Path)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "scan-yield.json")
    args = parser.parse_args(argv)
    started = time.time()
    pool, _ = fasta_windows([HELD_OUT_PIECE], benchmark_sequences(DEFAULT_DATASET, "layer1"))
    pool_gc = np.array([gc_fraction(w) for w in pool])
    shipped_model, shipped_tokenizer = load_model(str(SHIPPED), "cpu", precision="fp32")
    shipped_background = background_for(shipped_model)
    results = {}

    train = load_split(DEFAULT_DATASET, "layer1", "train")
    labels = np.asarray(train["label"])
    _, held_rows = shipped_held_out_fold(labels)
    fold_enhancers = [train["sequence"][i] for i in held_rows if labels[i] == 1]
    enhancers, windows = matched(fold_enhancers, pool, pool_gc)
    for folder in args.fold_models:
        model, tokenizer = load_model(str(folder), "cpu", precision="fp32")
        background = fold_background(model, tokenizer, shipped_background)
        results[str(folder)] = {
            "enhancers": f"fold 0's {len(enhancers)} enhancers that found a GC-matched window, of {len(fold_enhancers)}",
            **measure(model, tokenizer, background, enhancers, windows, args.resamples),
        }
        print(f"{folder}: {results[str(folder)]}", file=sys.stderr)

    test = load_split(DEFAULT_DATASET, "layer1", "test")
    in_train = {s.upper() for s in train["sequence"]}
    unseen = [s for s, label in zip(test["sequence"], test["label"]) if label == 1 and s.upper() not in in_train]
    enhancers, windows = matched(unseen, pool, pool_gc)
    precision = shipped_background.model.get("precision", "fp32")
    results["shipped layer-1 ensemble"] = {
        "enhancers": f"the test split's {len(enhancers)} enhancers absent from the training split that found a "
        f"GC-matched window, of {len(unseen)}",
        **measure(shipped_model, shipped_tokenizer, shipped_background, enhancers, windows, args.resamples, precision),
    }
    report = {
        "question": "how much more often does a scan call an enhancer than a window of plain genome of the same GC share?",
        "rates": list(RATES),
        "target": f"enhancers called at least {TARGET_RATIO} times as often as GC-matched windows",
        "windows": f"{HELD_OUT_PIECE.name}: N-free forward windows, stride 200, no benchmark sequence ({len(pool)})",
        "precision": "fold models and their backgrounds fp32; the shipped model in its background's precision",
        "results": results,
        "bootstrap": {"resamples": args.resamples, "seed": 0},
        "seconds": round(time.time() - started),
        "command": "python experiments/beyond_gc/scan_yield.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
