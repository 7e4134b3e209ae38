"""Scoring a model (ensemble folder, Hub id, or saved baseline) on a benchmark split, the papers' way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .files import sha256_of
from .metrics import (  # scikit-learn is imported only when a metric is computed
    GC_MATCHED,
    gc_matched_auc_with_interval,
    gc_matched_difference,
    metrics_with_intervals,
    paired_differences,
    shown_metrics,
)
from .modeling_ienhancer_elm import DECISION_THRESHOLD
from .paths import DEFAULT_DATASET, MODEL_FOR_CONFIG, default_dataset_folder, resolve_model
from .predict import load_model, predict_records
from .progress import progress_bar
from .sequences import Record, gc_fraction

# The benchmark configs, each with its label names (label 0, label 1).
CLASS_NAMES = {
    "layer1": ["non-enhancer", "enhancer"],
    "layer2": ["weak", "strong"],
    "enhancer_if_nhlf": ["non-enhancer", "enhancer"],
}


class EvaluationError(ValueError):
    pass


def load_split(dataset: str, config: str, split: str):
    """One split of a dataset folder (laid out as `ienhancer-elm release dataset` writes it) or Hub repo.

    A local folder's Parquet file is read directly: for a folder, datasets 5 keys its cache on the
    folder's base name and card alone, so two folders with the same name would share a stale cache.
    """
    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()
    folder = _dataset_folder(str(dataset))
    if folder.is_dir():
        path = folder / config / f"{split}.parquet"
        if not path.is_file():
            present = ", ".join(sorted(str(found.relative_to(folder)) for found in folder.glob("*/*.parquet")))
            raise EvaluationError(
                f"{dataset}: no {config}/{split}.parquet; it holds {present or 'none'}"
                " (a benchmark folder is written by `ienhancer-elm release dataset`)"
            )
        return load_dataset("parquet", data_files={split: str(path)}, split=split)
    return load_dataset(str(dataset), config, split=split)


def _dataset_folder(dataset: str) -> Path:
    """`dataset` as a folder; the default one is also found from outside the repository's root."""
    folder = Path(dataset)
    if dataset != DEFAULT_DATASET or folder.is_dir():
        return folder
    if found := default_dataset_folder():
        return found
    raise EvaluationError(
        f"the default benchmark folder {DEFAULT_DATASET} is part of the source repository, which this installation"
        " lacks: pass --dataset with a dataset folder or Hub id"
    )


class EnsembleScorer:
    def __init__(self, model: str | None, device=None, revision=None, batch_size=32, layer="layer1", progress=False):
        model = resolve_model(model, layer)
        self.progress = progress  # a bar (or a line every half minute off a terminal) on stderr while scoring
        # fp32, so that a report is reproduced on any hardware (bf16 units or not)
        self.model, self.tokenizer = load_model(model, device, revision, precision="fp32")
        self.threshold = DECISION_THRESHOLD  # the model's probabilities are calibrated to it
        self.batch_size = batch_size
        self.description = {
            "kind": "ienhancer-elm ensemble",
            "source": str(model),
            "revision": revision,
            "weights_sha256": _weights_sha256(model),
            "kmers": self.model.config.kmers,
            "precision": "fp32",
        }

    def score(self, ids, sequences) -> np.ndarray:
        records = (Record(i, s) for i, s in zip(ids, sequences))
        scored = predict_records(self.model, self.tokenizer, records, self.batch_size, precision="fp32")
        with progress_bar(scored, total=len(sequences), desc="score", unit="seq", quiet=not self.progress) as bar:
            rows = list(bar)
        failed = [row for row in rows if row.error]
        if failed:
            raise EvaluationError(f"{len(failed)} sequence(s) cannot be scored, e.g. {failed[0].id}: {failed[0].error}")
        return np.array([row.probability for row in rows])


class BaselineScorer:
    def __init__(self, path: str):
        import joblib

        # a file this package wrote (`ienhancer-elm release baseline`); never load untrusted pickles
        saved = joblib.load(path)
        self.model, self.threshold = saved["model"], saved["threshold"]
        self.description = {
            "kind": "GC share baseline" if saved.get("features") == "gc" else "k-mer spectrum baseline",
            "source": str(path),
            "chosen": saved["chosen"],
            "params": saved["params"],
            "sha256": sha256_of(Path(path)),
        }

    def score(self, ids, sequences) -> np.ndarray:
        return self.model.predict_proba(np.asarray(sequences, dtype=object))[:, 1]


def load_scorer(model: str | None, device=None, revision=None, batch_size=32, config="layer1", progress=False):
    """A saved baseline, or an ensemble; with no model, the shipped one for `config` (`MODEL_FOR_CONFIG`).
    `progress`: an ensemble shows its scoring's progress on stderr (a baseline takes seconds)."""
    if model is not None and str(model).endswith(".joblib"):
        return BaselineScorer(model)
    return EnsembleScorer(model, device, revision, batch_size, MODEL_FOR_CONFIG.get(config, "layer1"), progress)


def evaluate(
    scorer,
    dataset: str,
    config: str,
    split: str,
    n_resamples=1000,
    seed=0,
    against=None,
    command=None,
    progress: bool = False,
) -> dict:
    """Figures with 95% bootstrap intervals on the whole split and on the rows not in training.

    With `against` (a second scorer), also the paired difference of every figure, this model minus that one.
    `command` (how the report was made) is recorded as given. `progress`: the resampling's progress on stderr
    (on the benchmark it takes about as long as scoring).
    """
    rows = load_split(dataset, config, split)
    labels, in_train = np.array(rows["label"]), np.array(rows["in_train"])
    gc = np.array([gc_fraction(sequence) for sequence in rows["sequence"]])
    probabilities = scorer.score(rows["id"], rows["sequence"])
    theirs = against.score(rows["id"], rows["sequence"]) if against is not None else None
    subsets = {"all": np.ones(len(labels), bool), "without_in_train": ~in_train}
    resamples = n_resamples * len(subsets) * (1 if against is None else 2)
    with progress_bar(total=resamples, desc="bootstrap", unit="resample", quiet=not progress) as bar:
        results = {
            name: _figures(labels[mask], probabilities[mask], gc[mask], scorer.threshold, n_resamples, seed, bar.update)
            for name, mask in subsets.items()
        }
        if against is not None:
            thresholds = (scorer.threshold, against.threshold)
            differences = {
                name: _paired(
                    labels[mask], probabilities[mask], theirs[mask], gc[mask], thresholds, n_resamples, seed, bar.update
                )
                for name, mask in subsets.items()
            }
    report = {
        "model": scorer.description,
        "dataset": {
            "source": str(dataset),
            "config": config,
            "split": split,
            "files_sha256": _dataset_sha256(dataset, config, split),
        },
        "threshold": scorer.threshold,
        "bootstrap": {"resamples": n_resamples, "seed": seed},
        "results": results,
        "command": command,
        "_curves": (labels, probabilities),
    }
    if against is not None:
        report["difference"] = {
            "against": against.description,
            "against_threshold": against.threshold,
            "results": differences,
        }
    return report


def _figures(labels, probabilities, gc, threshold, n_resamples, seed, on_resample) -> dict:
    figures = metrics_with_intervals(labels, probabilities, threshold, n_resamples, seed, on_resample)
    return figures | {GC_MATCHED: gc_matched_auc_with_interval(labels, probabilities, gc, n_resamples, seed)}


def _paired(labels, ours, theirs, gc, thresholds, n_resamples, seed, on_resample=None) -> dict:
    differences = paired_differences(labels, ours, theirs, thresholds, n_resamples, seed, on_resample=on_resample)
    return differences | {GC_MATCHED: gc_matched_difference(labels, ours, theirs, gc, n_resamples, seed)}


def format_table(report: dict) -> str:
    names = shown_metrics(report["results"])
    lines = [_table(report["results"], "subset", names)]
    if "difference" in report:
        lines += ["", f"this model minus {report['difference']['against']['source']} (paired bootstrap)"]
        lines.append(_table(report["difference"]["results"], "difference", names, signed=True))
    return "\n".join(lines)


def _table(results: dict, title: str, names: tuple[str, ...], signed: bool = False) -> str:
    number = "{:+.3f}" if signed else "{:.3f}"
    lines = [f"{title:<18}{'n':>5}  " + "  ".join(f"{m:>24}" for m in names)]
    for subset, figures in results.items():
        cells = []
        for name in names:
            value, (low, high) = figures[name]["value"], figures[name]["ci95"]
            if value is None or value != value:  # NaN: AUC, MCC, Sn or Sp of a subset holding one class
                cells.append("undefined (one class)")
            else:
                cells.append(f"{number.format(value)} [{number.format(low)},{number.format(high)}]")
        count = figures.get("n", "")
        lines.append(f"{subset:<18}{count:>5}  " + "  ".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def write_report(report: dict, path: str) -> None:
    public = {key: value for key, value in report.items() if not key.startswith("_")}
    Path(path).write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")


def plot_curves(report: dict, path: str) -> None:
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    from .figures import new_figure

    labels, probabilities = report["_curves"]
    figure = new_figure(figsize=(10, 4.5))
    roc, pr = figure.subplots(1, 2)
    RocCurveDisplay.from_predictions(labels, probabilities, ax=roc, name=report["model"]["kind"])
    PrecisionRecallDisplay.from_predictions(labels, probabilities, ax=pr, name=report["model"]["kind"])
    dataset = report["dataset"]
    figure.suptitle(f"{dataset['config']} / {dataset['split']} (n={len(labels)})")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def _weights_sha256(model) -> str | None:
    weights = Path(str(model)) / "model.safetensors" if model is not None else None
    return sha256_of(weights) if weights is not None and weights.is_file() else None


def _dataset_sha256(dataset, config, split) -> str | None:
    path = Path(str(dataset)) / config / f"{split}.parquet"
    return sha256_of(path) if path.is_file() else None
