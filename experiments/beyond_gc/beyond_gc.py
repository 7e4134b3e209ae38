"""Can a member learn more than a sequence's GC share (issue 33)? Candidates screened on the held-out fold.

    python experiments/beyond_gc/beyond_gc.py [--config layer1] [--resamples 1000]

The rule, written before any run: a training choice ships when, on the held-out fold (fold 0 of the recipe's 5
stratified folds, seed 42; members fitted on folds 1-4), its GC-matched AUC gains at least 0.03 over the
shipped recipe and its AUC loses at most 0.01 (point estimates; paired 95% bootstrap intervals reported beside
them). Screened here on the spectrum member (a fit with its C grid took 10-30 minutes on 2 shared CPU cores); the BERT members, 35-90
minutes each, follow for what passes. The test split is not read.

Candidates: the recipe as shipped; dinucleotide shuffles of the training enhancers as extra negatives (every
base and dinucleotide count kept, motifs destroyed); the same with two shuffles per enhancer; the benchmark's own
rows re-weighted so that in every GC bin of 0.02 each class weighs half (rows of one-class bins weigh 0); and one
window of plain genome per training enhancer, matched on GC within 0.01, as an extra negative. Those windows come
from data/genome/hg38_chr2_1-2333275.fa.gz alone (forward strand, stride 200, no N, no benchmark sequence): the
chr21 piece stays held out, and were the candidate to ship, the background would be rebuilt from the chr1 and
chr22 pieces alone, so that no window it is built from was a training negative.

    python experiments/beyond_gc/beyond_gc.py --only "GC-balanced weights" "GC-matched genome windows"

recomputes the named candidates and the shipped recipe (deterministic: its scores must come out as before), keeping
the other candidates' rows of the committed report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.metrics import gc_matched_auc_with_interval, gc_matched_difference, paired_differences
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.sequences import gc_fraction
from ienhancer_elm.training.heads import shipped_held_out_fold
from ienhancer_elm.training.negatives import (
    benchmark_sequences,
    dinucleotide_shuffles,
    fasta_windows,
    gc_balancing_weights,
    gc_matched_windows,
)
from ienhancer_elm.training.spectrum import fit_spectrum, spectrum_features

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GENOME_NEGATIVES = ROOT / "data/genome/hg38_chr2_1-2333275.fa.gz"
MIN_GC_MATCHED_GAIN = 0.03
MAX_AUC_LOSS = 0.01
RULE = "ship if the held-out GC-matched AUC gains at least 0.03 and the held-out AUC loses at most 0.01"
SHIPPED = "as shipped"


def _as_shipped(sequences, labels, config):
    return sequences, labels, None


def _shuffles(count: int):
    def prepare(sequences, labels, config):
        positives = [s for s, label in zip(sequences, labels) if label == 1]
        negatives = dinucleotide_shuffles(positives, count, seed=0)
        return sequences + negatives, np.concatenate([labels, np.zeros(len(negatives), int)]), None

    return prepare


def _gc_balanced(sequences, labels, config):
    return sequences, labels, gc_balancing_weights([gc_fraction(s) for s in sequences], labels)


def _genome_windows(sequences, labels, config):
    windows, _ = fasta_windows([GENOME_NEGATIVES], benchmark_sequences(DEFAULT_DATASET, config))
    positives_gc = [gc_fraction(s) for s, label in zip(sequences, labels) if label == 1]
    negatives = gc_matched_windows(positives_gc, windows, [gc_fraction(w) for w in windows], seed=0)
    print(f"genome windows: {len(negatives)} of {len(positives_gc)} enhancers matched", file=sys.stderr)
    return sequences + negatives, np.concatenate([labels, np.zeros(len(negatives), int)]), None


CANDIDATES = {
    SHIPPED: _as_shipped,
    "one dinucleotide shuffle per enhancer as a negative": _shuffles(1),
    "two shuffles": _shuffles(2),
    "GC-balanced weights": _gc_balanced,
    "GC-matched genome windows": _genome_windows,
}


def ships(gc_matched_gain: float, auc_loss: float) -> bool:
    """The rule above, with a little slack for floating-point rounding on its bounds."""
    return gc_matched_gain >= MIN_GC_MATCHED_GAIN - 1e-9 and auc_loss <= MAX_AUC_LOSS + 1e-9


def spectrum_scores(sequences, labels, fit_rows, held_rows, prepare, config: str, seed: int = 0) -> np.ndarray:
    """The spectrum member fitted on `fit_rows` as the candidate's `prepare` shapes them (extra rows, weights),
    scoring `held_rows`."""
    fit_sequences, fit_labels, weights = prepare([sequences[i] for i in fit_rows], np.asarray(labels)[fit_rows], config)
    search = fit_spectrum(
        spectrum_features(fit_sequences), np.asarray(fit_labels).astype(int), seed, sample_weight=weights
    )
    return search.predict_proba(spectrum_features([sequences[i] for i in held_rows]))[:, 1]


def compare(labels, gc, scores: dict[str, np.ndarray], n_resamples: int) -> dict:
    """Each candidate's AUC and GC-matched AUC, and its paired difference from the shipped recipe, with the rule."""
    reference = scores[SHIPPED]
    rows = {}
    for name, found in scores.items():
        row = {
            "auc": float(roc_auc_score(labels, found)),
            "gc_matched_auc": gc_matched_auc_with_interval(labels, found, gc, n_resamples),
        }
        if found is not reference:
            auc = paired_differences(labels, found, reference, n_resamples=n_resamples)["AUC_ROC"]
            gc_matched = gc_matched_difference(labels, found, reference, gc, n_resamples)
            row |= {"auc_change": auc, "gc_matched_change": gc_matched}
            row["ships"] = ships(gc_matched["value"], -auc["value"])
        rows[name] = row
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="layer1")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("-o", "--output", type=Path, default=HERE / "spectrum-screen.json")
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), help="recompute these (and the shipped recipe)")
    args = parser.parse_args(argv)
    names = list(CANDIDATES) if not args.only else [SHIPPED, *(n for n in args.only if n != SHIPPED)]
    train = load_split(DEFAULT_DATASET, args.config, "train")
    sequences, labels = list(train["sequence"]), np.asarray(train["label"])
    fit_rows, held_rows = shipped_held_out_fold(labels)
    held_labels = labels[held_rows]
    gc = np.array([gc_fraction(sequences[i]) for i in held_rows])
    started, scores = time.time(), {}
    for name in names:
        scores[name] = spectrum_scores(sequences, labels, fit_rows, held_rows, CANDIDATES[name], args.config)
        print(f"{name}: held-out AUC {roc_auc_score(held_labels, scores[name]):.3f}", file=sys.stderr)
    gc_alone = {
        "auc": float(roc_auc_score(held_labels, gc)),
        "gc_matched_auc": gc_matched_auc_with_interval(held_labels, gc, gc, args.resamples),
    }
    candidates = compare(held_labels, gc, scores, args.resamples)
    command = "python experiments/beyond_gc/beyond_gc.py" + "".join(
        f" '{a}'" if " " in a else f" {a}" for a in (argv or sys.argv[1:])
    )
    commands, seconds = [command], round(time.time() - started)
    if args.only:
        candidates, commands, seconds = _kept_rows(args.output, candidates, command, seconds)
    report = {
        "question": "does the spectrum member learn more than GC share when trained against composition-matched negatives?",
        "rule": RULE,
        "config": args.config,
        "held_out": f"fold 0 of 5 stratified folds (seed 42) of the {args.config} training split, {len(held_rows)} sequences",
        "member": "spectrum (k = 3, 4, 5 frequencies, RBF SVC, C by 5-fold CV on the fitting rows)",
        "gc_share_alone": gc_alone,
        "candidates": candidates,
        "bootstrap": {"resamples": args.resamples, "seed": 0},
        "seconds": seconds,
        "commands": commands,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(args.output)


def _kept_rows(path: Path, recomputed: dict, command: str, seconds: int) -> tuple[dict, list, int]:
    """The committed report's candidates with the recomputed ones in their place, once the shipped recipe is seen
    to score as it did (the fits are seeded, so the kept rows' paired differences stay valid)."""
    before = json.loads(path.read_text(encoding="utf-8"))
    if abs(before["candidates"][SHIPPED]["auc"] - recomputed[SHIPPED]["auc"]) > 1e-9:
        raise SystemExit("the shipped recipe scored differently from the committed report: rerun every candidate")
    merged = {name: recomputed.get(name, row) for name, row in before["candidates"].items()} | recomputed
    commands = before.get("commands", [before.get("command")]) + [command]
    return merged, commands, before["seconds"] + seconds


if __name__ == "__main__":
    main()
