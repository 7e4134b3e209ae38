"""How far the fast attributions agree with exact ISM, and how much of what they say is GC (issue 34).

    python experiments/attributions/attributions.py [--ism 20] [-o experiments/attributions/attributions.json]

On the shipped layer-1 model, in fp32: first-order attributions of the 400 layer-1 test sequences, and exact ISM
of the first `--ism` of them (half enhancers, half not, in file order; nothing is tuned on them: the first-order
method has no settings). Agreement: per sequence, the Pearson correlation of the two methods' scores over
positions x bases (the observed bases, 0 in both, left out), for the ensemble and for each member. GC: per
sequence, the correlation of each substitution's effect with the change in G/C count it makes (+1, 0, -1): its
square is the share of the attribution variance that a pure GC counter would explain.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ienhancer_elm.attribution import attribute, gc_change, one_hot_acgt
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET, shipped_model_path
from ienhancer_elm.predict import load_model

HERE = Path(__file__).resolve().parent


def correlation_over_substitutions(a: np.ndarray, b: np.ndarray, sequence: str) -> float:
    others = one_hot_acgt(sequence) == 0
    return float(np.corrcoef(a[others], b[others])[0, 1])


def spread(values) -> dict:
    values = np.asarray(values, dtype=float)
    low, median, high = np.percentile(values, [25, 50, 75])
    return {"median": median, "quartiles": [low, high], "min": values.min(), "max": values.max(), "n": len(values)}


def gc_figures(found, sequences) -> dict:
    per_name = {}
    for column, name in enumerate(found.names):
        r = [correlation_over_substitutions(s[column], gc_change(q), q) for s, q in zip(found.scores, sequences)]
        per_name[name] = {"r_with_gc_change": spread(r), "r_squared": spread(np.square(r))}
    return per_name


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ism", type=int, default=20)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "attributions.json")
    args = parser.parse_args(argv)
    model, tokenizer = load_model(shipped_model_path("layer1"), "cpu", precision="fp32")
    test = load_split(DEFAULT_DATASET, "layer1", "test")
    sequences, labels = [s.upper() for s in test["sequence"]], np.asarray(test["label"])
    started = time.time()
    fast = attribute(model, tokenizer, sequences, "first-order")
    fast_seconds = time.time() - started
    chosen = [*np.flatnonzero(labels == 1)[: args.ism // 2], *np.flatnonzero(labels == 0)[: args.ism - args.ism // 2]]
    started = time.time()
    exact = attribute(model, tokenizer, [sequences[i] for i in chosen], "ism")
    ism_seconds = time.time() - started
    print(f"first-order {fast_seconds:.0f} s, ism {ism_seconds:.0f} s", file=sys.stderr)
    agreement = {
        name: spread(
            [
                correlation_over_substitutions(fast.scores[i][c], exact.scores[n][c], sequences[i])
                for n, i in enumerate(chosen)
            ]
        )
        for c, name in enumerate(fast.names)
    }
    report = {
        "question": "how closely do first-order attributions follow exact ISM, and how much of either is GC?",
        "model": "models/ienhancer-elm-layer1, fp32",
        "sequences": f"layer-1 test split: first-order on all {len(sequences)}; ISM on {len(chosen)} (the first "
        f"{args.ism // 2} enhancers and {args.ism - args.ism // 2} non-enhancers in file order)",
        "agreement_first_order_vs_ism": agreement,
        "gc_first_order": gc_figures(fast, sequences),
        "gc_ism": gc_figures(exact, [sequences[i] for i in chosen]),
        "seconds": {"first_order": round(fast_seconds), "ism": round(ism_seconds)},
        "command": "python experiments/attributions/attributions.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
