"""`torch.compile` modes for one member, side by side in one process: which one `predict --compile` should use.

    python bench/compile_modes.py [--device cpu] [--rounds 3] [-o bench/compile-modes.json]

One member of the shipped size (k = 3, random weights, cast as `predict` casts them) classifies a batch of
layer-1 test sequences, eager and as a `CompiledMember` under each mode; the modes take turns, round after
round, so that a noisy machine slows them alike. Prints and writes milliseconds per batch (best of each
round) and each mode's ratio to eager.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
from pathlib import Path

import torch
from throughput import REPO, random_ensemble, timed
from transformers.utils import logging as transformers_logging

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.predict import load_model
from ienhancer_elm.runtime import CompiledMember, keep_freed_memory

MODES = {"default": None, "max-autotune": "max-autotune", "reduce-overhead": "reduce-overhead"}


def first_sequences_as_ids(tokenizer, batch_size: int, device) -> torch.Tensor:
    sequences = load_split(REPO / "hub_configs/datasets/ienhancer-benchmarks", "layer1", "test")["sequence"]
    return tokenizer(list(sequences)[:batch_size], return_tensors="pt")["input_ids"].to(device)  # one member


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--modes", nargs="+", default=["default", "max-autotune"], choices=list(MODES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-o", "--output", default="bench/compile-modes.json")
    args = parser.parse_args()
    transformers_logging.disable_progress_bar()
    keep_freed_memory()
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        model, tokenizer = load_model(random_ensemble([args.k], Path(tmp) / "member"), device, precision="auto")
    member = model.member(args.k)
    input_ids = first_sequences_as_ids(tokenizer, args.batch_size, device)
    runners = {"eager": member}
    first_call_s = {}
    for name in args.modes:
        runners[name] = CompiledMember(copy.deepcopy(member), args.batch_size, mode=MODES[name])
        first_call_s[name] = call_seconds(runners[name], input_ids, calls=1)
    per_round = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            per_round[name].append(call_seconds(runner, input_ids, calls=10) * 1000)
    ms = {name: statistics.median(values) for name, values in per_round.items()}
    results = {
        "device": str(device),
        "k": args.k,
        "batch": list(input_ids.shape),
        "dtype": str(next(member.parameters()).dtype),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "first_call_s": first_call_s,
        "ms_per_batch_each_round": per_round,
        "ms_per_batch_median": ms,
        "eager_over_mode": {name: ms["eager"] / value for name, value in ms.items() if name != "eager"},
    }
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


@torch.inference_mode()
def call_seconds(runner, input_ids: torch.Tensor, calls: int) -> float:
    """The fastest of `calls` calls, waiting for the device to finish each."""

    def call():
        logits, _ = runner(input_ids)
        if logits.device.type == "cuda":
            torch.cuda.synchronize(logits.device)

    seconds, _ = timed(call, repeat=calls)
    return seconds


if __name__ == "__main__":
    main()
