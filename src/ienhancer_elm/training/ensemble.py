"""Assembling fine-tuned members into one ensemble; members and threshold chosen on out-of-fold predictions."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..evaluation import load_split
from ..hub_export import write_model_folder
from ..metrics import binary_metrics
from ..models import IEnhancerELMConfig, IEnhancerELMForSequenceClassification
from ..paths import SOURCE_MODELS
from .gc_offset import OFFSET_FILE

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)
# Which card text a config's model gets (release/templates/benchmark_*.md); any other config is a dataset of one's own.
BENCHMARKS = {"layer1": "ienhancer2l", "layer2": "ienhancer2l", "enhancer_if_nhlf": "enhancer_if_nhlf"}
SPECTRUM_COMMAND = "training/build_ensemble.py --spectrum true"


@dataclass
class EnsembleArguments:
    output_dir: str = field(metadata={"help": "the ensemble folder to write"})
    members: list[str] = field(default_factory=list, metadata={"help": "finetune output folders, one per k"})
    choose_members: bool = field(
        default=True, metadata={"help": "pick the subset with the best held-out AUC; false: every member, as the paper"}
    )
    choose_threshold: bool = field(default=True, metadata={"help": "pick the threshold with the best out-of-fold MCC"})
    release: bool = field(
        default=False, metadata={"help": "allow writing over a shipped model in models/ (training/release.sh does)"}
    )
    spectrum: bool = field(
        default=False,
        metadata={
            "help": "add the spectrum member (k-mer frequencies, an SVM): fitted on the training rows the members "
            "did not hold out, its share of the vote chosen on those they did (threshold and calibration then chosen "
            "with it), then fitted again on the whole training split; needs members run on one held-out fold "
            "(only_fold)"
        },
    )


def check_output_dir(folder: Path, release: bool) -> None:
    """A build replaces its output folder; a shipped model is replaced only on purpose."""
    if not release and folder.resolve().parent == SOURCE_MODELS.resolve():
        raise SystemExit(f"{folder} is a shipped model: build into runs/ instead, or pass --release true to replace it")


def out_of_fold(run_dir: Path) -> dict[str, tuple[int, float]]:
    """id -> (label, probability) over every fold's validation predictions of one member run."""
    predictions = {}
    for path in sorted(run_dir.glob("fold*/validation_predictions.tsv")):
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                predictions[row["id"]] = (int(row["label"]), float(row["probability"]))
    if not predictions:
        raise FileNotFoundError(f"{run_dir}: no fold*/validation_predictions.tsv; run finetune first")
    return predictions


def shipped_member(run_dir: Path) -> Path:
    """The member folder a finetune run ships (named in its summary.json)."""
    summary = run_dir / "summary.json"
    if not summary.is_file() or "member" not in json.loads(summary.read_text()):
        raise FileNotFoundError(f"{run_dir}: no finished finetune run (summary.json without a member)")
    member = run_dir / json.loads(summary.read_text())["member"]
    if (member / OFFSET_FILE).is_file():
        raise ValueError(
            f"{run_dir} was trained with --gc_offset: its predictions include a GC offset that its member, scored "
            "alone, lacks; it can be screened (experiments/beyond_gc/bert_screen) but not built into an ensemble"
        )
    return member


def member_k(run_dir: Path) -> int:
    return IEnhancerELMConfig.from_pretrained(shipped_member(run_dir)).kmers[0]


def score_subsets(oof: dict[int, dict]) -> list[dict]:
    """Out-of-fold figures of every member subset (soft vote), best AUC first."""
    ids = sorted(set.intersection(*(set(p) for p in oof.values())))
    labels = np.array([oof[next(iter(oof))][i][0] for i in ids])
    subsets = [c for r in range(1, len(oof) + 1) for c in itertools.combinations(oof, r)]
    rows = []
    for subset in subsets:
        probabilities = np.mean([[oof[k][i][1] for i in ids] for k in subset], axis=0)
        rows.append(
            {
                "kmers": list(subset),
                "n": len(ids),
                "_ids": ids,
                **binary_metrics(labels, probabilities, 0.5),
                "_labels": labels,
                "_probabilities": probabilities,
            }
        )
    return sorted(rows, key=lambda row: (-row["AUC_ROC"], len(row["kmers"])))


def best_threshold(labels, probabilities) -> float:
    scores = [binary_metrics(labels, probabilities, t)["MCC"] for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.nanargmax(scores))])


def calibration_slope(labels, probabilities, threshold: float) -> float:
    """The slope `a` that makes `sigmoid(a * (logit(p) - logit(threshold)))` calibrated on held-out predictions
    (a logistic regression on the re-centred log-odds with no intercept, so that the threshold stays the call)."""
    from scipy.optimize import minimize_scalar

    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    z = np.log(p / (1 - p)) - np.log(threshold / (1 - threshold))
    y = np.asarray(labels, dtype=float)

    def log_loss(slope):
        return float(np.mean(np.logaddexp(0, slope * z) - y * slope * z))

    return float(minimize_scalar(log_loss, bounds=(1e-3, 100.0), method="bounded").x)


def calibration_record(labels, probabilities, threshold: float, held_out: str) -> dict:
    """The slope fitted on held-out predictions, with the held-out log loss and Brier score before and after."""
    from sklearn.metrics import brier_score_loss, log_loss

    slope = calibration_slope(labels, probabilities, threshold)
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    z = np.log(p / (1 - p)) - np.log(threshold / (1 - threshold))
    before, after = 1 / (1 + np.exp(-z)), 1 / (1 + np.exp(-slope * z))
    return {
        "slope": slope,
        "threshold": threshold,
        "held_out": held_out,
        "held_out_auc": roc_auc(labels, probabilities),
        "log_loss": {"slope 1": log_loss(labels, before), "fitted": log_loss(labels, after)},
        "brier": {"slope 1": brier_score_loss(labels, before), "fitted": brier_score_loss(labels, after)},
    }


def roc_auc(labels, probabilities) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, probabilities))


TRAINED_BP = 200  # the length of iEnhancer-2L's sequences, which the members are fine-tuned on


def window_settings(configs) -> dict:
    """How the ensemble reads long sequences: as its members were trained and chosen to (all alike), or, for
    members that read whole 200 bp sequences, in windows of that length every half window."""
    settings = {(c.window_bp, c.window_stride_bp, c.window_combination) for c in configs}
    if len(settings) > 1:
        raise ValueError(f"the members read long sequences differently: {sorted(settings, key=str)}")
    window, stride, combination = settings.pop()
    if window is None:
        return {"window_bp": TRAINED_BP, "window_stride_bp": TRAINED_BP // 2}
    return {"window_bp": window, "window_stride_bp": stride, "window_combination": combination}


def assemble(
    member_dirs: dict[int, Path], threshold: float, slope: float = 1.0
) -> IEnhancerELMForSequenceClassification:
    members = {k: IEnhancerELMForSequenceClassification.from_pretrained(d) for k, d in member_dirs.items()}
    first = next(iter(members.values())).config
    config = IEnhancerELMConfig(
        kmers=list(members),
        member_configs={str(k): m.config.member_configs[str(k)] for k, m in members.items()},
        head_hidden_size=first.head_hidden_size,
        head_dropout=first.head_dropout,
        threshold=threshold,
        calibration_slope=slope,
        labels=first.labels,
        **window_settings([m.config for m in members.values()]),
    )
    ensemble = IEnhancerELMForSequenceClassification(config)
    for k, member in members.items():
        ensemble.member(k).load_state_dict(member.member(k).state_dict())
    return ensemble.eval()


def logged_seconds(run: Path) -> list[float] | None:
    """Each epoch's wall time as the training loop logged it, evaluation included (None without a log). An epoch
    logged twice (killed before its checkpoint, run again) counts once, as its last run; an epoch resumed
    from a mid-epoch checkpoint logs only the time since the resume, so a resumed run's times are lower bounds."""
    log = run / "metrics.jsonl"
    if not log.is_file():
        return None
    epochs = {}
    for line in filter(None, log.read_text().splitlines()):
        try:
            metrics = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
        epochs[metrics["epoch"]] = metrics.get("seconds", 0.0)
    return [epochs[epoch] for epoch in sorted(epochs)] or None


def run_seconds(run_dir: Path) -> float:
    """Training time a run logged (every epoch of every fold, refit included)."""
    return sum(sum(logged_seconds(log.parent) or []) for log in run_dir.glob("**/metrics.jsonl"))


def training_record(runs: dict[int, Path]) -> dict:
    """What the model card says about training: each member's run settings, selection and time."""
    members = {}
    for k, run_dir in runs.items():
        arguments = json.loads((run_dir / "arguments.json").read_text())
        summary = json.loads((run_dir / "summary.json").read_text())
        init = Path(arguments["init"])
        corpus = init.parent / "corpus.json" if arguments["init"] != "scratch" else None
        pretraining = json.loads(corpus.read_text()) if corpus and corpus.is_file() else None
        seconds = run_seconds(run_dir) + (run_seconds(init.parent) if pretraining else 0.0)
        members[str(k)] = {
            "arguments": arguments,
            "summary": summary,
            "pretraining": pretraining,
            "seconds": seconds,
        }
    hardware = sorted({m["summary"].get("hardware", "not recorded") for m in members.values()})
    return {
        "members": members,
        "seconds": sum(m["seconds"] for m in members.values()),
        "hardware": "; ".join(hardware),
    }


def spectrum_kmers(kmers) -> tuple[int, ...]:
    """The spectrum member's k: those of `spectrum.DEFAULT_KMERS` among the chosen members' (it counts their tokens),
    else the smallest member's."""
    from .spectrum import DEFAULT_KMERS

    return tuple(k for k in DEFAULT_KMERS if k in kmers) or (min(kmers),)


def spectrum_choice(runs: dict[int, Path], oof: dict[int, dict], chosen: dict):
    """(`spectrum.choose_weight`'s report, the ensemble's held-out probabilities with the chosen share, the training
    split's sequences and labels): the spectrum member fitted on the training rows outside the members' held-out
    predictions and scored on those."""
    from .spectrum import choose_weight  # scikit-learn's SVM, only when asked for

    arguments = json.loads((next(iter(runs.values())) / "arguments.json").read_text())
    train = load_split(arguments["dataset"], arguments["config"], "train")
    sequences, labels = list(train["sequence"]), np.asarray(train["label"])
    row_of = {identifier: row for row, identifier in enumerate(train["id"])}
    held_rows = np.array([row_of[identifier] for identifier in chosen["_ids"]])
    fit_rows = np.setdiff1d(np.arange(len(sequences)), held_rows)
    if not len(fit_rows):
        raise SystemExit(
            "--spectrum needs training rows that no member held out: run the members on one held-out fold "
            "(only_fold 0, refit false), or build without the spectrum member"
        )
    members = np.array([[oof[k][identifier][1] for identifier in chosen["_ids"]] for k in chosen["kmers"]])
    kmers = spectrum_kmers(chosen["kmers"])
    report, probabilities = choose_weight(sequences, labels, fit_rows, held_rows, members, kmers=kmers)
    return report, probabilities, sequences, labels


def build_ensemble(args: EnsembleArguments) -> dict:
    runs = {member_k(Path(d)): Path(d) for d in args.members}
    oof = {k: out_of_fold(d) for k, d in runs.items()}
    ranked = score_subsets(oof)  # every subset is reported; one is chosen only with choose_members
    chosen = ranked[0] if args.choose_members else next(row for row in ranked if len(row["kmers"]) == len(oof))
    held_out, probabilities = f"out-of-fold predictions, n = {chosen['n']}", chosen["_probabilities"]
    if args.spectrum:
        choice, probabilities, sequences, labels = spectrum_choice(runs, oof, chosen)
        held_out += ", with the spectrum member (fitted on the other training rows) at its chosen share"
    threshold = best_threshold(chosen["_labels"], probabilities) if args.choose_threshold else 0.5
    at_threshold = {"n": chosen["n"], **binary_metrics(chosen["_labels"], probabilities, threshold)}
    calibration = calibration_record(chosen["_labels"], probabilities, threshold, held_out)
    check_output_dir(Path(args.output_dir), args.release)
    model = assemble({k: shipped_member(runs[k]) for k in chosen["kmers"]}, threshold, calibration["slope"])
    if args.spectrum:
        from .spectrum import ship_spectrum

        model, fitted = ship_spectrum(model, sequences, labels, choice["chosen"], kmers=tuple(choice["kmers"]))
        spectrum = {**(fitted or {}), "choice": choice, "command": SPECTRUM_COMMAND}
    shutil.rmtree(args.output_dir, ignore_errors=True)  # no file of an earlier build may linger (vocab.txt did)
    folder = write_model_folder(model, args.output_dir)
    public = [{key: value for key, value in row.items() if not key.startswith("_")} for row in ranked]
    arguments = json.loads((next(iter(runs.values())) / "arguments.json").read_text())
    config = arguments.get("config", "layer1")
    report = {
        "benchmark": BENCHMARKS.get(config, "own"),  # picks the card's text
        "dataset": arguments.get("dataset"),
        "config": config,
        "chosen_kmers": chosen["kmers"],
        "threshold": threshold,
        "calibration": calibration,
        "cv_at_threshold": at_threshold,
        "subsets_at_0.5": public,
        "member_runs": {str(k): str(d) for k, d in runs.items()},
    }
    if args.spectrum:
        report["spectrum"] = spectrum
    (folder / "cv_results.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    (folder / "training.json").write_text(json.dumps(training_record(runs), indent=2) + "\n")
    return report
