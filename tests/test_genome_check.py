"""The held-out measures and the rule by which a layer-1 model trained with genome negatives would ship."""

import numpy as np
import pytest

from ienhancer_elm.training.genome_check import genome_check, ordinary_genome_windows, verdict

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
    shipped = verdict(FOLD_LABELS, plain=plain, with_genome=better_on_genome)
    assert shipped["ships"] and shipped["gain_a"] == pytest.approx(2 / 12) and shipped["loss_b"] == 0
    assert shipped["gain_a_ci95"][0] <= shipped["gain_a"] <= shipped["gain_a_ci95"][1]
    refused = verdict(FOLD_LABELS, plain=plain, with_genome=worse_on_fold)
    assert not refused["ships"] and refused["gain_a"] == 0 and refused["loss_b"] == pytest.approx(8 / 9 - 5 / 9)
    assert not verdict(FOLD_LABELS, plain=plain, with_genome=plain)["ships"]


def test_the_rule_holds_on_its_bounds_despite_rounding():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])
    genome = np.linspace(0.0, 0.95, 50)  # 3 enhancers x 50 windows: a step of 1/150 in AUC
    plain, with_genome = (fold, genome), (fold, genome.copy())
    with_genome[1][[46, 47, 48]] = 0.0  # three pairs won: +0.02, computed as a difference of floats
    assert verdict(FOLD_LABELS, plain=plain, with_genome=with_genome)["ships"]


def test_contigs_resampled_whole_keep_the_point_and_widen_the_interval():
    rng = np.random.default_rng(1)
    fold = rng.random(6)
    contigs = np.repeat(np.arange(6), 20)
    plain = (fold, rng.random(120) + 0.3 * (contigs % 2))  # contigs differ in level: windows are not independent
    with_genome = (fold, plain[1] - 0.2 * (contigs == 1))
    by_window = verdict(FOLD_LABELS, plain=plain, with_genome=with_genome)
    by_contig = verdict(FOLD_LABELS, plain=plain, with_genome=with_genome, genome_groups=contigs)
    assert by_contig["gain_a"] == by_window["gain_a"]
    width = {name: np.diff(found["gain_a_ci95"])[0] for name, found in (("window", by_window), ("contig", by_contig))}
    assert width["contig"] > width["window"]


def test_ordinary_genome_windows_leave_out_n_and_benchmark_sequences_on_either_strand(tmp_path):
    from ienhancer_elm.sequences import reverse_complement

    rng = np.random.default_rng(2)
    first, second = ("".join(rng.choice(list("ACGT"), 600)) for _ in range(2))
    first = first[:250] + "N" + first[251:]
    planted = second[420:480]
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">one\n{first.lower()}\n>two\n{second}\n>short\n{second[:150]}\n")
    windows, names = ordinary_genome_windows([fasta], {reverse_complement(planted)})
    assert windows == [first[:200].upper(), first[400:600].upper(), second[:200], second[200:400]]
    assert names == ["one", "one", "two", "two"]


def test_calibration_intervals_resample_whole_contigs():
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("calibration", REPO / "docs" / "background_calibration.py")
    calibration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibration)
    names = ["a"] * 10 + ["b"] * 10
    p_values = np.r_[np.full(10, 0.005), np.full(10, 0.5)]  # contig a called whole at 0.01, b never
    intervals = calibration.contig_intervals(names, p_values, rates=(0.01, 0.001))
    assert intervals["0.001"] == [0.0, 0.0]
    assert intervals["0.01"] == [0.0, 1.0]  # two contigs: a resample holds a twice, b twice, or one of each
    same_contig = calibration.contig_intervals(["a"] * 20, p_values, rates=(0.01,))
    assert same_contig["0.01"] == [0.5, 0.5]
