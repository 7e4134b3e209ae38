"""The NHLF model: heads fitted on the frozen layer-1 encoders' pooled states of 200 bp windows, chosen on
held-out NHLF training data (the paper's "without fine-tuning" kind of model).

python training/nhlf_heads.py [--apply] [--write-heads FOLDER]

The encoders are those of the shipped layer-1 model (pretrained on the hg38 slice, fine-tuned on iEnhancer-2L
layer 1). Their pooled window states are computed once (runs/nhlf/, resumable per member) on the NHLF training
split only; the test split is never read.

Every variant (window stride 100 or 200 bp; combination "probability", a head fitted on windows labelled with
their sequence's label and window probabilities averaged, or "states", a head fitted on each sequence's mean
pooled state; weight decay 0.01, 0.1 or 1.0; label smoothing 0 or 0.1) is fitted on folds 1-4 of the training
split (5 stratified folds, seed 42, as fine-tuning splits it) and judged on fold 0 by the ensemble's AUC; the
best, ties within 0.002 going to the larger stride and then the most regularised head, is reported with the
k-mer baseline on the same fold (the candidate its CV chose, fitted on folds 1-4; run `ienhancer-elm release baseline
--config enhancer_if_nhlf -o runs/baseline-enhancer_if_nhlf` first) and a paired bootstrap interval. Writes
results/experiments/heads-nhlf.json.

Then the spectrum member (ienhancer_elm.training.spectrum) is fitted on folds 1-4 and its share of the vote
chosen on fold 0 by its WEIGHT_RULE. With --apply the chosen variant's heads and the spectrum member are fitted
again on all five folds and written with the encoders to models/ienhancer-elm-nhlf; the threshold (best held-out MCC) and the calibration slope come from its fold-0
predictions (heads fitted on folds 1-4). With --write-heads, the best stride-200 "states" heads fitted on folds
1-4 are written as the starting heads of NHLF fine-tuning (experiments/nhlf_finetuning/nhlf_finetune.sh).
"""

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.hub_export import write_model_folder
from ienhancer_elm.metrics import binary_metrics, paired_differences
from ienhancer_elm.modeling_ienhancer_elm import window_starts
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import load_model
from ienhancer_elm.training.ensemble import best_threshold, calibration_record, score_subsets
from ienhancer_elm.training.finetuning import stratified_folds
from ienhancer_elm.training.heads import (
    HeadSettings,
    encoder_fingerprint,
    fit_head,
    head_probabilities,
    pooled_features,
)
from ienhancer_elm.training.spectrum import choose_weight, ship_spectrum, with_spectrum

CONFIG = "enhancer_if_nhlf"
ENCODERS = Path("models/ienhancer-elm-layer1")
WINDOW, GRID = 200, 100  # features are computed on the 100 bp grid; stride 200 takes every other window
STRIDES = (100, 200)
COMBINATIONS = ("states", "probability")
SETTINGS = [
    HeadSettings(weight_decay=decay, label_smoothing=smoothing)
    for decay, smoothing in itertools.product((0.01, 0.1, 1.0), (0.0, 0.1))
]
CACHE = Path("runs/nhlf")
MODEL = Path("models/ienhancer-elm-nhlf")
BASELINE_CV = Path(f"runs/baseline-{CONFIG}/cv.json")


def windows_of(sequences) -> tuple[np.ndarray, np.ndarray]:
    """(sequence index, start) of every window on the grid, as `window_starts` places them."""
    spans = [(i, start) for i, s in enumerate(sequences) for start in window_starts(len(s), WINDOW, GRID)]
    return tuple(np.array(column) for column in zip(*spans))


def on_stride(sequences, index: np.ndarray, start: np.ndarray, stride: int) -> np.ndarray:
    """The grid windows that a `stride` reading takes (multiples of the stride, and the one ending at the end)."""
    lengths = np.array([len(s) for s in sequences])[index]
    return (start % stride == 0) | (start == lengths - WINDOW) | (lengths <= WINDOW)


def encoders_fine_tuned_on() -> str:
    """What the layer-1 encoders saw in fine-tuning, for the NHLF card."""
    refitted = "refitted_encoders" in json.loads((ENCODERS / "cv_results.json").read_text())
    split = "the whole" if refitted else "80% (folds 1-4 of 5) of the"
    return f"{split} iEnhancer-2L layer-1 training split"


def window_features(model, tokenizer, sequences, index, start) -> dict[int, np.ndarray]:
    """Pooled states of every window, per member; each member's are cached on its own, so a rerun resumes. The
    cache holds one set of encoders' states: other encoders (a refit of layer 1) clear it."""
    CACHE.mkdir(parents=True, exist_ok=True)
    encoders = {str(k): encoder_fingerprint(model.member(k)) for k in model.config.kmers}
    record = CACHE / "encoders.json"
    if not record.is_file() or json.loads(record.read_text()) != encoders:
        for stale in [*CACHE.glob("train_k*.npy"), *(CACHE / "variants").glob("*.npz")]:
            stale.unlink()
        record.write_text(json.dumps(encoders, indent=2) + "\n")
    windows = [sequences[i][s : s + WINDOW] for i, s in zip(index, start)]
    features = {}
    for k in model.config.kmers:
        path = CACHE / f"train_k{k}.npy"
        if not path.is_file():
            np.save(path, pooled_features(model, k, tokenizer, windows))
        features[k] = np.load(path)
    return features


def group_mean(values: np.ndarray, groups: np.ndarray, count: int) -> np.ndarray:
    """Per group, the mean of its rows of `values` (NaN for a group with none)."""
    total = np.zeros((count, *values.shape[1:]))
    np.add.at(total, groups, values)
    sizes = np.bincount(groups, minlength=count).reshape(-1, *([1] * (values.ndim - 1)))
    with np.errstate(invalid="ignore"):
        return total / sizes


def fitted_probabilities(features, index, labels, fit_rows, score_rows, combination, settings, hidden):
    """Per member: (heads fitted on the sequences `fit_rows`, their probabilities for the sequences `score_rows`)."""
    count = len(labels)
    heads, probabilities = {}, {}
    fit, score = np.isin(index, fit_rows), np.isin(index, score_rows)
    for k, states in features.items():
        if combination == "states":
            pooled = group_mean(states, index, count)
            head = fit_head(pooled[fit_rows], labels[fit_rows], hidden, settings)
            probabilities[k] = head_probabilities(head, pooled[score_rows])
        else:
            head = fit_head(states[fit], labels[index[fit]], hidden, settings)
            per_window = head_probabilities(head, states[score])
            probabilities[k] = group_mean(per_window, index[score], count)[score_rows]
        heads[k] = head
    return heads, probabilities


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write-heads",
        type=Path,
        help="write the layer-1 model with the best stride-200 'states' heads, fitted on folds 1-4, here: the "
        "starting heads of NHLF fine-tuning (init_head)",
    )
    parser.add_argument("--apply", action="store_true", help=f"write the chosen variant's model to {MODEL}")
    parser.add_argument("--combinations", nargs="+", default=COMBINATIONS, choices=COMBINATIONS)
    args = parser.parse_args()
    model, tokenizer = load_model(ENCODERS, "cpu", precision="fp32")
    train = load_split(DEFAULT_DATASET, CONFIG, "train")
    sequences, labels = list(train["sequence"]), np.asarray(train["label"])
    index, start = windows_of(sequences)
    features = window_features(model, tokenizer, sequences, index, start)
    fit_rows, held_rows = stratified_folds(labels, 5, 42)[0]
    hidden = model.config.head_hidden_size
    variants = []
    for combination, stride, settings in itertools.product(args.combinations, STRIDES, SETTINGS):
        taken = on_stride(sequences, index, start, stride)
        cached = (
            CACHE / "variants" / f"{stride}-{combination}-{settings.weight_decay:g}-{settings.label_smoothing:g}.npz"
        )
        if cached.is_file():  # a rerun (say with --apply) skips the variants already judged
            probabilities = {k: values for k, values in zip(model.config.kmers, np.load(cached)["members"])}
        else:
            subset = {k: f[taken] for k, f in features.items()}
            _, probabilities = fitted_probabilities(
                subset, index[taken], labels, fit_rows, held_rows, combination, settings, hidden
            )
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cached, members=np.stack(list(probabilities.values())))
        ensemble = np.mean(list(probabilities.values()), axis=0)
        variant = {
            "stride": stride,
            "combination": combination,
            "settings": vars(settings),
            "held_out_auc": {f"k{k}": roc_auc_score(labels[held_rows], p) for k, p in probabilities.items()},
        }
        variant["held_out_auc"]["ensemble"] = roc_auc_score(labels[held_rows], ensemble)
        variant["_ensemble"], variant["_members"] = ensemble, probabilities
        print(stride, combination, vars(settings), round(variant["held_out_auc"]["ensemble"], 4), flush=True)
        variants.append(variant)
    best = max(v["held_out_auc"]["ensemble"] for v in variants)
    level = [v for v in variants if v["held_out_auc"]["ensemble"] >= best - 0.002]
    chosen = max(level, key=lambda v: (v["stride"], v["settings"]["weight_decay"], v["settings"]["label_smoothing"]))
    bert_held_out = np.stack(list(chosen["_members"].values()))
    spectrum, chosen["_ensemble"] = choose_weight(sequences, labels, fit_rows, held_rows, bert_held_out)
    print(json.dumps(spectrum["candidates"]), flush=True)
    report = {
        "command": "python training/nhlf_heads.py" + (" --apply" if args.apply else ""),
        "encoders": str(ENCODERS),
        "held_out": {"folds": 5, "seed": 42, "fold": 0, "n": len(held_rows), "positives": int(labels[held_rows].sum())},
        "windows": {"bp": WINDOW, "grid_stride_bp": GRID, "train_windows_on_grid": int(len(index))},
        "variants": [{key: value for key, value in v.items() if not key.startswith("_")} for v in variants],
        "chosen": {key: value for key, value in chosen.items() if not key.startswith("_")},
        "spectrum": spectrum,
        "svm": svm_on_held_out(sequences, labels, fit_rows, held_rows, chosen["_ensemble"]),
    }
    if args.apply:
        windows = (index, start)
        report["applied"] = apply(model, chosen, spectrum["chosen"], features, sequences, labels, windows, held_rows)
    if args.write_heads:
        start_heads = [v for v in variants if (v["stride"], v["combination"]) == (200, "states")]
        best = max(start_heads, key=lambda v: v["held_out_auc"]["ensemble"])
        write_heads(model, best, features, sequences, labels, index, start, fit_rows, args.write_heads)
        report["starting_heads"] = {"stride": 200, "combination": "states", "settings": best["settings"]}
    out = Path("results/experiments/heads-nhlf.json")
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["chosen"], indent=2), json.dumps(report["svm"], indent=2))


def apply(model, chosen, spectrum_choice, features, sequences, labels, windows, held_rows) -> dict:
    """Heads and spectrum member fitted on all five folds ship with the layer-1 encoders; the threshold (best
    held-out MCC) and the calibration slope come from the chosen ensemble's fold-0 predictions (heads and spectrum
    member fitted on folds 1-4)."""
    index, start = windows
    settings = HeadSettings(**chosen["settings"])
    taken = on_stride(sequences, index, start, chosen["stride"])
    subset = {k: f[taken] for k, f in features.items()}
    every = np.arange(len(labels))
    heads, _ = fitted_probabilities(
        subset, index[taken], labels, every, every, chosen["combination"], settings, model.config.head_hidden_size
    )
    held_out = chosen["_ensemble"]
    kmers = model.config.kmers
    oof = {k: {int(i): (int(labels[i]), float(p)) for i, p in zip(held_rows, chosen["_members"][k])} for k in kmers}
    threshold = best_threshold(labels[held_rows], held_out)
    where = f"fold 0 of 5 (seed 42), n = {len(held_rows)}, heads and spectrum member fitted on folds 1-4"
    calibration = calibration_record(labels[held_rows], held_out, threshold, where)
    for k in kmers:
        model.member(k).head.load_state_dict(heads[k].state_dict())
    model, spectrum = ship_spectrum(model, sequences, labels, spectrum_choice)
    config = model.config
    config.threshold, config.calibration_slope = threshold, calibration["slope"]
    config.window_bp, config.window_stride_bp = WINDOW, chosen["stride"]
    config.window_combination = chosen["combination"]
    write_model_folder(model, MODEL)
    cv = {
        "benchmark": CONFIG,
        "encoders": f"{ENCODERS} (frozen)",
        "encoders_fine_tuned_on": encoders_fine_tuned_on(),
        "chosen_kmers": kmers,
        "threshold": threshold,
        "cv_at_threshold": {"n": len(held_rows), **binary_metrics(labels[held_rows], held_out, threshold)},
        "subsets_at_0.5": [
            {key: value for key, value in row.items() if not key.startswith("_")} for row in score_subsets(oof)
        ],
        "windows": {"bp": WINDOW, "stride_bp": chosen["stride"], "combination": chosen["combination"]},
        "heads": {
            "settings": chosen["settings"],
            "fitted_on": "all five folds of the NHLF training split, encoders frozen",
            "threshold_and_slope_from": "fold 0, heads and spectrum member fitted on folds 1-4",
            "command": "python training/nhlf_heads.py --apply",
        },
        "spectrum": spectrum,
        "calibration": calibration,
    }
    (MODEL / "cv_results.json").write_text(json.dumps(cv, indent=2, default=float) + "\n", encoding="utf-8")
    return {"threshold": threshold, "calibration_slope": calibration["slope"], "cv_at_threshold": cv["cv_at_threshold"]}


def write_heads(model, variant, features, sequences, labels, index, start, fit_rows, folder: Path) -> None:
    """The encoders with `variant`'s heads fitted on folds 1-4 (fold 0 stays held out for fine-tuning)."""
    taken = on_stride(sequences, index, start, variant["stride"])
    subset = {k: f[taken] for k, f in features.items()}
    settings = HeadSettings(**variant["settings"])
    hidden = model.config.head_hidden_size
    heads, _ = fitted_probabilities(
        subset, index[taken], labels, fit_rows, fit_rows, variant["combination"], settings, hidden
    )
    for k, head in heads.items():
        model.member(k).head.load_state_dict(head.state_dict())
    model = with_spectrum(model, None)  # the starting heads alone, not layer 1's spectrum member
    config = model.config
    config.window_bp, config.window_stride_bp, config.window_combination = (
        WINDOW,
        variant["stride"],
        variant["combination"],
    )
    write_model_folder(model, folder)


def svm_on_held_out(sequences, labels, fit_rows, held_rows, ensemble) -> dict:
    """The k-mer baseline (the candidate and parameters its CV on the whole training split chose, `ienhancer-elm
    baseline`) fitted on folds 1-4 and scored on fold 0, paired against the ensemble there."""
    from ienhancer_elm.baseline import refit_chosen

    if not BASELINE_CV.is_file():
        raise SystemExit(
            f"no {BASELINE_CV}: run `ienhancer-elm release baseline --config {CONFIG} -o {BASELINE_CV.parent}`"
        )
    cv = json.loads(BASELINE_CV.read_text())
    texts = np.asarray(sequences, dtype=object)
    svm = refit_chosen(cv, texts[fit_rows], labels[fit_rows]).predict_proba(texts[held_rows])[:, 1]
    held = labels[held_rows]
    difference = paired_differences(held, ensemble, svm, (0.5, 0.5))
    return {
        "chosen": f"{cv['chosen']} {cv['params']}, fitted on folds 1-4",
        "held_out_auc": roc_auc_score(held, svm),
        "ensemble_minus_svm_auc": difference["AUC_ROC"],
        "correlation": float(np.corrcoef(ensemble, svm)[0, 1]),
    }


if __name__ == "__main__":
    main()
