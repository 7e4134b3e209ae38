"""The Hub metric script (hub_configs/metric/ienhancer_metrics) gives `ienhancer-elm evaluate`'s figures.

The script cannot import the package (a Hub metric is downloaded alone), so it repeats the lines of
`ienhancer_elm.metrics`; these tests are what keeps the two copies equal.
"""

import inspect

import numpy as np
import pytest

from ienhancer_elm.metrics import metrics_with_intervals

from conftest import REPO

METRIC_FOLDER = REPO / "hub_configs" / "metric" / "ienhancer_metrics"


@pytest.fixture(scope="module")
def metric():
    evaluate = pytest.importorskip("evaluate")
    # a local folder: loaded offline, without the Hub
    return evaluate.load(str(METRIC_FOLDER))


def random_scores(seed: int, n: int = 60):
    """Labels and probabilities rounded to one decimal, so that many scores tie, some at the threshold."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = np.round(np.clip(0.25 * labels + rng.random(n) * 0.75, 0, 1), 1)
    return labels.tolist(), scores.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_figures_equal_the_package_to_the_last_digit(metric, seed):
    labels, scores = random_scores(seed)
    threshold, n_resamples = [0.5, 0.5, 0.3, 0.7][seed], 30  # the figures agree at any count: kept short
    expected = metrics_with_intervals(labels, scores, threshold, n_resamples, seed)
    got = metric.compute(
        references=labels, prediction_scores=scores, threshold=threshold, n_resamples=n_resamples, seed=seed
    )
    assert len(set(scores)) < len(scores) / 3  # the data has ties
    np.testing.assert_equal(got, expected)  # exact, NaN equal to NaN


def test_a_single_class_gives_the_same_nans(metric):
    labels, scores = [1] * 8, [0.9, 0.2, 0.6, 0.6, 0.4, 0.8, 0.5, 0.7]
    got = metric.compute(references=labels, prediction_scores=scores, n_resamples=50)
    np.testing.assert_equal(got, metrics_with_intervals(labels, scores, n_resamples=50))
    assert np.isnan(got["MCC"]["value"]) and np.isnan(got["AUC_ROC"]["ci95"][0])  # undefined, as in the package


def test_the_defaults_are_the_packages(metric):
    # compared by signature: a run at the default 1000 resamples takes seconds, and the figures are checked above
    module_defaults = inspect.signature(metric._compute).parameters
    package_defaults = inspect.signature(metrics_with_intervals).parameters
    for name in ("threshold", "n_resamples", "seed"):
        assert module_defaults[name].default == package_defaults[name].default, name
