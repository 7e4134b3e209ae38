"""Can the layer-1 model learn to tell enhancers from ordinary genome? Heads refitted with genome windows as
extra negatives, compared with the shipped heads on held-out data.

python experiments/genome_negatives/genome_negative_heads.py   # after training/refit_heads.py (its cached features)

Encoders frozen (the shipped layer-1 members); heads of the shape and settings chosen by refit_heads.py,
fitted on folds 1-4 of the training split plus 200 bp windows of the hg38 slice (a background piece) as
negatives, one genome window for each training sequence. Held out: (a) fold 0's enhancers against windows of
the chr21 contigs, the genome piece kept out of every fitting step (AUC); (b) fold 0 itself (AUC). The rule
from issue 16: a genome-aware model ships only if it gains at least 0.02 on (a) and loses at most 0.01 on (b).
Writes experiments/genome_negatives/genome-negative-heads.json.
"""

import json
from pathlib import Path

import numpy as np
from genome_check import HELD_OUT_GENOME, genome_check, verdict  # this folder's library

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import load_model
from ienhancer_elm.training.heads import (
    HeadSettings,
    fit_head,
    genome_windows,
    head_probabilities,
    pooled_features,
    shipped_held_out_fold,
)
from ienhancer_elm.training.refit import require_fold_encoders

MODEL = Path("models/ienhancer-elm-layer1")


def main():
    report = json.loads(Path("results/experiments/heads-layer1.json").read_text())
    settings = HeadSettings(**report["chosen"])
    saved = np.load("runs/heads/layer1-features.npz")
    kmers = (3, 4, 5, 6)
    train = load_split(DEFAULT_DATASET, "layer1", "train")
    labels = np.asarray(train["label"])
    fit_rows, held_rows = shipped_held_out_fold(labels)
    require_fold_encoders(MODEL)
    model, tokenizer = load_model(MODEL, "cpu", precision="fp32")
    cache = Path("runs/heads/chr21-features.npz")
    if not cache.is_file():
        windows = genome_windows(HELD_OUT_GENOME)
        np.savez(cache, **{f"k{k}": pooled_features(model, k, tokenizer, windows) for k in kmers})
    held_out_genome = np.load(cache)
    rng = np.random.default_rng(0)
    genome = {k: saved[f"genome_k{k}"] for k in kmers}
    picked = rng.choice(len(genome[3]), size=len(fit_rows), replace=False)

    def scores(heads) -> tuple[np.ndarray, np.ndarray]:
        fold = np.mean([head_probabilities(heads[k], saved[f"train_k{k}"][held_rows]) for k in kmers], axis=0)
        background = np.mean([head_probabilities(heads[k], held_out_genome[f"k{k}"]) for k in kmers], axis=0)
        return fold, background

    plain = {k: fit_head(saved[f"train_k{k}"][fit_rows], labels[fit_rows], 25, settings) for k in kmers}
    with_genome = {
        k: fit_head(
            np.concatenate([saved[f"train_k{k}"][fit_rows], genome[k][picked]]),
            np.concatenate([labels[fit_rows], np.zeros(len(picked), dtype=labels.dtype)]),
            25,
            settings,
        )
        for k in kmers
    }
    plain, with_genome = scores(plain), scores(with_genome)
    out = {
        "held_out_genome": HELD_OUT_GENOME,
        "held_out_genome_windows": int(len(held_out_genome["k3"])),
        "held_out_enhancers": int(np.sum(labels[held_rows])),
        "genome_negatives": int(len(picked)),
        "results": {
            "heads as shipped (benchmark negatives)": genome_check(labels[held_rows], *plain),
            "with genome negatives": genome_check(labels[held_rows], *with_genome),
        },
        **verdict(labels[held_rows], plain=plain, with_genome=with_genome),
        "command": "python experiments/genome_negatives/genome_negative_heads.py",
    }
    Path("experiments/genome_negatives/genome-negative-heads.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
