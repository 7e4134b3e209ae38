"""The yardsticks: k-mer spectrum features with a scikit-learn classifier chosen by 5-fold CV, and a sequence's
GC share alone (one feature, a logistic regression): every figure of a model is read against both."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from .configuration_ienhancer_elm import SPECIAL_TOKENS
from .metrics import binary_metrics
from .sequences import gc_fraction
from .tokenization_ienhancer_elm import encode_bases, kmer_ids

SPECIAL_IDS = len(SPECIAL_TOKENS)  # k-mer ids start after them


class KmerSpectrum(BaseEstimator, TransformerMixin):
    """Frequencies of every k-mer (k in `ks`) per sequence; k-mers with N are left out."""

    def __init__(self, ks=(1, 2, 3, 4, 5)):
        self.ks = ks

    def fit(self, sequences, labels=None):
        return self

    def transform(self, sequences) -> np.ndarray:
        return np.stack([self._spectrum(s) for s in sequences]).astype(np.float32)

    def _spectrum(self, sequence: str) -> np.ndarray:
        codes = encode_bases(sequence)
        parts = []
        for k in self.ks:
            ids = kmer_ids(codes, k) - SPECIAL_IDS
            counts = torch.bincount(ids[ids >= 0], minlength=4**k).double()
            parts.append((counts / counts.sum().clamp(min=1)).numpy())
        return np.concatenate(parts)


class GcShare(BaseEstimator, TransformerMixin):
    """A sequence's GC share (`sequences.gc_fraction`) as its one feature."""

    def fit(self, sequences, labels=None):
        return self

    def transform(self, sequences) -> np.ndarray:
        return np.array([[gc_fraction(s)] for s in sequences])


FEATURES = ("kmers", "gc")  # the k-mer spectrum candidates, or the GC share alone


def candidates(seed: int, features: str = "kmers") -> dict[str, tuple]:
    """Each candidate classifier with the grid searched for it."""
    if features == "gc":
        return {"gc_share_logistic_regression": (make_pipeline(GcShare(), LogisticRegression()), {})}
    return _kmer_candidates(seed)


def _kmer_candidates(seed: int) -> dict[str, tuple]:
    """Each candidate classifier with the grid searched for it."""
    return {
        "logistic_regression": (
            make_pipeline(KmerSpectrum(), StandardScaler(), LogisticRegression(max_iter=5000)),
            {"logisticregression__C": [0.001, 0.01, 0.1, 1.0]},
        ),
        "svm_rbf": (  # Platt-scaled probabilities, fitted on internal folds
            make_pipeline(KmerSpectrum(), StandardScaler(), CalibratedClassifierCV(SVC(), ensemble=False)),
            {"calibratedclassifiercv__estimator__C": [0.1, 1.0, 10.0]},
        ),
        "random_forest": (
            make_pipeline(KmerSpectrum(), RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=-1)),
            {"randomforestclassifier__max_features": ["sqrt", 0.1]},
        ),
    }


def refit_chosen(cv: dict, sequences, labels):
    """The candidate and parameters a `select_baseline` run chose (its `cv.json`), fitted again on other data,
    such as the folds a held-out comparison trains on."""
    from sklearn.base import clone

    pipeline, _ = candidates(cv["seed"], cv.get("features", "kmers"))[cv["chosen"]]
    return clone(pipeline).set_params(**cv["params"]).fit(np.asarray(sequences, dtype=object), np.asarray(labels))


def select_baseline(sequences, labels, seed: int = 0, folds: int = 5, features: str = "kmers") -> dict:
    """Grid-search each candidate by stratified k-fold AUC-ROC on the training data alone; the best
    one, refit on all of it, comes back with its out-of-fold predictions and figures (threshold 0.5)."""
    sequences, labels = np.asarray(sequences, dtype=object), np.asarray(labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    searches = {}
    for name, (pipeline, grid) in candidates(seed, features).items():
        searches[name] = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=splitter, n_jobs=1).fit(sequences, labels)
    best_name = max(searches, key=lambda name: searches[name].best_score_)
    best = searches[best_name]
    out_of_fold = cross_val_predict(best.best_estimator_, sequences, labels, cv=splitter, method="predict_proba")[:, 1]
    return {
        "model": best.best_estimator_,
        "features": features,
        "chosen": best_name,
        "params": best.best_params_,
        "cv_auc_by_candidate": {name: float(search.best_score_) for name, search in searches.items()},
        "out_of_fold_probabilities": out_of_fold,
        "cv_metrics": {k: float(v) for k, v in binary_metrics(labels, out_of_fold, 0.5).items()},
    }
