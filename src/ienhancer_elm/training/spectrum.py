"""The spectrum member: a support vector classifier on k-mer frequencies, fitted by scikit-learn and carried into
the ensemble as torch buffers (`SpectrumMember`), so that the Hub code needs no scikit-learn.

The frequencies are counted from the tokenizer's k-mer ids by the model's own `kmer_frequencies`, so the member
reads exactly what it was fitted on.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..modeling_ienhancer_elm import IEnhancerELMForSequenceClassification, kmer_frequencies
from ..tokenization_ienhancer_elm import encode_bases, kmer_ids

DEFAULT_KMERS = (3, 4, 5)
C_GRID = (0.1, 1.0, 10.0)


def spectrum_features(sequences, kmers=DEFAULT_KMERS) -> np.ndarray:
    """`(sequences, sum of 4**k)`: each sequence's k-mer frequencies, as `SpectrumMember` counts them."""
    rows = []
    for sequence in sequences:
        codes = encode_bases(sequence)
        rows.append(torch.cat([kmer_frequencies(kmer_ids(codes, k)[None], k)[0] for k in kmers]))
    return torch.stack(rows).numpy()


def fit_spectrum(features: np.ndarray, labels, seed: int = 0, folds: int = 5, sample_weight=None) -> GridSearchCV:
    """Standardisation, an RBF support vector classifier with C chosen by stratified k-fold AUC on these rows
    alone, and Platt's sigmoid fitted on internal folds (the k-mer baseline's `svm_rbf`, on these features).
    `sample_weight` reaches the classifier and its calibration; the AUC that picks C stays unweighted."""
    pipeline = make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(), ensemble=False))
    grid = {"calibratedclassifiercv__estimator__C": list(C_GRID)}
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    weights = {} if sample_weight is None else {"calibratedclassifiercv__sample_weight": np.asarray(sample_weight)}
    return GridSearchCV(pipeline, grid, scoring="roc_auc", cv=splitter).fit(features, np.asarray(labels), **weights)


def member_state(pipeline: Pipeline) -> dict[str, torch.Tensor]:
    """The fitted pipeline as `SpectrumMember`'s buffers."""
    scaler, calibrated = pipeline[0], pipeline[-1].calibrated_classifiers_[0]
    svc, platt = calibrated.estimator, calibrated.calibrators[0]
    if list(pipeline.classes_) != [0, 1]:
        raise ValueError(f"labels must be 0 and 1, got {list(pipeline.classes_)}")

    def tensor(values) -> torch.Tensor:
        return torch.as_tensor(np.asarray(values, dtype=np.float64).reshape(-1), dtype=torch.float32)

    return {
        "feature_mean": tensor(scaler.mean_),
        "feature_scale": tensor(scaler.scale_),
        "support_vectors": torch.as_tensor(svc.support_vectors_, dtype=torch.float32),
        "dual_coef": tensor(svc.dual_coef_[0]),
        "gamma": tensor([svc._gamma]),
        "intercept": tensor(svc.intercept_),
        "platt": tensor([platt.a_, platt.b_]),
    }


def with_spectrum(
    model: IEnhancerELMForSequenceClassification,
    pipeline: Pipeline | None,
    kmers=DEFAULT_KMERS,
    weight: float | None = None,
    windows: bool = False,
) -> IEnhancerELMForSequenceClassification:
    """The model with a spectrum member made from `pipeline` in place of any it had (none for `pipeline` None),
    its other weights unchanged."""
    state = {} if pipeline is None else member_state(pipeline)
    settings = {
        "spectrum_kmers": None,
        "spectrum_support_vectors": 0,
        "spectrum_weight": None,
        "spectrum_windows": False,
    }
    if pipeline is not None:
        settings = {
            "spectrum_kmers": list(kmers),
            "spectrum_support_vectors": len(state["dual_coef"]),
            "spectrum_weight": weight,
            "spectrum_windows": windows,
        }
    config = type(model.config)(**{**model.config.to_dict(), **settings})
    combined = type(model)(config)
    kept = {name: value for name, value in model.state_dict().items() if not name.startswith("spectrum.")}
    combined.load_state_dict({**kept, **{f"spectrum.{name}": value for name, value in state.items()}})
    return combined.to(next(model.parameters()).device).eval()


# The spectrum member's candidate shares of the soft vote: none, an equal share with each BERT member (`None`),
# then odds of 1:2, 1:1, 2:1 and 4:1 against the BERT members together.
WEIGHTS = (0.0, None, 1 / 3, 1 / 2, 2 / 3, 4 / 5)
WEIGHT_RULE = (
    "The spectrum member is fitted on folds 1-4 (C by 5-fold CV there) and scored on fold 0 with the BERT members' "
    "heads fitted on folds 1-4. Each candidate share of the soft vote is judged by the ensemble's fold-0 AUC; "
    "shares within 0.002 of the best count as level, and of those the smallest is taken."
)


def choose_weight(sequences, labels, fit_rows, held_rows, bert_held_out: np.ndarray, seed=0, kmers=DEFAULT_KMERS):
    """(report, the chosen ensemble's fold-0 probabilities): the spectrum member's share by `WEIGHT_RULE`, from the
    BERT members' fold-0 probabilities `(members, len(held_rows))`."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    features = spectrum_features(sequences, kmers)
    search = fit_spectrum(features[fit_rows], labels[fit_rows], seed)
    spectrum = search.predict_proba(features[held_rows])[:, 1]
    bert = np.mean(bert_held_out, axis=0)
    candidates = []
    for weight in WEIGHTS:
        share = 1 / (len(bert_held_out) + 1) if weight is None else weight
        ensemble = (1 - share) * bert + share * spectrum
        auc = roc_auc_score(labels[held_rows], ensemble)
        candidates.append({"spectrum_weight": weight, "share": share, "held_out_auc": auc, "_ensemble": ensemble})
    best = max(c["held_out_auc"] for c in candidates)
    chosen = min((c for c in candidates if c["held_out_auc"] >= best - 0.002), key=lambda c: c["share"])
    report = {
        "rule": WEIGHT_RULE,
        "kmers": list(kmers),
        "params_on_folds_1_4": search.best_params_,
        "spectrum_alone_held_out_auc": roc_auc_score(labels[held_rows], spectrum),
        "candidates": [{key: value for key, value in c.items() if not key.startswith("_")} for c in candidates],
        "chosen": {key: value for key, value in chosen.items() if not key.startswith("_")},
    }
    return report, chosen["_ensemble"]


def ship_spectrum(model, sequences, labels, choice: dict, seed=0, kmers=DEFAULT_KMERS):
    """The model with the chosen spectrum member refitted on all `sequences` (C chosen again by CV on them), or
    without any where the choice was none; and the refit's record."""
    if choice["share"] == 0:
        return with_spectrum(model, None), None
    search = fit_spectrum(spectrum_features(sequences, kmers), labels, seed)
    # fitted on sequences of at most one window, the member reads long ones window by window, as the BERT members
    window = model.config.window_bp
    windows = window is not None and max(len(s) for s in sequences) <= window
    model = with_spectrum(model, search.best_estimator_, kmers, choice["spectrum_weight"], windows)
    record = {
        "kmers": list(kmers),
        "spectrum_weight": choice["spectrum_weight"],
        "share": choice["share"],
        "params": search.best_params_,
        "cv_auc": search.best_score_,
        "support_vectors": model.config.spectrum_support_vectors,
        "reads_windows": windows,
        "fitted_on": "the whole training split",
    }
    return model, record
