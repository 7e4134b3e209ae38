"""The yardstick for a model's motifs (issue 34): which JASPAR motifs are enriched in the training enhancers at
all, and which still are against non-enhancers of the same GC share.

    python experiments/motif_yardstick/yardstick.py [-o experiments/motif_yardstick/yardstick.json]

FIMO (memelite, p < 1e-4, both strands) scans every JASPAR CORE vertebrate motif (pyjaspar's bundled
JASPAR2024) over the layer-1 training split. A motif is present in a sequence with at least one hit; enrichment
is Fisher's exact test (one-sided, more often in enhancers), Benjamini-Hochberg across motifs, q < 0.05. Two
comparisons: the enhancers against all non-enhancers, and GC-matched pairs (each enhancer, in file order, paired
with a random unpaired non-enhancer whose GC share is within 0.01; seed 0) against each other. Then each model
motif folder given with --motifs (a `motifs.json` of `ienhancer-elm motifs`) is read: which of its JASPAR
matches (TOMTOM q < 0.05) fall in each list.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import false_discovery_control, fisher_exact

from ienhancer_elm.attribution import one_hot_acgt
from ienhancer_elm.evaluation import load_split
from ienhancer_elm.motifs import jaspar_vertebrates
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.sequences import gc_fraction
from ienhancer_elm.training.negatives import gc_matched_pairs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIMO_P = 1e-4
Q = 0.05


def enrichment(present_a: np.ndarray, present_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, BH q) per motif of presence `(sequences, motifs)` being more common in a than in b."""
    p = []
    for motif in range(present_a.shape[1]):
        a, b = int(present_a[:, motif].sum()), int(present_b[:, motif].sum())
        table = [[a, len(present_a) - a], [b, len(present_b) - b]]
        p.append(fisher_exact(table, alternative="greater")[1])
    return np.array(p), false_discovery_control(p, method="bh")


def tf_families(matrix_id: str) -> list[str]:
    """JASPAR's TF families of a matrix, once each (a dimer's two halves may share one; the class where no family
    is given), as pyjaspar's database holds them."""
    from pyjaspar import jaspardb

    motif = jaspardb(release="JASPAR2024").fetch_motif_by_id(matrix_id)
    return sorted(set(motif.tf_family or motif.tf_class or ["not given"]))


def motif_lists(motif_folders, enriched: dict[str, set[str]]) -> dict:
    found = {}
    for folder in motif_folders:
        report = json.loads((Path(folder) / "motifs.json").read_text())
        matched = [m for m in report["motifs"] if m["matched"]]
        found[str(folder)] = {
            "found": report["found"],
            "matched": len(matched),
            "motifs": [
                {
                    "id": m["id"],
                    "jaspar": f"{m['best_match']['id']} {m['best_match']['name']}",
                    "families": tf_families(m["best_match"]["id"]),
                    **{name: m["best_match"]["id"] in ids for name, ids in enriched.items()},
                }
                for m in matched
            ],
        }
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motifs", nargs="*", default=[], help="folders written by `ienhancer-elm motifs`")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "yardstick.json")
    args = parser.parse_args(argv)
    from memelite import fimo

    train = load_split(DEFAULT_DATASET, "layer1", "train")
    sequences = [s.upper() for s in train["sequence"]]
    labels = np.asarray(train["label"])
    targets = jaspar_vertebrates("JASPAR2024")
    one_hot = np.stack([one_hot_acgt(s).T for s in sequences]).astype(np.float32)
    hits = fimo({f"{i}": t[2] for i, t in enumerate(targets)}, one_hot, threshold=FIMO_P)  # a table per motif
    present = np.zeros((len(sequences), len(targets)), dtype=bool)
    for motif, table in enumerate(hits):
        present[table["sequence_name"].to_numpy(dtype=int), motif] = True
    print(f"FIMO: {present.shape[1]} motifs over {present.shape[0]} sequences", file=sys.stderr)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    gc = np.array([gc_fraction(s) for s in sequences])
    pairs = gc_matched_pairs(gc[positives], gc[negatives])
    matched_positives = positives[[a for a, _ in pairs]]
    matched_negatives = negatives[[b for _, b in pairs]]
    comparisons = {
        "against_all_non_enhancers": (present[positives], present[negatives]),
        "against_gc_matched_non_enhancers": (present[matched_positives], present[matched_negatives]),
    }
    report = {
        "question": "which JASPAR motifs are enriched in enhancers, and which beyond GC share?",
        "fimo_p": FIMO_P,
        "q": Q,
        "jaspar": f"JASPAR2024 CORE vertebrates, {len(targets)} motifs",
        "enhancers": len(positives),
        "non_enhancers": len(negatives),
        "gc_matched_pairs": len(pairs),
        "lists": {},
    }
    enriched_ids = {}
    for name, (a, b) in comparisons.items():
        p, q = enrichment(a, b)
        kept = np.flatnonzero(q < Q)
        enriched_ids[name] = {targets[i][0] for i in kept}
        report["lists"][name] = {
            "enriched": len(kept),
            "motifs": sorted(
                (
                    {
                        "id": targets[i][0],
                        "name": targets[i][1],
                        "families": tf_families(targets[i][0]) if name == "against_gc_matched_non_enhancers" else None,
                        "q": float(q[i]),
                        "in_enhancers": float(a[:, i].mean()),
                        "in_others": float(b[:, i].mean()),
                    }
                    for i in kept
                ),
                key=lambda row: row["q"],
            ),
        }
    report["model_motifs"] = motif_lists(args.motifs, enriched_ids)
    report["command"] = "python experiments/motif_yardstick/yardstick.py" + "".join(
        f" {a}" for a in (argv or sys.argv[1:])
    )
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


if __name__ == "__main__":
    main()
