"""How often the shipped models give the very same score: the share of the single most common value.

    python experiments/score_ties/score_ties.py [--layers layer1 layer2] [--precisions auto fp32]   # score-ties.json

For the ensemble and each member, through `predict_records` as `ienhancer-elm predict` runs it, in the
default precision (`auto`: bf16 weights where the CPU or GPU has bf16 units) and in fp32, on three probes:
(a) the hg38 slice's 200 bp windows at stride 200 (at most 10% N), (b) 1,000 random 200 bp sequences
(seed 0), (c) fold 0 of each model's training split (5 stratified folds, seed 42: the fold its choices were
made on, held out from the encoders then; the members retrained on the whole split have seen it since).
Scores are compared as the outputs print them (6 decimals).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET, shipped_model_path
from ienhancer_elm.predict import load_model, member_keys, predict_records
from ienhancer_elm.runtime import bf16_supported, pick_device
from ienhancer_elm.sequences import Record
from ienhancer_elm.training.heads import genome_windows, modal_share, shipped_held_out_fold

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GENOME = REPO / "data" / "genome" / "hg38_chr2_1-2333275.fa.gz"
OUTPUT = HERE / "score-ties.json"


def probes(layer: str) -> dict[str, list[str]]:
    rng = random.Random(0)
    train = load_split(DEFAULT_DATASET, layer, "train")
    labels = np.asarray(train["label"])
    _, held_out = shipped_held_out_fold(labels)
    return {
        "genome": genome_windows(GENOME),
        "random": ["".join(rng.choice("ACGT") for _ in range(200)) for _ in range(1000)],
        "held_out": [train["sequence"][i] for i in held_out],
    }


def shares(model, tokenizer, sequences: list[str], precision: str) -> dict[str, float]:
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    rows = [row for row in predict_records(model, tokenizer, records, 64, precision) if row.error is None]
    found = {"ensemble": modal_share([row.probability for row in rows]), "n": len(rows)}
    for key in member_keys(model.config):
        found[f"k{key}" if isinstance(key, int) else key] = modal_share([row.member_probabilities[key] for row in rows])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", nargs="+", default=["layer1", "layer2"])
    parser.add_argument("--precisions", nargs="+", default=["auto", "fp32"], choices=["auto", "fp32"])
    args = parser.parse_args()
    command = " ".join(["python experiments/score_ties/score_ties.py", *sys.argv[1:]])
    report = {"command": command, "device": str(pick_device()), "layers": {}}
    report["auto_is_bf16"] = bf16_supported(pick_device())
    for layer in args.layers:
        sets = probes(layer)
        report["layers"][layer] = {}
        for precision in args.precisions:
            model, tokenizer = load_model(shipped_model_path(layer), precision=precision)
            found = {name: shares(model, tokenizer, sequences, precision) for name, sequences in sets.items()}
            report["layers"][layer][precision] = found
            print(layer, precision, json.dumps(found), file=sys.stderr, flush=True)
    report["largest_share"] = max(
        value
        for per_precision in report["layers"].values()
        for per_probe in per_precision.values()
        for found in per_probe.values()
        for key, value in found.items()
        if key != "n"
    )
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(OUTPUT)


if __name__ == "__main__":
    main()
