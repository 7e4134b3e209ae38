"""What the spectrum member costs: the shipped layer-1 model with and without it, side by side in one run.

    python bench/spectrum_cost.py [--rounds 3] [-o bench/spectrum-cost.json]

Predicts the 400 layer-1 test sequences with `predict_records` (weights as `predict` loads them, batch 64) through the shipped
model and through the same model with its spectrum member removed, alternating the two in each round; reports
the median sequences per second of each and their ratio. The CPU is named in the report.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET, shipped_model_path
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record
from ienhancer_elm.training.spectrum import with_spectrum


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-o", "--output", default="bench/spectrum-cost.json")
    args = parser.parse_args()
    model, tokenizer = load_model(shipped_model_path("layer1"), "cpu", precision="auto")  # as `predict` loads it
    dtype = next(model.parameters()).dtype
    models = {"with spectrum member": model, "BERT members alone": with_spectrum(model, None).to(dtype)}
    records = [Record(str(i), s) for i, s in enumerate(load_split(DEFAULT_DATASET, "layer1", "test")["sequence"])]
    per_round = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, candidate in models.items():
            start = time.perf_counter()
            list(predict_records(candidate, tokenizer, records, 64))
            per_round[name].append(len(records) / (time.perf_counter() - start))
    median = {name: statistics.median(values) for name, values in per_round.items()}
    report = {
        "command": "python bench/spectrum_cost.py",
        "cpu": cpu_name(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "dtype": str(dtype),
        "sequences": len(records),
        "sequences_per_second_each_round": per_round,
        "sequences_per_second_median": median,
        "without_over_with": median["BERT members alone"] / median["with spectrum member"],
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
