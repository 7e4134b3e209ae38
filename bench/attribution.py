"""Attributions per second: the first-order method on 1,000 benchmark sequences of 200 bp, and exact ISM on a few
of them, side by side in one run, on the shipped layer-1 model in fp32 (the budget: 1,000 in 30 minutes on 2 cores).

    python bench/attribution.py [--sequences 1000] [--ism 2] [-o bench/attribution.json]

Times `attribute(...)` (batch 64, logos aside) on the first `--sequences` sequences of the layer-1 training split,
then on the first `--ism` of them by ISM; reports seconds per sequence of each, their ratio, the CPU, and the load
average the run saw (these 2 cores are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from throughput import cpu_model

from ienhancer_elm.attribution import attribute
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET, shipped_model_path
from ienhancer_elm.predict import load_model


def timed(model, tokenizer, sequences, method: str) -> float:
    start = time.perf_counter()
    attribute(model, tokenizer, sequences, method)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=1000)
    parser.add_argument("--ism", type=int, default=2)
    parser.add_argument("-o", "--output", default="bench/attribution.json")
    args = parser.parse_args()
    model, tokenizer = load_model(shipped_model_path("layer1"), "cpu", precision="fp32")
    sequences = [s.upper() for s in load_split(DEFAULT_DATASET, "layer1", "train")["sequence"][: args.sequences]]
    first_order = timed(model, tokenizer, sequences, "first-order")
    ism = timed(model, tokenizer, sequences[: args.ism], "ism")
    report = {
        "command": "python bench/attribution.py",
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average_after": os.getloadavg()[0],
        "model": "models/ienhancer-elm-layer1, fp32 (members k = 3-6 and the spectrum member)",
        "first_order": {
            "sequences": len(sequences),
            "seconds": first_order,
            "seconds_per_sequence": first_order / len(sequences),
        },
        "ism": {"sequences": args.ism, "seconds": ism, "seconds_per_sequence": ism / args.ism},
        "ism_over_first_order": (ism / args.ism) / (first_order / len(sequences)),
        "budget": "1,000 sequences of 200 bp in at most 30 minutes (1.8 s a sequence)",
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
