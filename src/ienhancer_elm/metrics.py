"""The figures the enhancer papers report (ACC, MCC, Sn, Sp, AUC-ROC, AUC-PR), with bootstrap intervals."""

from __future__ import annotations

import warnings

import numpy as np

METRICS = ("ACC", "MCC", "Sn", "Sp", "AUC_ROC", "AUC_PR")
# Balanced accuracy, (Sn + Sp) / 2: computed always, shown where the classes are unbalanced (it equals ACC
# on a 50/50 split), as for Enhancer-IF's 1:2 test split.
COMPUTED = (*METRICS, "BACC")


GC_MATCHED = "AUC_GC"  # the GC-matched AUC (`gc_matched_auc`), in reports that carry it


def shown_metrics(results: dict) -> tuple[str, ...]:
    """The columns of a table of `results` ({subset: figures}): BACC too where some subset is unbalanced, and
    the GC-matched AUC where the report has it."""
    unbalanced = any(
        "BACC" in figures and "positives" in figures and 2 * figures["positives"] != figures["n"]
        for figures in results.values()
    )
    with_gc = any(GC_MATCHED in figures for figures in results.values())
    return (*(COMPUTED if unbalanced else METRICS), *([GC_MATCHED] if with_gc else []))


def binary_metrics(labels, probabilities, threshold: float = 0.5) -> dict[str, float]:
    """Sn is the recall of the positive class, Sp that of the negative class; AUCs need both classes."""
    from sklearn.metrics import (  # the `data` extra; imported here so that `METRICS` costs nothing
        accuracy_score,
        average_precision_score,
        balanced_accuracy_score,
        matthews_corrcoef,
        recall_score,
        roc_auc_score,
    )

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


def bootstrap_intervals(labels, probabilities, threshold=0.5, n_resamples=1000, seed=0, level=0.95, on_resample=None):
    """Percentile intervals of every metric over resamples (with replacement) of the sequences; `on_resample()`
    is called after each (a progress bar's update: a thousand resamples take tens of seconds)."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities, dtype=float)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(labels), len(labels)) for _ in range(n_resamples)]
    values = []
    for rows in draws:
        values.append(list(binary_metrics(labels[rows], probabilities[rows], threshold).values()))
        if on_resample:
            on_resample()
    return _percentile_intervals(np.array(values), level)


def paired_differences(
    labels, first, second, thresholds=(0.5, 0.5), n_resamples=1000, seed=0, level=0.95, on_resample=None
) -> dict:
    """`first` minus `second` on every metric, each model at its own threshold, with a 95% interval.

    Both models' scores of a sequence are resampled together, so the interval keeps what the two share
    (the same easy and hard sequences) and is the one to read when asking which model is better;
    comparing each model's own interval is too cautious.
    """
    labels = np.asarray(labels)
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)

    def difference(rows):
        ours = binary_metrics(labels[rows], first[rows], thresholds[0])
        theirs = binary_metrics(labels[rows], second[rows], thresholds[1])
        return [ours[name] - theirs[name] for name in COMPUTED]

    rng = np.random.default_rng(seed)
    point = difference(np.arange(len(labels)))
    values = []
    for _ in range(n_resamples):
        values.append(difference(rng.integers(0, len(labels), len(labels))))
        if on_resample:
            on_resample()
    intervals = _percentile_intervals(np.array(values), level)
    differences = {name: {"value": float(value), "ci95": list(intervals[name])} for name, value in zip(COMPUTED, point)}
    return differences | {"n": int(len(labels))}


def _percentile_intervals(values: np.ndarray, level: float) -> dict[str, tuple[float, float]]:
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():  # a metric undefined in every resample (one class only) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0)
    return {name: (float(lo), float(hi)) for name, lo, hi in zip(COMPUTED, low, high)}


def metrics_with_intervals(labels, probabilities, threshold=0.5, n_resamples=1000, seed=0, on_resample=None) -> dict:
    point = binary_metrics(labels, probabilities, threshold)
    intervals = bootstrap_intervals(labels, probabilities, threshold, n_resamples, seed, on_resample=on_resample)
    return {name: {"value": float(point[name]), "ci95": list(intervals[name])} for name in COMPUTED} | {
        "n": int(len(labels)),
        "positives": int(np.sum(labels)),
    }


# Two 200 bp sequences "match on GC" when their GC shares differ by at most 0.01 (2 G or C bases); the slack
# keeps a difference of exactly 0.01 from missing the bound by floating-point rounding.
GC_TOLERANCE = 0.01
_SLACK = 1e-9


def gc_matched_auc(labels, scores, gc, tolerance: float = GC_TOLERANCE) -> float:
    """What a score knows beyond a sequence's GC share: over every positive-negative pair whose GC shares differ
    by at most `tolerance`, the share of pairs the score orders rightly, ties counting half. The GC share itself
    scores about 0.5 here, however well it separates the classes overall."""
    _, _, matched, ordered = _gc_pairs(labels, scores, gc, tolerance)
    return float(ordered.sum() / matched.sum()) if matched.sum() else float("nan")


def gc_matched_auc_with_interval(labels, scores, gc, n_resamples=1000, seed=0, level=0.95) -> dict:
    """`gc_matched_auc` with a percentile interval over the same resamples of the sequences as
    `bootstrap_intervals` draws (a sequence drawn twice counts in twice as many pairs), and the pair count."""
    positives, negatives, matched, ordered = _gc_pairs(labels, scores, gc, GC_TOLERANCE)
    values = _resampled_ratio(len(labels), positives, negatives, ordered, matched, n_resamples, seed)
    return {"value": gc_matched_auc(labels, scores, gc), "ci95": _interval(values, level), "pairs": int(matched.sum())}


def gc_matched_difference(labels, first, second, gc, n_resamples=1000, seed=0, level=0.95) -> dict:
    """`first` minus `second` in GC-matched AUC, both scores of a sequence resampled together."""
    positives, negatives, matched, ours = _gc_pairs(labels, first, gc, GC_TOLERANCE)
    theirs = _gc_pairs(labels, second, gc, GC_TOLERANCE)[3]
    values = _resampled_ratio(len(labels), positives, negatives, ours - theirs, matched, n_resamples, seed)
    point = gc_matched_auc(labels, first, gc) - gc_matched_auc(labels, second, gc)
    return {"value": float(point), "ci95": _interval(values, level), "pairs": int(matched.sum())}


def _gc_pairs(labels, scores, gc, tolerance):
    """Row indices of the positives and negatives, the matched-pair matrix, and each matched pair's order."""
    labels, scores, gc = np.asarray(labels), np.asarray(scores, dtype=float), np.asarray(gc, dtype=float)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    matched = np.abs(gc[positives][:, None] - gc[negatives][None, :]) <= tolerance + _SLACK
    higher, level = scores[positives][:, None], scores[negatives][None, :]
    ordered = np.where(matched, (higher > level) + 0.5 * (higher == level), 0.0)
    return positives, negatives, matched.astype(float), ordered


def _resampled_ratio(n, positives, negatives, numerator, matched, n_resamples, seed) -> np.ndarray:
    """Pair-weighted means over resamples of the `n` rows, drawn as `bootstrap_intervals` draws them."""
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for b in range(n_resamples):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        weight_p, weight_n = counts[positives], counts[negatives]
        pairs = weight_p @ matched @ weight_n
        values[b] = weight_p @ numerator @ weight_n / pairs if pairs else np.nan
    return values


def _interval(values: np.ndarray, level: float) -> list[float]:
    tail = (1 - level) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return [float(v) for v in np.nanpercentile(values, [tail, 100 - tail])]
