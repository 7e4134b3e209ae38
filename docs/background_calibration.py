"""Is the shipped layer-1 model's genomic background calibrated? Called shares at nominal rates on held-out DNA.

    python docs/background_calibration.py   # writes results/background-calibration-layer1.json

Scans the genome piece kept out of the background (data/genome/grch38_chr21_contigs.fa.gz; the background
holds the other three pieces) as users scan (window 200, stride 50, default precision) and counts the share of
windows whose background p-value is at most 0.001, 0.01 and 0.05; does the same for 1,000 random 200 bp
sequences (seed 0) through `predict`. docs/scanning.md renders the table (`python docs/figures.py`).
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL = "models/ienhancer-elm-layer1"
HELD_OUT = "data/genome/grch38_chr21_contigs.fa.gz"
RATES = (0.001, 0.01, 0.05)
OUTPUT = REPO / "results" / "background-calibration-layer1.json"


def cli(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "ienhancer_elm.cli", *arguments], cwd=REPO, check=True)


def shares(p_values: list[float]) -> dict[str, float]:
    return {str(rate): sum(p <= rate for p in p_values) / len(p_values) for rate in RATES}


def main() -> None:
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
            "--bedgraph-value",
            "log10p",
            "--no-progress",
        )
        genome_p = [10 ** -float(line.split("\t")[3]) for line in graph.read_text().splitlines()[1:]]
        rng = random.Random(0)
        fasta, table = Path(folder) / "random.fa", Path(folder) / "random.tsv"
        fasta.write_text(
            "".join(f">random{i}\n{''.join(rng.choice('ACGT') for _ in range(200))}\n" for i in range(1000))
        )
        cli("predict", str(fasta), "--model", MODEL, "-o", str(table), "--no-progress")
        with open(table, encoding="utf-8") as handle:
            random_p = [float(row["background_p"]) for row in csv.DictReader(handle, delimiter="\t")]
    background = json.loads((REPO / MODEL / "background.json").read_text())
    report = {
        "model": MODEL,
        "background_pieces": [piece["file"] for piece in background["pieces"]],
        "background_windows": background["windows"],
        "held_out_piece": HELD_OUT,
        "held_out_windows": len(genome_p),
        "called_share_held_out": shares(genome_p),
        "random_sequences": len(random_p),
        "called_share_random": shares(random_p),
        "command": "python docs/background_calibration.py",
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
