"""The held-out measures and the rule by which a layer-1 model trained with genome negatives would ship."""

import numpy as np
import pytest

from ienhancer_elm.training.genome_check import genome_check, verdict

FOLD_LABELS = np.array([1, 1, 1, 0, 0, 0])


def test_genome_check_counts_pairs_exactly():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])  # 8 of 9 enhancer-negative pairs ordered
    genome = np.array([0.85, 0.2, 0.1, 0.05])  # enhancers above genome in 10 of 12 pairs
    assert genome_check(FOLD_LABELS, fold, genome) == {
        "held_out_fold_auc": pytest.approx(8 / 9),
        "enhancers_vs_held_out_genome_auc": pytest.approx(10 / 12),
    }


def test_the_rule_ships_a_gain_on_genome_without_a_loss_on_the_fold():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])
    plain = (fold, np.array([0.85, 0.2, 0.1, 0.05]))
    better_on_genome = (fold, np.array([0.3, 0.2, 0.1, 0.05]))
    worse_on_fold = (np.array([0.9, 0.3, 0.4, 0.5, 0.8, 0.1]), plain[1])
    shipped = verdict(FOLD_LABELS, plain, better_on_genome)
    assert shipped["ships"] and shipped["gain_a"] == pytest.approx(2 / 12) and shipped["loss_b"] == 0
    assert shipped["gain_a_ci95"][0] <= shipped["gain_a"] <= shipped["gain_a_ci95"][1]
    refused = verdict(FOLD_LABELS, plain, worse_on_fold)
    assert not refused["ships"] and refused["gain_a"] == 0 and refused["loss_b"] == pytest.approx(8 / 9 - 5 / 9)
    assert not verdict(FOLD_LABELS, plain, plain)["ships"]
