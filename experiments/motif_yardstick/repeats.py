"""Are a model's matched motifs binding sites or pieces of repeats? Each matched motif's consensus against the hg38
chr2 slice, whose lowercase letters are RepeatMasker's soft-masking.

    python experiments/motif_yardstick/repeats.py [--motifs results/motifs-attribution-layer1]

For each consensus, the 10-mer of it found most often in the slice (both strands): how often, against the count a
random 10-mer has there, and the share of those hits lying in soft-masked (repeat) sequence, against the slice's
own share. A site-like motif gives counts near expectation; a repeat fragment gives many, nearly all masked.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from ienhancer_elm.sequences import read_records, reverse_complement

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SLICE = ROOT / "data/genome/hg38_chr2_1-2333275.fa.gz"
CORE = 10


def hits(genome: str, word: str) -> list[int]:
    upper = genome.upper()
    found = {m.start() for m in re.finditer(f"(?={word})", upper)}
    return sorted(found | {m.start() for m in re.finditer(f"(?={reverse_complement(word)})", upper)})


def repeat_evidence(consensus: str, genome: str) -> dict:
    words = {consensus[i : i + CORE] for i in range(len(consensus) - CORE + 1)}
    word = max(sorted(words), key=lambda w: len(hits(genome, w)))
    where = hits(genome, word)
    masked = sum(genome[h : h + CORE].islower() for h in where)
    return {
        "core": word,
        "hits": len(where),
        "expected_with_uniform_bases": round(2 * len(genome) / 4**CORE, 1),
        "share_soft_masked": round(masked / len(where), 3) if where else None,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motifs", type=Path, default=ROOT / "results/motifs-attribution-layer1")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "repeats.json")
    args = parser.parse_args(argv)
    genome = "".join(record.sequence for record in read_records(SLICE))  # case kept: lowercase is masked
    motifs = json.loads((args.motifs / "motifs.json").read_text(encoding="utf-8"))["motifs"]
    report = {
        "genome": f"{SLICE.name}: {len(genome):,} bp, {sum(c.islower() for c in genome) / len(genome):.3f} soft-masked",
        "motifs": {
            motif["id"]: {"best_match": motif["best_match"]["name"], **repeat_evidence(motif["consensus"], genome)}
            for motif in motifs
            if motif["matched"]
        },
        "command": f"python experiments/motif_yardstick/repeats.py --motifs {args.motifs.relative_to(ROOT)}",
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
