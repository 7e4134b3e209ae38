"""What a genome looks like to the shipped layer-1 model: the share of windows it calls, and random DNA.

    python experiments/scan_statistics/scan_statistics.py   # writes scan-statistics-layer1.json (minutes on 2 cores)

Scans the hg38 slice in data/genome (stride 200, calls at the benchmark threshold 0.5, the scan's defaults
otherwise) and predicts 100 random 200 bp sequences (seed 0); also counts the slice's windows with background
p-value at most 0.01 (the slice is one of the background's pieces, so that share is about 0.01 by
construction). docs/scanning.md renders its figures from the JSON (this folder's figures.py, through
`python docs/figures.py`).
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GENOME = "data/genome/hg38_chr2_1-2333275.fa.gz"
OUTPUT = HERE / "scan-statistics-layer1.json"


def cli(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "ienhancer_elm.cli", *arguments], cwd=REPO, check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        bed, bedgraph = Path(folder) / "slice.bed", Path(folder) / "slice.bedGraph"
        cli(
            "scan",
            GENOME,
            "--stride",
            "200",
            "--threshold",
            "0.5",
            "-o",
            str(bed),
            "--bedgraph",
            str(bedgraph),
            "--no-progress",
        )
        windows = [line.split("\t") for line in bedgraph.read_text().splitlines()[1:]]
        scores = [float(window[3]) for window in windows]
        regions = [line.split("\t") for line in bed.read_text().splitlines()]
        rng = random.Random(0)
        sequences = ["".join(rng.choice("ACGT") for _ in range(200)) for _ in range(100)]
        fasta, calls = Path(folder) / "random.fa", Path(folder) / "random.tsv"
        fasta.write_text("".join(f">random{i}\n{s}\n" for i, s in enumerate(sequences)))
        cli("predict", str(fasta), "-o", str(calls), "--no-progress")
        with open(calls, encoding="utf-8") as handle:
            labels = [row["label"] for row in csv.DictReader(handle, delimiter="\t")]
    from ienhancer_elm.background import Background
    from ienhancer_elm.sequences import gc_fraction, read_records

    background = Background.read(REPO / "models" / "ienhancer-elm-layer1" / "background.json")
    genome = {record.id: record.sequence for record in read_records(REPO / GENOME)}  # stride = window: bin = window
    gc = [gc_fraction(genome[name][int(start) : int(end)]) for name, start, end, _ in windows]
    p_values = background.p_values(scores, gc)
    report = {
        "genome": GENOME,
        "model": "models/ienhancer-elm-layer1",
        "stride": 200,
        "window": 200,
        "windows_scored": len(scores),
        "windows_called": sum(score > 0.5 for score in scores),
        "windows_background_p_at_most_0.01": int(sum(p_values <= 0.01)),
        "genome_in_background": True,
        "region_bases": sum(int(end) - int(start) for _, start, end, *_ in regions),
        "regions": len(regions),
        "random_sequences": len(labels),
        "random_called_enhancer": labels.count("enhancer"),
        "commands": "python experiments/scan_statistics/scan_statistics.py",
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
