"""The figures of the shipped models, rendered into README.md and docs/ by `python docs/figures.py`.

Evaluation reports (results/*.json) go through the model card's own renderer (`ienhancer_elm.release.model_card`),
so README, docs and model cards print a report the same way; the choices made on held-out training data come
from the model folders (cv_results.json, training.json) and from the reports of training/refit_heads.py and
training/nhlf_heads.py (results/experiments/heads-*.json); the paper's figures, which no report here holds, from
results/paper-figures.json, which names their source.
"""

from __future__ import annotations

import csv
import json

import numpy as np
from table_helpers import REPO, header, read_json

from ienhancer_elm.release import model_card

TRAINED = "models"  # the shipped model folders
DATASET = REPO / "hub_configs" / "datasets" / "ienhancer-benchmarks"
PAPER = read_json("results/paper-figures.json")


# --- test split -----------------------------------------------------------------------------------


def readme_results() -> str:
    """Shipped ensembles, the k-mer baseline, GC share alone and the paper on the test split, with 95% intervals;
    the GC-matched AUC of each from the beyond-GC table."""
    gc_table = read_json("experiments/beyond_gc/gc-table.json")
    rows = header("layer", "model", "rows", "n", *model_card.METRICS, "AUC_GC")
    bootstraps = set()
    for layer in ("layer1", "layer2"):
        shipped = read_json(f"results/ienhancer-elm-{layer}-test.json")
        baseline = read_json(f"results/baseline-{layer}-test.json")
        bootstraps |= {json.dumps(report["bootstrap"], sort_keys=True) for report in (shipped, baseline)}
        gc_rows = gc_table["configs"][layer]["subsets"]
        for name, report in (("shipped ensemble", shipped), ("k-mer SVM baseline", baseline)):
            for row, subset in zip(
                model_card.subset_rows(f"{layer} | {name}", report["results"], model_card.METRICS), model_card.SUBSETS
            ):
                rows.append(row + f" {_gc_matched_cell(gc_rows, subset[0], name)} |")
        for subset, label in model_card.SUBSETS:
            alone = gc_rows.get(subset, {}).get("GC share alone")
            if alone:
                cells = ["-"] * len(model_card.METRICS)
                cells[model_card.METRICS.index("AUC_ROC")] = model_card.figure_cell(alone["AUC_ROC"])
                n = gc_table["configs"][layer]["n"][subset]
                rows.append(
                    f"| {layer} | GC share alone | {label} | {n} | "
                    + " | ".join(cells)
                    + f" | {_gc_matched_cell(gc_rows, subset, 'GC share alone')} |"
                )
        if layer == "layer1":
            paper = PAPER["layer1"]
            cells = [
                f"{paper['figures'][m]:.3f}" if m in paper["figures"] else "not reported" for m in model_card.METRICS
            ]
            rows.append(
                f"| layer1 | paper (DNABERT members, chosen on the test split) | all | {paper['n']} | "
                + " | ".join(cells)
                + " | not reported |"
            )
    bootstrap = ", ".join(f"{b['resamples']} resamples, seed {b['seed']}" for b in map(json.loads, sorted(bootstraps)))
    return "\n".join(rows) + (
        f"\n\nIntervals: 95% bootstrap ({bootstrap}). AUC_GC: the GC-matched AUC (pairs whose GC share differs by at "
        f"most 0.01; [definition](docs/benchmarks.md#how-much-of-a-call-is-gc-share)), and GC share alone's AUC, from "
        f"`experiments/beyond_gc/gc-table.json` (scored in {gc_table['precision']}).\n"
    )


def _gc_matched_cell(gc_rows: dict, subset: str, name: str) -> str:
    row = gc_rows.get(subset, {}).get(name)
    return model_card.figure_cell(row["AUC_GC"]) if row else "-"


def test_reports() -> str:
    """The two test reports, with the paired differences against the baseline, as the model cards print them."""
    return model_card.results_table(
        [read_json(f"results/ienhancer-elm-{layer}-test.json") for layer in ("layer1", "layer2")]
    )


def _parquet_rows(config: str, split: str) -> int:
    import pyarrow.parquet as pq  # the data extra

    return pq.read_metadata(DATASET / config / f"{split}.parquet").num_rows


def baseline() -> str:
    """The k-mer baseline: pooled out-of-fold CV on the training split, then the test split."""
    rows = header("split", "rows", "n", *model_card.METRICS)
    commands = []
    for layer in ("layer1", "layer2"):
        cv = read_json(f"results/baseline-{layer}-cv.json")
        figures = {m: {"value": cv["cv_metrics"][m], "ci95": [None, None]} for m in model_card.METRICS}
        cells = " | ".join(model_card.figure_cell(figures[m]) for m in model_card.METRICS)
        rows.append(
            f"| {layer} train | 5-fold CV ({cv['chosen']}), pooled out-of-fold | {_parquet_rows(layer, 'train')} | {cells} |"
        )
        test = read_json(f"results/baseline-{layer}-test.json")
        rows += model_card.subset_rows(f"{layer} test", test["results"], model_card.METRICS)
        commands.append(f"- `{test['command']}`")
    return "\n".join(rows) + "\n\nTest reports made by:\n" + "\n".join(commands) + "\n"


def nhlf_results() -> str:
    """The NHLF model, the k-mer baseline, GC share alone and the paper's anchors on the NHLF test split, with the
    GC-matched AUC of each from the beyond-GC table."""
    names = ("BACC", "MCC", "Sn", "Sp", "AUC_ROC", "AUC_PR", "ACC")  # balanced accuracy first: the split is 1:2
    gc_rows = read_json("experiments/beyond_gc/gc-table.json")["configs"]["enhancer_if_nhlf"]["subsets"]
    rows = header("model", "rows", "n", *names, "AUC_GC")
    for label, path, name in (
        ("shipped NHLF ensemble", "ienhancer-elm-nhlf", "shipped ensemble"),
        ("k-mer baseline", "baseline-nhlf", "k-mer SVM baseline"),
    ):
        figures = read_json(f"results/{path}-test.json")["results"]["all"]
        cells = [model_card.figure_cell(figures[m]) for m in names] + [_gc_matched_cell(gc_rows, "all", name)]
        rows.append(f"| {label} | all | {figures['n']} | " + " | ".join(cells) + " |")
    alone = gc_rows["all"]["GC share alone"]
    cells = [model_card.figure_cell(alone["AUC_ROC"]) if m == "AUC_ROC" else "-" for m in names]
    cells.append(_gc_matched_cell(gc_rows, "all", "GC share alone"))
    rows.append(f"| GC share alone | all | {figures['n']} | " + " | ".join(cells) + " |")
    for label, figures in PAPER["nhlf"]["models"].items():
        cells = [f"{figures[m]:.3f}" if m in figures else "not reported" for m in names]
        rows.append(f"| {label} | all | {PAPER['nhlf']['n']} | " + " | ".join(cells) + " | not reported |")
    difference = read_json("results/ienhancer-elm-nhlf-test.json")["difference"]["results"]["all"]
    paired = ", ".join(
        f"{m} {difference[m]['value']:+.3f} [{difference[m]['ci95'][0]:+.3f}, {difference[m]['ci95'][1]:+.3f}]"
        for m in ("BACC", "MCC", "AUC_ROC")
    )
    return "\n".join(rows) + (
        f"\n\nEnsemble minus k-mer baseline, paired bootstrap: {paired}. AUC_GC: the GC-matched AUC "
        "([definition](benchmarks.md#how-much-of-a-call-is-gc-share)), and GC share alone's AUC, from "
        "`experiments/beyond_gc/gc-table.json`.\n"
    )


# --- choices made on held-out training data -------------------------------------------------------


def _cv_section(model: str, config: str) -> str:
    """The model card's held-out section, and GC share alone on the same held-out fold beside it."""
    section = model_card.cv_section(model_card.read_json_or_empty(REPO / TRAINED / model / "cv_results.json"))
    report = read_json("experiments/beyond_gc/heldout-gc.json")
    alone = report["configs"][config]
    return section + (
        f"\nGC share alone on the same held-out fold ({report['score']}; `{report['command']}`): n = {alone['n']}, "
        f"AUC_ROC {model_card.figure_cell(alone['AUC_ROC'])}, GC-matched AUC {model_card.figure_cell(alone['AUC_GC'])} "
        f"({alone['AUC_GC']['pairs']} pairs). The members' own GC-matched AUC on this fold is not known: their "
        "per-sequence held-out predictions were not kept.\n"
    )


def _training_section(model: str) -> str:
    return model_card.training_section(model_card.read_json_or_empty(REPO / TRAINED / model / "training.json"))


def calibration() -> str:
    """The shipped models' calibration on their held-out fold (`training/calibrate_shipped.py`)."""
    rows = header("model", "held-out sequences", "threshold on the mean", "slope", "log loss", "Brier score")
    for layer in ("layer1", "layer2"):
        fitted = read_json(f"{TRAINED}/ienhancer-elm-{layer}/cv_results.json")["calibration"]
        rows.append(
            f"| {layer} | {fitted['held_out']} | {fitted['threshold']} | {fitted['slope']:.3f} | "
            f"{fitted['log_loss']['slope 1']:.4f} -> {fitted['log_loss']['fitted']:.4f} | "
            f"{fitted['brier']['slope 1']:.4f} -> {fitted['brier']['fitted']:.4f} |"
        )
    return "\n".join(rows) + "\n"


def heads() -> str:
    """The head variants tried on frozen encoder features (`training/refit_heads.py`), on the held-out fold."""
    rows = header("layer", "heads", "held-out AUC", "largest modal share", "Tanh units saturated (hg38 windows)")
    for layer in ("layer1", "layer2"):
        report = read_json(f"results/experiments/heads-{layer}.json")
        entries = [("as shipped before (trained end to end)", report["shipped"])]
        for variant in report["variants"]:
            settings = variant["settings"]
            name = f"refit, weight decay {settings['weight_decay']:g}, label smoothing {settings['label_smoothing']:g}"
            entries.append((name + (" (chosen)" if settings == report["chosen"] else ""), variant))
        for name, entry in entries:
            saturated = np.mean(list(entry["saturated_tanh_share"].values()))
            rows.append(
                f"| {layer} | {name} | {entry['held_out_auc']['ensemble']:.4f} | {entry['largest_modal_share']:.2%} | "
                f"{saturated:.0%} |"
            )
    return "\n".join(rows) + "\n"


def heads_versus_baseline() -> str:
    """Chosen heads minus the k-mer baseline on the held-out fold (paired bootstrap)."""
    rows = header("layer", "ensemble AUC", "baseline AUC", "difference [95% interval]", "baseline")
    for layer in ("layer1", "layer2"):
        found = read_json(f"results/experiments/heads-{layer}.json")["versus_baseline"]
        difference = found["difference"]["AUC_ROC"]
        low, high = difference["ci95"]
        rows.append(
            f"| {layer} | {found['ensemble_auc']:.3f} | {found['baseline_auc']:.3f} | "
            f"{difference['value']:+.3f} [{low:+.3f}, {high:+.3f}] | {found['baseline']} |"
        )
    return "\n".join(rows) + "\n"


def spectrum_member() -> str:
    """The spectrum member's share of the soft vote, each candidate judged on the held-out fold."""
    reports = {
        name: read_json(f"results/experiments/heads-{name.lower()}.json") for name in ("layer1", "layer2", "NHLF")
    }
    first = next(iter(reports.values()))["spectrum"]["candidates"]
    shares = [("none" if c["share"] == 0 else f"{c['share']:.0%}") for c in first]
    rows = header("model", "held-out n", "spectrum member alone", *[f"share {s}" for s in shares])
    for name, report in reports.items():
        spectrum = report["spectrum"]
        n = report["held_out"]["n"] if isinstance(report["held_out"], dict) else report["held_out"].split("n = ")[1]
        cells = [
            f"**{c['held_out_auc']:.4f}**" if c == spectrum["chosen"] else f"{c['held_out_auc']:.4f}"
            for c in spectrum["candidates"]
        ]
        rows.append(f"| {name} | {n} | {spectrum['spectrum_alone_held_out_auc']:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n\nHeld-out AUC of the ensemble; the chosen share in bold.\n"


def nhlf_heads() -> str:
    """Every variant of `training/nhlf_heads.py` on the held-out NHLF fold, and the baseline there."""
    report = read_json("results/experiments/heads-nhlf.json")
    rows = header("stride (bp)", "combination", "weight decay", "label smoothing", "held-out AUC")
    for variant in report["variants"]:
        settings = variant["settings"]
        chosen = " (chosen)" if variant == report["chosen"] else ""
        rows.append(
            f"| {variant['stride']} | {variant['combination']} | {settings['weight_decay']:g} | "
            f"{settings['label_smoothing']:g} | {variant['held_out_auc']['ensemble']:.4f}{chosen} |"
        )
    svm = report["svm"]
    low, high = svm["ensemble_minus_svm_auc"]["ci95"]
    return "\n".join(rows) + (
        f"\n\nOn the same {report['held_out']['n']} held-out sequences the k-mer baseline ({svm['chosen']}, chosen by "
        f"CV on folds 1-4) has AUC {svm['held_out_auc']:.4f}; the ensemble (the chosen heads and the spectrum member "
        f"at its chosen share, AUC {report['spectrum']['chosen']['held_out_auc']:.4f}) minus baseline "
        f"{svm['ensemble_minus_svm_auc']['value']:+.4f} [{low:+.4f}, {high:+.4f}] (paired bootstrap); their "
        f"predictions correlate at {svm['correlation']:.2f}.\n"
    )


# --- the quick try and the motifs -----------------------------------------------------------------


def quickstart() -> str:
    """The quick try's time and its small model's held-out figures (`results/quickstart.json`)."""
    report = read_json("results/quickstart.json")
    held_out = report["held_out"]
    minutes, seconds = divmod(round(report["wall_seconds"]), 60)
    return (
        f"`{report['command']}` took {minutes} min {seconds} s on {report['machine']}; the one small member "
        f"reached a held-out AUC of {held_out['AUC_ROC']:.3f} (ACC {held_out['ACC']:.3f}) on the {held_out['n']} "
        "training sequences it did not train on.\n"
    )


def motifs(folder: str = "results/motifs-layer1") -> str:
    """A motif run's own report (`ienhancer-elm motifs` writes report.md and motifs.tsv), logos relinked."""
    report = (REPO / folder / "report.md").read_text(encoding="utf-8")
    body = report.split("\n", 1)[1].strip()  # drop the report's own title
    with open(REPO / folder / "motifs.tsv", encoding="utf-8", newline="") as handle:
        count = sum(1 for _ in csv.DictReader(handle, delimiter="\t"))
    body = body.replace("](logos/", f"](../{folder}/logos/")
    return f"From `{folder}/report.md` ({count} row(s) in `{folder}/motifs.tsv`):\n\n{body}\n"


RENDERERS = {
    "attribution-motifs": lambda: motifs("results/motifs-attribution-layer1"),
    "results": readme_results,
    "test-reports": test_reports,
    "baseline": baseline,
    "nhlf-results": nhlf_results,
    "heldout-layer1": lambda: _cv_section("ienhancer-elm-layer1", "layer1"),
    "heldout-layer2": lambda: _cv_section("ienhancer-elm-layer2", "layer2"),
    "nhlf-training": lambda: _cv_section("ienhancer-elm-nhlf", "enhancer_if_nhlf"),
    "training-layer1": lambda: _training_section("ienhancer-elm-layer1"),
    "training-layer2": lambda: _training_section("ienhancer-elm-layer2"),
    "calibration": calibration,
    "heads": heads,
    "heads-versus-baseline": heads_versus_baseline,
    "spectrum-member": spectrum_member,
    "nhlf-heads": nhlf_heads,
    "quickstart": quickstart,
    "motifs": motifs,
}
