import numpy as np
import pytest

from ienhancer_elm.metrics import binary_metrics, bootstrap_intervals, metrics_with_intervals, paired_differences


def test_metrics_on_a_hand_made_case():
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    probabilities = [0.9, 0.8, 0.7, 0.2, 0.6, 0.3, 0.2, 0.1]
    figures = binary_metrics(labels, probabilities, threshold=0.5)
    # calls: 1 1 1 0 | 1 0 0 0 -> TP 3, FN 1, FP 1, TN 3
    assert figures["ACC"] == 0.75 and figures["Sn"] == 0.75 and figures["Sp"] == 0.75
    assert figures["MCC"] == pytest.approx((3 * 3 - 1 * 1) / np.sqrt(4 * 4 * 4 * 4))
    assert figures["AUC_ROC"] == pytest.approx(13.5 / 16)  # 0.9, 0.8, 0.7 beat all 4; 0.2 beats 0.1, ties 0.2
    assert binary_metrics(labels, probabilities, threshold=0.65)["Sp"] == 1.0


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    probabilities = np.clip(labels * 0.3 + rng.random(300) * 0.7, 0, 1)
    first = bootstrap_intervals(labels, probabilities, n_resamples=100, seed=7)
    assert first == bootstrap_intervals(labels, probabilities, n_resamples=100, seed=7)
    report = metrics_with_intervals(labels, probabilities, n_resamples=100, seed=7)
    for name, (low, high) in first.items():
        assert low <= report[name]["value"] <= high and high - low < 0.25


def test_paired_differences_see_a_small_real_gain_that_separate_intervals_miss():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 400)
    shared = rng.normal(size=400)  # what both models get right or wrong together
    weaker = labels * 1.0 + shared + rng.normal(scale=0.3, size=400)
    stronger = labels * 1.25 + shared + rng.normal(scale=0.3, size=400)
    # 100 resamples (seeded): the lower bound sits at +0.033, the intervals below overlap by 0.03
    differences = paired_differences(labels, stronger, weaker, thresholds=(0.6, 0.5), n_resamples=100, seed=0)
    assert differences["n"] == 400
    auc = differences["AUC_ROC"]
    assert auc["value"] == pytest.approx(
        binary_metrics(labels, stronger)["AUC_ROC"] - binary_metrics(labels, weaker)["AUC_ROC"]
    )
    assert 0 < auc["ci95"][0] < auc["value"] < auc["ci95"][1]  # paired: the gain is resolved
    own = [bootstrap_intervals(labels, p, n_resamples=100, seed=0)["AUC_ROC"] for p in (stronger, weaker)]
    assert own[0][0] < own[1][1]  # each model's own interval overlaps the other's


def test_a_model_against_itself_differs_by_exactly_zero():
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0] * 10)
    probabilities = np.linspace(0.05, 0.95, 80)
    differences = paired_differences(labels, probabilities, probabilities, n_resamples=50)
    for name in ("ACC", "MCC", "AUC_ROC"):
        assert differences[name] == {"value": 0.0, "ci95": [0.0, 0.0]}
