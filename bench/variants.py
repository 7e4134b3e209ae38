"""Variants per second of `ienhancer-elm variants`: random SNVs on the hg38 chr2 slice, the shipped layer-1 model.

    python bench/variants.py [--variants 300] [--rounds 1] [-o bench/variants.json]

Draws SNVs at random places of data/genome/hg38_chr2_1-2333275.fa.gz (bgzip) whose 200 bp window holds no N,
writes them as a VCF, and times `variant_effects` over them (two windows a variant, batch 64 and the weights as
`ienhancer-elm variants` loads them), the reference read through pyfaidx as the command reads it; then, in the
same round, `predict_records` on the same windows, so that the cost of the VCF, the reference and the windows
shows as the ratio of the two. Reports the medians over the rounds, with the CPU named. The reference is copied
to a temporary folder first, so that pyfaidx's index files stay out of the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
from throughput import REPO, cpu_model

from ienhancer_elm.paths import shipped_model_path
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record
from ienhancer_elm.variants import open_reference, variant_effects, window_for

REFERENCE = REPO / "data" / "genome" / "hg38_chr2_1-2333275.fa.gz"


def random_snvs(reference: Path, count: int, window: int, seed: int) -> list[str]:
    """VCF lines of `count` SNVs at random places whose window holds no N (a telomere's N run scores nothing)."""
    genome = open_reference(reference)
    rng = random.Random(seed)
    (name,) = genome.keys()
    contig = genome[name]
    lines = []
    while len(lines) < count:
        p = rng.randrange(window, len(contig) - window)
        around = contig[p - window // 2 : p - window // 2 + window]
        if "N" in around:
            continue
        ref = contig[p]
        alt = rng.choice([base for base in "ACGT" if base != ref])
        lines.append(f"{name}\t{p + 1}\tsnv{len(lines)}\t{ref}\t{alt}\t.\t.\t.")
    genome.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(shipped_model_path("layer1")))
    parser.add_argument("--reference", default=str(REFERENCE))
    parser.add_argument("--variants", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)  # the command's default
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="bench/variants.json")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    model, tokenizer = load_model(args.model, "cpu", precision="auto")  # as the command loads it
    window = window_for(model)
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / Path(args.reference).name
        shutil.copy(args.reference, reference)
        vcf = Path(folder) / "snvs.vcf"
        lines = random_snvs(reference, args.variants, window, args.seed)
        vcf.write_text(
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(lines) + "\n"
        )
        per_round, predict_per_round = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            rows = list(variant_effects(vcf, reference, model, tokenizer, window, args.batch_size))
            per_round.append(len(rows) / (time.perf_counter() - start))
            windows = [Record(f"{i}", w) for i, row in enumerate(rows) for w in (row.ref_window, row.alt_window)]
            start = time.perf_counter()
            list(predict_records(model, tokenizer, windows, args.batch_size))
            predict_per_round.append(len(windows) / (time.perf_counter() - start))
    assert not any(row.error for row in rows), [row.error for row in rows if row.error][:3]
    deltas = sorted(abs(row.delta) for row in rows)
    report = {
        "command": "python bench/variants.py",
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "load_average_at_start": load,  # other work on the cores slows every figure alike
        "dtype": str(next(model.parameters()).dtype),
        "model": Path(args.model).name,
        "reference": Path(args.reference).name,
        "window": window,
        "batch_size": args.batch_size,
        "variants": len(rows),
        "variants_per_second_each_round": per_round,
        "variants_per_second_median": statistics.median(per_round),
        "windows_per_second_median": 2 * statistics.median(per_round),
        "predict_windows_per_second_each_round": predict_per_round,
        "predict_windows_per_second_median": statistics.median(predict_per_round),
        "variants_windows_over_predict": 2 * statistics.median(per_round) / statistics.median(predict_per_round),
        "abs_delta_median": statistics.median(deltas),
        "abs_delta_max": deltas[-1],
    }
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
