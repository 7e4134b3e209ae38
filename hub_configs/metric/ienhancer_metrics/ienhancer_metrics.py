"""The figures the enhancer papers report (ACC, MCC, Sn, Sp, AUC-ROC, AUC-PR), with 95% bootstrap intervals,
as a Hugging Face `evaluate` metric.

A Hub metric script is downloaded on its own, so this file cannot import `ienhancer_elm`: it repeats the
few lines of `ienhancer_elm.metrics` (`binary_metrics`, `bootstrap_intervals`, `metrics_with_intervals`)
with the same resampling, the same random generator and the same order of draws, so that it gives
`ienhancer-elm evaluate`'s figures to the last digit. tests/test_metric_module.py keeps the two equal;
change both together.
"""

import warnings

import datasets
import evaluate
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    matthews_corrcoef,
    recall_score,
    roc_auc_score,
)

METRICS = ("ACC", "MCC", "Sn", "Sp", "AUC_ROC", "AUC_PR", "BACC")

_DESCRIPTION = """\
ACC, MCC, sensitivity (Sn, recall of class 1), specificity (Sp, recall of class 0), AUC-ROC and AUC-PR
(average precision) of binary calls made by thresholding probabilities, each with a 95% percentile
bootstrap interval over resamples of the sequences: the figures `ienhancer-elm evaluate` reports.
"""

_KWARGS_DESCRIPTION = """
Args:
    references (list of int): true labels, 0 or 1 (1 = enhancer, or strong enhancer for layer 2).
    prediction_scores (list of float): the model's probability of class 1 for each sequence.
    threshold (float): a score above it is called 1. Defaults to 0.5.
    n_resamples (int): bootstrap resamples. Defaults to 1000.
    seed (int): seed of the resampling (numpy's default_rng). Defaults to 0.
Returns:
    For each of ACC, MCC, Sn, Sp, AUC_ROC, AUC_PR, BACC: {"value": float, "ci95": [low, high]}; and "n" (sequences)
    and "positives" (references equal to 1). A metric undefined on the data (MCC and the AUCs with one
    class only) is NaN.
Examples:
    >>> metric = evaluate.load("hub_configs/metric/ienhancer_metrics")
    >>> result = metric.compute(references=[0, 1, 1, 0], prediction_scores=[0.2, 0.9, 0.4, 0.6], n_resamples=100)
    >>> result["ACC"]["value"]
    0.5
"""

_CITATION = """\
@article{li2023ienhancerelm,
  title   = {iEnhancer-ELM: improve enhancer identification by extracting position-related multiscale
             contextual information based on enhancer language models},
  author  = {Li, Jiahao and Wu, Zhourun and Lin, Wenhao and Luo, Jiawei and Zhang, Jun and Chen, Qingcai and Chen, Junjie},
  journal = {Bioinformatics Advances},
  volume  = {3},
  number  = {1},
  pages   = {vbad043},
  year    = {2023}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class IenhancerMetrics(evaluate.Metric):  # evaluate names the module from this: ienhancer_metrics
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"references": datasets.Value("int32"), "prediction_scores": datasets.Value("float64")}
            ),
            reference_urls=["https://doi.org/10.1093/bioadv/vbad043"],
        )

    def _compute(self, references, prediction_scores, threshold=0.5, n_resamples=1000, seed=0):
        return metrics_with_intervals(references, prediction_scores, threshold, n_resamples, seed)


# From here on, the same code as ienhancer_elm/metrics.py.


def binary_metrics(labels, probabilities, threshold=0.5):
    """Sn is the recall of the positive class, Sp that of the negative class; AUCs need both classes."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=float)
    calls = (probabilities > threshold).astype(int)
    both_classes = len(np.unique(labels)) == 2
    return {
        "ACC": accuracy_score(labels, calls),
        "MCC": matthews_corrcoef(labels, calls) if both_classes else float("nan"),
        "Sn": recall_score(labels, calls, pos_label=1, zero_division=np.nan),
        "Sp": recall_score(labels, calls, pos_label=0, zero_division=np.nan),
        "AUC_ROC": roc_auc_score(labels, probabilities) if both_classes else float("nan"),
        "AUC_PR": average_precision_score(labels, probabilities) if both_classes else float("nan"),
        "BACC": balanced_accuracy_score(labels, calls) if both_classes else float("nan"),
    }


def bootstrap_intervals(labels, probabilities, threshold=0.5, n_resamples=1000, seed=0, level=0.95):
    """Percentile intervals of every metric over resamples (with replacement) of the sequences."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=float)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(labels), len(labels)) for _ in range(n_resamples)]
    values = np.array([list(binary_metrics(labels[i], probabilities[i], threshold).values()) for i in draws])
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():  # a metric undefined in every resample (one class only) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return {name: (float(lo), float(hi)) for name, lo, hi in zip(METRICS, low, high)}


def metrics_with_intervals(labels, probabilities, threshold=0.5, n_resamples=1000, seed=0):
    point = binary_metrics(labels, probabilities, threshold)
    intervals = bootstrap_intervals(labels, probabilities, threshold, n_resamples, seed)
    return {name: {"value": float(point[name]), "ci95": list(intervals[name])} for name in METRICS} | {
        "n": int(len(labels)),
        "positives": int(np.sum(labels)),
    }
