"""Does a layer-1 model tell enhancers from ordinary genome (issue 16, item 4)? Two held-out measures and the
rule by which a model trained with genome negatives would ship.

(a) held-out training enhancers against windows of the genome piece kept out of every fitting step (AUC);
(b) the usual held-out layer-1 fold (AUC). A genome-aware model ships if it gains at least 0.02 on (a) and
loses at most 0.01 on (b); differences come with paired 95% bootstrap intervals.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from ..metrics import paired_differences

HELD_OUT_GENOME = "data/genome/grch38_chr21_contigs.fa.gz"
CALIBRATION_PIECES = (
    "data/genome/hg38_chr2_1-2333275.fa.gz",
    "data/genome/hg19_chr22_1-22000000.fa.gz",
    "data/genome/hg38_chr1_excerpt.fa.gz",
)
MIN_GAIN_ON_GENOME = 0.02
MAX_LOSS_ON_FOLD = 0.01
RULE = "ship if the gain on (a) is at least 0.02 and the loss on (b) at most 0.01"


def genome_check(fold_labels, fold_scores, genome_scores) -> dict[str, float]:
    """(a) and (b) of one model, from its scores of the held-out fold and of the held-out genome's windows."""
    fold_labels, fold_scores = np.asarray(fold_labels), np.asarray(fold_scores, dtype=float)
    labels, scores = _enhancers_against_genome(fold_labels, fold_scores, genome_scores)
    return {
        "held_out_fold_auc": float(roc_auc_score(fold_labels, fold_scores)),
        "enhancers_vs_held_out_genome_auc": float(roc_auc_score(labels, scores)),
    }


def verdict(fold_labels, plain: tuple, with_genome: tuple) -> dict:
    """The rule applied to two models, each given as (fold scores, genome scores)."""
    fold_labels = np.asarray(fold_labels)
    on_genome = paired_differences(
        *_enhancers_against_genome(fold_labels, with_genome[0], with_genome[1]),
        _enhancers_against_genome(fold_labels, plain[0], plain[1])[1],
    )["AUC_ROC"]
    on_fold = paired_differences(fold_labels, plain[0], with_genome[0])["AUC_ROC"]
    gain, loss = on_genome["value"], on_fold["value"]
    return {
        "rule": RULE,
        "gain_a": gain,
        "gain_a_ci95": on_genome["ci95"],
        "loss_b": loss,
        "loss_b_ci95": on_fold["ci95"],
        "ships": bool(gain >= MIN_GAIN_ON_GENOME and loss <= MAX_LOSS_ON_FOLD),
    }


def _enhancers_against_genome(fold_labels, fold_scores, genome_scores) -> tuple[np.ndarray, np.ndarray]:
    enhancers = np.asarray(fold_scores, dtype=float)[np.asarray(fold_labels) == 1]
    genome = np.asarray(genome_scores, dtype=float)
    return np.r_[np.ones(len(enhancers)), np.zeros(len(genome))], np.r_[enhancers, genome]
