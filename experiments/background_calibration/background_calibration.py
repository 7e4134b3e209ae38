"""Is the shipped layer-1 model's genomic background calibrated? Called shares at nominal rates on held-out DNA.

    python experiments/background_calibration/background_calibration.py   # writes background-calibration-layer1.json

On genomic DNA the model's score follows GC content (their correlation over the background's windows is
reported), so the background compares each score only with background windows of its own GC stratum. How
many strata: chosen on the background's own pieces, never on the held-out piece. Each piece is left out in
turn, the others make the background, and the left-out piece's windows are called at rates 0.01 and 0.05;
the rule, written before the runs: the fewest strata among 1 (pooled), 5, 10 and 20 whose worst
|log2(called share / rate)| over pieces and both rates is within 0.1 of the smallest (0.001 is left out of
the choice: a piece of 3,764 windows expects under 4 calls there).

Then the check: the genome piece kept out of every step (data/genome/grch38_chr21_contigs.fa.gz) is scanned
as users scan (window 200, stride 50, default precision), and the share of its windows whose p-value is at
most 0.001, 0.01 and 0.05 is counted against the shipped background (its GC strata), with 95% intervals from
resampling its contigs, and against the same windows pooled (one stratum), for comparison; 1,000 random 200 bp
sequences (seed 0) go through `predict`.
docs/scanning.md and the README render the tables (this folder's figures.py, through `python docs/figures.py`).
"""

from __future__ import annotations

import csv
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODEL = "models/ienhancer-elm-layer1"
HELD_OUT = "data/genome/grch38_chr21_contigs.fa.gz"
RATES = (0.001, 0.01, 0.05)
CHOICE_RATES = (0.01, 0.05)
SCAN_STRIDE = 50  # the scan's default, as users scan
CANDIDATE_STRATA = (1, 5, 10, 20)
OUTPUT = HERE / "background-calibration-layer1.json"


def cli(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "ienhancer_elm.cli", *arguments], cwd=REPO, check=True)


def scan_precision() -> str:
    """The precision `scan` chose here by default (bf16 only where the CPU or GPU has bf16 units)."""
    from ienhancer_elm.runtime import pick_device, use_bf16

    return "bf16" if use_bf16(pick_device(None), "auto") else "fp32"


def shares(p_values, rates=RATES) -> dict[str, float]:
    p_values = np.asarray(p_values)
    return {str(rate): float(np.mean(p_values <= rate)) for rate in rates}


def contig_intervals(names, p_values, rates=RATES, n_resamples=2000, seed=0) -> dict[str, list[float]]:
    """95% intervals of the called shares, resampling whole contigs: a contig's windows overlap and share its
    DNA's composition, so they are not independent draws, and the interval says how finely one held-out piece
    can check a rate at all. Few contigs make a rough interval, and the background's own sampling error is
    not in it."""
    contigs, which = np.unique(np.asarray(names), return_inverse=True)
    windows = np.bincount(which, minlength=len(contigs))
    draws = np.random.default_rng(seed).integers(0, len(contigs), (n_resamples, len(contigs)))
    intervals = {}
    for rate in rates:
        called = np.bincount(which, weights=np.asarray(p_values) <= rate, minlength=len(contigs))
        resampled = called[draws].sum(axis=1) / windows[draws].sum(axis=1)
        intervals[str(rate)] = [float(v) for v in np.percentile(resampled, [2.5, 97.5])]
    return intervals


def worst_log_ratio(called: dict[str, float]) -> float:
    return max(abs(math.log2(share / float(rate))) if share else math.inf for rate, share in called.items())


def leave_one_piece_out(background) -> dict:
    """Per candidate stratum count: each piece's called shares against a background of the others."""
    from ienhancer_elm.background import Background

    table = {}
    for strata in CANDIDATE_STRATA:
        full = Background(
            background.scores,
            background.window,
            background.stride,
            background.max_n_fraction,
            background.model,
            background.pieces,
            gc=background.gc,
            gc_strata=strata,
        )
        ends = np.cumsum([piece["windows"] for piece in full.pieces])
        per_piece = {}
        for piece, end in zip(full.pieces, ends):
            rows = slice(end - piece["windows"], end)
            others = full.without(piece["file"])
            per_piece[piece["file"]] = shares(others.p_values(full.scores[rows], full.gc[rows]), CHOICE_RATES)
        table[str(strata)] = {
            "called_share": per_piece,
            "worst_abs_log2_ratio": max(worst_log_ratio(called) for called in per_piece.values()),
        }
    best = min(row["worst_abs_log2_ratio"] for row in table.values())
    chosen = min(int(strata) for strata, row in table.items() if row["worst_abs_log2_ratio"] <= best + 0.1)
    return {"candidates": table, "chosen": chosen}


def main() -> None:
    from ienhancer_elm.background import Background
    from ienhancer_elm.sequences import gc_fraction, read_records

    background = Background.read(REPO / MODEL / "background.json")
    choice = leave_one_piece_out(background)
    pooled = Background(
        background.scores,
        background.window,
        background.stride,
        background.max_n_fraction,
        gc=background.gc,
        gc_strata=1,
    )
    with tempfile.TemporaryDirectory() as folder:
        graph = Path(folder) / "held_out.bedGraph"
        cli(
            "scan",
            HELD_OUT,
            "--model",
            MODEL,
            "-o",
            str(Path(folder) / "held_out.bed"),
            "--bedgraph",
            str(graph),
            "--stride",
            str(SCAN_STRIDE),
            "--no-progress",
        )
        windows = [line.split("\t") for line in graph.read_text().splitlines()[1:]]
        rng = random.Random(0)
        fasta, table = Path(folder) / "random.fa", Path(folder) / "random.tsv"
        fasta.write_text(
            "".join(f">random{i}\n{''.join(rng.choice('ACGT') for _ in range(200))}\n" for i in range(1000))
        )
        cli("predict", str(fasta), "--model", MODEL, "-o", str(table), "--no-progress")
        with open(table, encoding="utf-8") as handle:
            random_p = [float(row["background_p"]) for row in csv.DictReader(handle, delimiter="\t")]
    genome = {record.id: record.sequence for record in read_records(REPO / HELD_OUT)}
    margin = (background.window - SCAN_STRIDE) // 2  # the bedGraph bin is the window's central stride
    starts = [(name, int(start) - margin) for name, start, *_ in windows]
    contigs = [name for name, _ in starts]
    scores = np.array([float(window[3]) for window in windows])
    gc = np.array([gc_fraction(genome[name][start : start + background.window]) for name, start in starts])
    held_out_p = background.p_values(scores, gc)
    report = {
        "model": MODEL,
        "background_pieces": [piece["file"] for piece in background.pieces],
        "background_windows": background.n,
        "gc_strata": len(background.strata),
        "score_gc_correlation": float(np.corrcoef(background.scores, background.gc)[0, 1]),
        "strata_choice": choice,
        "held_out_piece": HELD_OUT,
        "held_out_windows": len(windows),
        "held_out_mean_gc": float(gc.mean()),
        "background_mean_gc": float(background.gc.mean()),
        "held_out_contigs": len(set(contigs)),
        "held_out_scan_precision": scan_precision(),
        "called_share_held_out": shares(held_out_p),
        "called_share_held_out_ci95": contig_intervals(contigs, held_out_p),
        "called_share_held_out_pooled": shares(pooled.p_values(scores)),
        "random_sequences": len(random_p),
        "called_share_random": shares(random_p),
        "command": "python experiments/background_calibration/background_calibration.py",
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
