"""Render every table of figures in README.md and docs/*.md from the files the figures come from.

    python docs/figures.py           # rewrite each block between the markers below
    python docs/figures.py --check   # change nothing; exit 1 naming every block whose text differs

A block is the lines between `<!-- figures:begin NAME -->` and `<!-- figures:end -->`; NAME is one of
`RENDERERS` below. No figure inside a block is typed by hand: evaluation reports (results/*.json) go
through the model card's own renderer (`ienhancer_elm.release.model_card`), so README, docs and model cards
print a report the same way. Figures outside blocks are either not in any file here (and the page
names the command or run that gave them) or not figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np

from ienhancer_elm.release import model_card
from ienhancer_elm.training.genome_check import PLAIN, WITH_GENOME

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"(<!-- figures:begin (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- figures:end -->)", re.S)
TRAINED = REPO / "models"  # the shipped model folders
DATASET = REPO / "hub_configs" / "datasets" / "ienhancer-benchmarks"

# The paper's layer-1 independent-test figures (Li et al. 2023): typed, since no file here holds them.
# Its members were selected by evaluating on the test split after every epoch; it has no layer 2.
PAPER_LAYER1 = {"ACC": 0.830, "MCC": 0.661, "Sn": 0.800, "Sp": 0.860}
# NHLF independent-test figures from the iEnhancer-ELM repository's README (typed: no file here holds them).
PAPER_NHLF = {
    "Enhancer-IF (Basith et al. 2021)": {"BACC": 0.794, "Sn": 0.789, "Sp": 0.798, "MCC": 0.565, "AUC_ROC": 0.865},
    "iEnhancer-ELM, fine-tuned": {"BACC": 0.788, "MCC": 0.548, "AUC_ROC": 0.862},
    "iEnhancer-ELM, not fine-tuned": {"BACC": 0.755, "MCC": 0.481, "AUC_ROC": 0.827},
}


def _json(path: str) -> dict:
    return json.loads((REPO / path).read_text(encoding="utf-8"))


def _header(*columns: str) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]


# --- evaluation reports -------------------------------------------------------------------------


def readme_results() -> str:
    """Shipped ensembles, the k-mer baseline and the paper on the test split, with 95% intervals."""
    rows = _header("layer", "model", "rows", "n", *model_card.METRICS)
    bootstraps = set()
    for layer in ("layer1", "layer2"):
        shipped = _json(f"results/ienhancer-elm-{layer}-test.json")
        baseline = _json(f"results/baseline-{layer}-test.json")
        bootstraps |= {json.dumps(report["bootstrap"], sort_keys=True) for report in (shipped, baseline)}
        rows += model_card._subset_rows(f"{layer} | shipped ensemble", shipped["results"], model_card.METRICS)
        rows += model_card._subset_rows(f"{layer} | k-mer SVM baseline", baseline["results"], model_card.METRICS)
        if layer == "layer1":
            cells = [f"{PAPER_LAYER1[m]:.3f}" if m in PAPER_LAYER1 else "not reported" for m in model_card.METRICS]
            rows.append(
                "| layer1 | paper (DNABERT members, chosen on the test split) | all | 400 | " + " | ".join(cells) + " |"
            )
    bootstrap = ", ".join(f"{b['resamples']} resamples, seed {b['seed']}" for b in map(json.loads, sorted(bootstraps)))
    return "\n".join(rows) + f"\n\nIntervals: 95% bootstrap ({bootstrap}).\n"


def test_reports() -> str:
    """The two test reports, with the paired differences against the baseline, as the model cards print them."""
    return model_card.results_table(
        [_json(f"results/ienhancer-elm-{layer}-test.json") for layer in ("layer1", "layer2")]
    )


def _parquet_rows(config: str, split: str) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(DATASET / config / f"{split}.parquet").num_rows


def baseline() -> str:
    """The k-mer baseline: pooled out-of-fold CV on the training split, then the test split."""
    rows = _header("split", "rows", "n", *model_card.METRICS)
    commands = []
    for layer in ("layer1", "layer2"):
        cv = _json(f"results/baseline-{layer}-cv.json")
        figures = {m: {"value": cv["cv_metrics"][m], "ci95": [None, None]} for m in model_card.METRICS}
        cells = " | ".join(model_card._figure(figures[m]) for m in model_card.METRICS)
        rows.append(
            f"| {layer} train | 5-fold CV ({cv['chosen']}), pooled out-of-fold | {_parquet_rows(layer, 'train')} | {cells} |"
        )
        test = _json(f"results/baseline-{layer}-test.json")
        rows += model_card._subset_rows(f"{layer} test", test["results"], model_card.METRICS)
        commands.append(f"- `{test['command']}`")
    return "\n".join(rows) + "\n\nTest reports made by:\n" + "\n".join(commands) + "\n"


def _heldout(layer: str) -> str:
    return model_card.cv_section(model_card._read_json(TRAINED / f"ienhancer-elm-{layer}" / "cv_results.json"))


def heldout_layer1() -> str:
    return _heldout("layer1")


def heldout_layer2() -> str:
    return _heldout("layer2")


def _training(layer: str) -> str:
    return model_card.training_section(model_card._read_json(TRAINED / f"ienhancer-elm-{layer}" / "training.json"))


def training_layer1() -> str:
    return _training("layer1")


def training_layer2() -> str:
    return _training("layer2")


# --- experiments on held-out training data ------------------------------------------------------

EXPERIMENTS = [  # layer, variant, report in results/experiments/, kept?
    ("1", "recipe of the first release (fine-tuning on one strand)", "layer1-shipped", "replaced"),
    (
        "1",
        "the same, both strands scored and averaged at prediction",
        "layer1-shipped-both-strands",
        "no: small gain for twice the time",
    ),
    (
        "1",
        "**reverse-complement augmentation in fine-tuning** (`reverse_complement_augmentation`)",
        "layer1-rc",
        "**yes: shipped**",
    ),
    ("1", "that, both strands averaged at prediction", "layer1-rc-both-strands", "no: below the 0.01 rule"),
    (
        "1",
        "that plus random crops in fine-tuning (`random_crop: 20`; k = 3, 4 only, stopped there)",
        "layer1-random-crop-k3-k4",
        "no: level with the shipped k = 3, 4 members",
    ),
    ("2", "recipe of the first release", "layer2-shipped", "kept"),
    (
        "2",
        "members initialised from the layer-1 members (k = 3, 4 only; each cell: from layer 1 / first release)",
        "layer2-from-layer1",
        "no: level (its ensemble mixes both)",
    ),
    ("2", "reverse-complement augmentation in fine-tuning", "layer2-rc", "no: lower"),
    (
        "1",
        "on a GPU: the recipe's pretraining (1 epoch), then the recipe's fine-tuning",
        "layer1-gpu-pretraining-short",
        "(reference for the next row)",
    ),
    (
        "1",
        "on a GPU: **long pretraining** (20-23x the windows), same fine-tuning",
        "layer1-gpu-pretraining-long",
        "no: below the 0.01 rule",
    ),
    (
        "2",
        "on a GPU: the recipe's pretraining, then the recipe's fine-tuning",
        "layer2-gpu-pretraining-short",
        "(reference for the next row)",
    ),
    ("2", "on a GPU: **long pretraining**, same fine-tuning", "layer2-gpu-pretraining-long", "no: below the 0.01 rule"),
]


def experiments() -> str:
    rows = _header("layer", "variant", "n", "held-out AUC, members k = 3, 4, 5, 6", "ensemble", "report", "kept")
    for layer, variant, name, kept in EXPERIMENTS:
        report = _json(f"results/experiments/{name}.json")
        by_k = {
            k: [auc for run, auc in report["member_auc"].items() if re.search(rf"_k{k}(_|$)", run)]
            for k in (3, 4, 5, 6)
        }
        members = ", ".join(" / ".join(f"{auc:.3f}" for auc in by_k[k]) or "-" for k in (3, 4, 5, 6))
        rows.append(
            f"| {layer} | {variant} | {report['n']} | {members} | {report['ensemble_auc']:.3f} | `{name}.json` | {kept} |"
        )
    return "\n".join(rows) + "\n"


def pretraining_loss() -> str:
    curves = _json("results/experiments/gpu-pretraining-curves.json")
    rows = _header(
        "run", "windows (both strands)", "epochs", "stopped by budget", "seconds", "last training loss", "held-out loss"
    )
    for name, run in curves.items():
        last = run["epochs"][-1]
        held_out = last.get("valid_mlm_loss")
        seconds = sum(epoch["seconds"] for epoch in run["epochs"])
        rows.append(
            f"| `{name}` | {run['kept_both_strands']:,} | {run['epochs_trained']} | {'yes' if run['stopped_by_budget'] else 'no'} | "
            f"{seconds:.0f} | {last['train_loss']:.2f} | {'-' if held_out is None else f'{held_out:.2f}'} |"
        )
    return "\n".join(rows) + "\n"


# --- throughput ---------------------------------------------------------------------------------


def _throughput(path: str, targets: bool) -> str:
    """A `bench/throughput.py` report; `targets`: the project's CPU targets (5x prediction, 50x tokenization)."""
    report = _json(path)
    predict, compiled, tokens = report["predict"], report.get("compiled"), report["tokenization"]
    peak = predict["measured_matmul_peak_gflop_per_s"]

    def target(ratio: float, goal: float) -> str:
        return f"{goal:g}x: {'met' if ratio >= goal else '**not met**'}"

    table = [  # what, this package, the usual way, ratio, target
        [
            "ensemble prediction, sequences/s",
            f"{predict['package_seq_per_s']:,.1f} (bf16 weights)",
            f"{predict['naive_seq_per_s']:,.1f}",
            f"{predict['speedup']:.2f}x",
            target(predict["speedup"], 5),
        ]
    ]
    if compiled:
        table.append(
            [
                "the same with `--compile`",
                f"{compiled['seq_per_s']:,.1f} after a {compiled['first_pass_s']:.0f} s first pass",
                f"{predict['naive_seq_per_s']:,.1f}",
                f"{compiled['over_naive']:.2f}x ({compiled['over_eager']:.2f}x eager)",
                target(compiled["over_naive"], 5),
            ]
        )
    same = "identical labels" if predict["labels_identical"] else "**labels differ**"
    table += [
        [
            "fp32 weights under bf16 autocast, sequences/s",
            f"{predict['autocast_seq_per_s']:,.1f}",
            "",
            f"bf16 weights: {predict['bf16_weights_over_autocast']:.2f}x this",
            "",
        ],
        [
            "same labels? largest probability difference",
            f"{same}; {predict['max_probability_difference']:.1e}",
            "",
            "",
            "identical",
        ],
        [
            f"tokenization of {tokens['sequences']:,} sequences, every k",
            f"{tokens['package_s']:.3f} s",
            f"{tokens['naive_s']:.1f} s",
            f"{tokens['speedup']:.0f}x",
            target(tokens["speedup"], 50),
        ],
        [
            "prediction, GFLOP/s",
            f"{predict['package_gflop_per_s']:,.0f} ({predict['fraction_of_matmul_peak']:.1%} of the measured bf16 matrix "
            f"peak, {peak['bf16']:,.0f}; fp32 peak {peak['fp32']:,.0f})",
            "",
            "",
            "",
        ],
    ]
    columns = ["what", "this package", "the usual way", "ratio", "target"][: 5 if targets else 4]
    rows = [
        f"`{path}`: {report['device']}, {report['torch_threads']} threads, {report['sequences']:,} sequences, batch {report['batch_size']}.",
        "",
    ]
    rows += _header(*columns)
    rows += ["| " + " | ".join(cells[: len(columns)]) + " |" for cells in table]
    scan = report.get("scan")
    if scan:
        rows += [
            "",
            f"Scans, window {scan['window']}, stride {scan['stride']} (process start and model load included):",
            "",
        ]
        rows += _header("compiled", "Mbp", "seconds", "bp/s", "peak memory, MiB")
        for run in scan["runs"]:
            rows.append(
                f"| {'yes' if run['compiled'] else 'no'} | {run['bp'] / 1e6:g} | {run['seconds']:.1f} | {run['bp_per_s']:,.0f} | {run['peak_mib']:,.0f} |"
            )
        if len({run["bp"] for run in scan["runs"]}) > 1:
            ratio = scan["memory_ratio_largest_to_smallest"]
            rows += ["", f"Peak memory, largest input over smallest: {ratio:.2f} (target: flat within 10%)."]
    return "\n".join(rows) + "\n"


def throughput_cpu() -> str:
    return _throughput("bench/results.json", targets=True)


def throughput_gpu() -> str:
    return _throughput("bench/results-gpu.json", targets=False)


GENOME_BP = 3.1e9  # a human genome, rounded


def genome_estimates() -> str:
    """Hours for a whole genome at stride 50 (4x the windows of stride 200), from the benchmark's scan rates."""
    cpu, gpu = _json("bench/results.json"), _json("bench/results-gpu.json")
    rows = _header("machine (report)", "scan", "bp/s measured", "at stride", "whole genome at stride 50, hours")

    def add(report: dict, path: str, label: str, bp_per_s: float, stride: int) -> None:
        hours = GENOME_BP / bp_per_s * (stride / 50) / 3600
        rows.append(f"| {report['device']} (`{path}`) | {label} | {bp_per_s:,.0f} | {stride} | {hours:,.1f} |")

    for report, path in ((cpu, "bench/results.json"), (gpu, "bench/results-gpu.json")):
        scan = report["scan"]
        for compiled in (False, True):
            runs = [run for run in scan["runs"] if run["compiled"] == compiled]
            sizes = sorted({run["bp"] for run in runs})
            if len(sizes) > 1:  # the rate between two input sizes: start-up and compiling cancel
                small, large = ([run["seconds"] for run in runs if run["bp"] == bp] for bp in (sizes[0], sizes[-1]))
                rate = (sizes[-1] - sizes[0]) / (sum(large) / len(large) - sum(small) / len(small))
                label = f"{'compiled' if compiled else 'eager'}, steady state ({sizes[0] / 1e6:g} to {sizes[-1] / 1e6:g} Mbp)"
            elif runs:
                rate = sum(run["bp_per_s"] for run in runs) / len(runs)
                label = f"{'compiled' if compiled else 'eager'}, {sizes[0] / 1e6:g} Mbp, start-up included"
            else:
                continue
            add(report, path, label, rate, scan["stride"])
    return "\n".join(rows) + "\n"


def compile_modes() -> str:
    report = _json("bench/compile-modes.json")
    rows = [
        f"One k = {report['k']} member, batch {report['batch'][0]} x {report['batch'][1]} tokens, {report['dtype']}, torch {report['torch']}, {report['torch_threads']} threads; median of three rounds.",
        "",
    ]
    rows += _header("mode", "ms per batch", "eager over mode", "first call, s")
    for mode, ms in report["ms_per_batch_median"].items():
        ratio = report["eager_over_mode"].get(mode)
        first = report["first_call_s"].get(mode)
        rows.append(
            f"| {mode} | {ms:.1f} | {'-' if ratio is None else f'{ratio:.2f}x'} | {'-' if first is None else f'{first:.1f}'} |"
        )
    return "\n".join(rows) + "\n"


def spectrum_cost() -> str:
    """The shipped layer-1 model with and without its spectrum member (`bench/spectrum_cost.py`)."""
    report = _json("bench/spectrum-cost.json")
    rows = _header("model", "sequences/s (median)")
    rows += [f"| {name} | {value:.1f} |" for name, value in report["sequences_per_second_median"].items()]
    return "\n".join(rows) + (
        f"\n\n{report['sequences']} test sequences, `predict_records`, {report['dtype']}, {report['torch_threads']} "
        f"threads of an {report['cpu']}, torch {report['torch']}; without over with: {report['without_over_with']:.2f}.\n"
    )


def allocator() -> str:
    rows = _header(
        "report",
        "glibc keeps freed memory",
        "bf16 weights, sequences/s",
        "fp32 weights under bf16 autocast, sequences/s",
        "ratio to the usual way",
    )
    for path in sorted((REPO / "bench" / "allocator").glob("*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        predict = report["predict"]
        rows.append(
            f"| `{path.relative_to(REPO)}` | {'yes' if report['glibc_keeps_freed_memory'] else 'no'} | {predict['package_seq_per_s']:.1f} | "
            f"{predict['autocast_seq_per_s']:.1f} | {predict['speedup']:.2f}x |"
        )
    return "\n".join(rows) + "\n"


# --- motifs ------------------------------------------------------------------------------------


def motifs() -> str:
    """The motif run's own report (`ienhancer-elm motifs` writes report.md and motifs.tsv, no JSON), logos relinked."""
    folder = "results/motifs-layer1"
    report = (REPO / folder / "report.md").read_text(encoding="utf-8")
    body = report.split("\n", 1)[1].strip()  # drop the report's own title
    with open(REPO / folder / "motifs.tsv", encoding="utf-8", newline="") as handle:
        count = sum(1 for _ in csv.DictReader(handle, delimiter="\t"))
    body = body.replace("](logos/", f"](../{folder}/logos/")
    return f"From `{folder}/report.md` ({count} row(s) in `{folder}/motifs.tsv`):\n\n{body}\n"


def calibration() -> str:
    """The shipped models' calibration on their held-out fold (`training/calibrate_shipped.py`)."""
    rows = _header("model", "held-out sequences", "threshold on the mean", "slope", "log loss", "Brier score")
    for layer in ("layer1", "layer2"):
        fitted = _json(f"models/ienhancer-elm-{layer}/cv_results.json")["calibration"]
        rows.append(
            f"| {layer} | {fitted['held_out']} | {fitted['threshold']} | {fitted['slope']:.3f} | "
            f"{fitted['log_loss']['slope 1']:.4f} -> {fitted['log_loss']['fitted']:.4f} | "
            f"{fitted['brier']['slope 1']:.4f} -> {fitted['brier']['fitted']:.4f} |"
        )
    return "\n".join(rows) + "\n"


def heads() -> str:
    """The head variants tried on frozen encoder features (`training/refit_heads.py`), on the held-out fold."""
    rows = _header("layer", "heads", "held-out AUC", "largest modal share", "Tanh units saturated (hg38 windows)")
    for layer in ("layer1", "layer2"):
        report = _json(f"results/experiments/heads-{layer}.json")
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
    rows = _header("layer", "ensemble AUC", "baseline AUC", "difference [95% interval]", "baseline")
    for layer in ("layer1", "layer2"):
        found = _json(f"results/experiments/heads-{layer}.json")["versus_baseline"]
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
        "layer1": _json("results/experiments/heads-layer1.json"),
        "layer2": _json("results/experiments/heads-layer2.json"),
        "NHLF": _json("results/experiments/heads-nhlf.json"),
    }
    first = next(iter(reports.values()))["spectrum"]["candidates"]
    shares = [("none" if c["share"] == 0 else f"{c['share']:.0%}") for c in first]
    rows = _header("model", "held-out n", "spectrum member alone", *[f"share {s}" for s in shares])
    for name, report in reports.items():
        spectrum = report["spectrum"]
        n = report["held_out"]["n"] if isinstance(report["held_out"], dict) else report["held_out"].split("n = ")[1]
        cells = [
            f"**{c['held_out_auc']:.4f}**" if c == spectrum["chosen"] else f"{c['held_out_auc']:.4f}"
            for c in spectrum["candidates"]
        ]
        rows.append(f"| {name} | {n} | {spectrum['spectrum_alone_held_out_auc']:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n\nHeld-out AUC of the ensemble; the chosen share in bold.\n"


def score_ties() -> str:
    """The share of the most common score (`docs/score_ties.py`), the largest over ensemble and members."""
    report = _json("results/score-ties.json")
    rows = _header(
        "layer",
        "precision",
        "hg38 windows",
        "random sequences",
        "fold 0 of the training split",
        "ensemble alone, largest",
    )
    for layer, per_precision in report["layers"].items():
        for precision, probes in per_precision.items():
            label = precision + (" (bf16 here)" if precision == "auto" and report["auto_is_bf16"] else "")
            cells = [f"{max(v for key, v in found.items() if key != 'n'):.2%}" for found in probes.values()]
            ensemble = max(found["ensemble"] for found in probes.values())
            rows.append(f"| {layer} | {label} | " + " | ".join(cells) + f" | {ensemble:.2%} |")
    return "\n".join(rows) + "\n"


def background_calibration() -> str:
    """Called shares at nominal background rates on held-out genome and random DNA (`docs/background_calibration.py`)."""
    report = _json("results/background-calibration-layer1.json")
    rows = _header(
        "nominal rate",
        f"held-out genome ({report['held_out_windows']:,} windows), {report['gc_strata']} GC strata",
        f"95% interval, {report['held_out_contigs']} contigs resampled",
        "the same, one pooled background",
        f"random sequences ({report['random_sequences']:,})",
    )
    for rate, share in report["called_share_held_out"].items():
        pooled = report["called_share_held_out_pooled"][rate]
        low, high = (bound / float(rate) for bound in report["called_share_held_out_ci95"][rate])
        rows.append(
            f"| {float(rate):g} | {share:.4f} ({share / float(rate):.2f}x) | {low:.2f}x to {high:.2f}x "
            f"| {pooled:.4f} ({pooled / float(rate):.2f}x) "
            f"| {report['called_share_random'][rate]:.3f} |"
        )
    rows.append("")
    rows.append(
        f"Background: {report['background_windows']:,} windows of {', '.join(f'`{p}`' for p in report['background_pieces'])} "
        f"(mean GC {report['background_mean_gc']:.3f}; the model's score correlates with GC at "
        f"{report['score_gc_correlation']:.2f} there), scored in "
        f"{_json(report['model'] + '/background.json')['model']['precision']}; held out: `{report['held_out_piece']}` "
        f"(mean GC {report['held_out_mean_gc']:.3f}), scanned in {report['held_out_scan_precision']}."
    )
    return "\n".join(rows) + "\n"


def strata_choice() -> str:
    """How many GC strata: each background piece left out in turn (`docs/background_calibration.py`)."""
    report = _json("results/background-calibration-layer1.json")["strata_choice"]
    pieces = list(next(iter(report["candidates"].values()))["called_share"])
    rows = _header("GC strata", *(f"`{piece}` left out, at 0.01 / 0.05" for piece in pieces), "worst abs log2 ratio")
    for strata, row in report["candidates"].items():
        cells = [
            " / ".join(f"{share / float(rate):.2f}x" for rate, share in row["called_share"][piece].items())
            for piece in pieces
        ]
        rows.append(f"| {strata} | " + " | ".join(cells) + f" | {row['worst_abs_log2_ratio']:.2f} |")
    rows.append("")
    rows.append(f"Chosen: {report['chosen']} strata.")
    return "\n".join(rows) + "\n"


def genome_negatives() -> str:
    """Heads with and without genome windows as negatives, on held-out data (`training/genome_negative_heads.py`)."""
    report = _json("results/experiments/genome-negative-heads.json")
    rows = _header("heads", "(a) held-out enhancers vs held-out genome, AUC", "(b) held-out fold, AUC")
    for name, found in report["results"].items():
        # both rows are heads refitted here, on an older release's encoders
        name = name.replace("heads as shipped", "heads, shipped settings")
        rows.append(f"| {name} | {found['enhancers_vs_held_out_genome_auc']:.4f} | {found['held_out_fold_auc']:.4f} |")
    rows.append("")
    rows.append(
        f"Gain on (a) {report['gain_a']:+.4f}, loss on (b) {report['loss_b']:+.4f}: "
        + ("ships." if report["ships"] else "does not ship.")
        + f" ({report['held_out_enhancers']} enhancers, {report['held_out_genome_windows']:,} genome windows.)"
    )
    return "\n".join(rows) + "\n"


def genome_negative_members() -> str:
    """Members fine-tuned with and without genome negatives, on held-out data
    (`training/genome_negative_members.py`)."""
    report = _json("results/experiments/genome-negative-members.json")
    members = [f"k{k}" for k in report["members"]]
    measures = {
        "(a) AUC vs held-out genome": lambda found: f"{found['enhancers_vs_held_out_genome_auc']:.4f}",
        "(b) AUC on held-out fold": lambda found: f"{found['held_out_fold_auc']:.4f}",
        "epoch chosen on fold 0": lambda found: str(found.get("best_epoch", "")),
        "epochs run x median seconds each": _epochs_run,
    }
    # the report's "mean of the members" is the AUC of the members' mean probability, the soft vote
    columns = [*members, "mean of the members"]
    rows = _header("members fine-tuned", "measure", *members, "soft vote")
    fine_tunes = {found[member]["hardware"] for found in report["results"].values() for member in members}
    recipe = "the shipped recipe, run again" + (" in fp32" if all("precision no" in h for h in fine_tunes) else "")
    for variant, found in report["results"].items():
        variant = variant.replace("as shipped", recipe)  # not the shipped weights
        for measure, cell in measures.items():
            cells = [cell(found[column]) for column in columns]
            rows.append(f"| {variant} | {measure} | " + " | ".join(cells) + " |")
    plain, with_genome = report["results"][PLAIN], report["results"][WITH_GENOME]
    for measure, key in [("(a)", "enhancers_vs_held_out_genome_auc"), ("(b)", "held_out_fold_auc")]:
        changes = [with_genome[column][key] - plain[column][key] for column in columns]
        rows.append(f"| change with genome negatives | {measure} | " + " | ".join(f"{c:+.4f}" for c in changes) + " |")
    rows.append("")
    pretraining = [
        f"{member} {plain[member]['pretraining_seconds'] / 60:.0f} min"
        if "pretraining_seconds" in plain[member]
        else f"{member} not recorded"
        for member in members
    ]
    pretrained_on = {
        plain[member]["pretraining_hardware"] for member in members if "pretraining_hardware" in plain[member]
    }
    rows.append(
        "Epoch times from the runs' logs, evaluation included (blank: the runs were not kept; a run resumed "
        f"mid-epoch logs only the time since the resume); pretraining: {', '.join(pretraining)}. "
        f"Fine-tunes on {'; '.join(sorted(fine_tunes))}"
        + (f"; pretraining on {'; '.join(sorted(pretrained_on))}." if pretrained_on else ".")
    )
    rows.append("")
    (low_a, high_a), (low_b, high_b) = report["gain_a_ci95"], report["loss_b_ci95"]
    outcome = {True: "ships.", False: "does not ship.", None: "provisional, as the rule decides on all four members."}
    rows.append(
        f"Soft vote: gain on (a) {report['gain_a']:+.4f} [{low_a:+.4f}, {high_a:+.4f}], loss on (b) "
        f"{report['loss_b']:+.4f} [{low_b:+.4f}, {high_b:+.4f}] (95% paired bootstrap, chr21 resampled by contig): "
        f"{outcome[report['ships']]} ({report['held_out_enhancers']} enhancers, "
        f"{report['held_out_genome_windows']:,} genome windows from {report['held_out_genome_contigs']} contigs.)"
    )
    return "\n".join(rows) + "\n"


def _epochs_run(found: dict) -> str:
    # the median, as an epoch that shared the cores with other work should not set the figure
    seconds = found.get("epoch_seconds")
    return f"{len(seconds)} x {statistics.median(seconds):.0f}" if seconds else ""


def quickstart() -> str:
    """The quick try's time and its small model's held-out figures (`results/quickstart.json`)."""
    report = _json("results/quickstart.json")
    held_out = report["held_out"]
    minutes, seconds = divmod(round(report["wall_seconds"]), 60)
    return (
        f"`{report['command']}` took {minutes} min {seconds} s on {report['machine']}; the one small member "
        f"reached a held-out AUC of {held_out['AUC_ROC']:.3f} (ACC {held_out['ACC']:.3f}) on the {held_out['n']} "
        "training sequences it did not train on.\n"
    )


def scan_statistics() -> str:
    """What the shipped layer-1 model calls in the hg38 slice and in random DNA (`docs/scan_statistics.py`)."""
    report = _json("results/scan-statistics-layer1.json")
    scored, called = report["windows_scored"], report["windows_called"]
    by_rate = report["windows_background_p_at_most_0.01"]
    rows = _header("input", "scored", "called at `--threshold 0.5`", "called at `--background-rate 0.01` (default)")
    rows.append(
        f"| `{report['genome']}`, windows of {report['window']} bp at stride {report['stride']} | {scored:,} | "
        f"{called:,} ({called / scored:.0%}) | {by_rate:,} ({by_rate / scored:.1%}) |"
    )
    random_called = report["random_called_enhancer"]
    rows.append(
        f"| random 200 bp sequences (seed 0) | {report['random_sequences']} | {random_called} "
        f"({random_called / report['random_sequences']:.0%}) | not measured here (the calibration table below) |"
    )
    rows.append("")
    rows.append(
        f"At the threshold the called windows merge into {report['regions']:,} regions covering "
        f"{report['region_bases']:,} bases."
        + (
            " The slice is one of the background's pieces, so its share at the rate is about the rate by"
            " construction; the held-out check is the calibration table below."
            if report["genome_in_background"]
            else ""
        )
    )
    return "\n".join(rows) + "\n"


def nhlf_results() -> str:
    """The NHLF model, the k-mer baseline and the paper's anchors on the NHLF test split."""
    names = ("BACC", "MCC", "Sn", "Sp", "AUC_ROC", "AUC_PR", "ACC")  # balanced accuracy first: the split is 1:2
    rows = _header("model", "rows", "n", *names)
    for label, path in (("shipped NHLF ensemble", "ienhancer-elm-nhlf"), ("k-mer baseline", "baseline-nhlf")):
        report = _json(f"results/{path}-test.json")
        figures = report["results"]["all"]
        rows.append(
            f"| {label} | all | {figures['n']} | " + " | ".join(model_card._figure(figures[m]) for m in names) + " |"
        )
    for label, figures in PAPER_NHLF.items():
        cells = [f"{figures[m]:.3f}" if m in figures else "not reported" for m in names]
        rows.append(f"| {label} | all | 2364 | " + " | ".join(cells) + " |")
    difference = _json("results/ienhancer-elm-nhlf-test.json")["difference"]["results"]["all"]
    paired = ", ".join(
        f"{m} {difference[m]['value']:+.3f} [{difference[m]['ci95'][0]:+.3f}, {difference[m]['ci95'][1]:+.3f}]"
        for m in ("BACC", "MCC", "AUC_ROC")
    )
    return "\n".join(rows) + f"\n\nEnsemble minus k-mer baseline, paired bootstrap: {paired}.\n"


def nhlf_training() -> str:
    """The shipped NHLF model's held-out figures, threshold and calibration, as its model card prints them."""
    cv = json.loads((TRAINED / "ienhancer-elm-nhlf" / "cv_results.json").read_text(encoding="utf-8"))
    return model_card.cv_section(cv)


NHLF_FINETUNING = {  # the k = 3 fine-tuning runs tried on NHLF's held-out fold, in the order they ran
    "nhlf-random-window-k3.json": "one random 200 bp window per sequence, fresh head",
    "nhlf-fresh-head-k3.json": "whole sequences in windows (states), fresh head",
    "nhlf-started-head-dropout-k3.json": "whole sequences, head started from the frozen fit, head dropout 0.3",
    "nhlf-started-head-k3.json": "whole sequences, head started from the frozen fit, no head dropout",
}


def nhlf_finetuning() -> str:
    """Held-out AUC per epoch of each k = 3 NHLF fine-tuning run, next to the frozen encoder's."""
    rows = _header("k = 3 member fine-tuned on NHLF", "held-out AUC by epoch", "record")
    for name, label in NHLF_FINETUNING.items():
        epochs = _json(f"results/experiments/{name}")["epochs"]
        aucs = ", ".join(f"{row['valid_auc']:.3f}" for row in epochs)
        rows.append(f"| {label} | {aucs} | `results/experiments/{name}` |")
    variants = _json("results/experiments/heads-nhlf.json")["variants"]
    # the heads the runs started from (`nhlf_heads.py --write-heads`): the best stride-200 "states" variant
    start = max(
        (v for v in variants if (v["stride"], v["combination"]) == (200, "states")),
        key=lambda v: v["held_out_auc"]["ensemble"],
    )
    return "\n".join(rows) + (
        "\n\nThe starting point, the frozen encoder with the head fitted on its windows' mean state (stride 200), "
        f"has held-out AUC {start['held_out_auc']['k3']:.3f} for k = 3.\n"
    )


def nhlf_heads() -> str:
    """Every variant of `training/nhlf_heads.py` on the held-out NHLF fold, and the baseline there."""
    report = _json("results/experiments/heads-nhlf.json")
    rows = _header("stride (bp)", "combination", "weight decay", "label smoothing", "held-out AUC")
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


def nhlf_length_leak() -> str:
    """Length alone, and the NHLF model on whole sequences versus their central 400 bp (test split)."""
    report = _json("results/nhlf-length-leak.json")
    rows = _header("classifier (test split)", "AUC", "BACC", "MCC")
    for name, figures in report["length_alone"].items():
        label = {"last_digit_of_length": "length's last digit alone", "length": "length alone"}[name]
        rows.append(
            f"| {label} | " + " | ".join(model_card._figure(figures[m]) for m in ("AUC_ROC", "BACC", "MCC")) + " |"
        )
    central = report["model_on_central"]
    rows.append(
        "| NHLF model, central 400 bp of each sequence | "
        + " | ".join(model_card._figure(central[m]) for m in ("AUC_ROC", "BACC", "MCC"))
        + " |"
    )
    rows.append("")
    rows += _header("model", "AUC, whole sequences", "AUC, central 400 bp", "whole minus central")
    for label, auc in (
        ("NHLF ensemble", report["model_auc"]),
        ("k-mer baseline (sees no length)", report["baseline_auc"]),
    ):
        rows.append(
            f"| {label} | {model_card._figure(auc['whole_sequences'])} | {model_card._figure(auc['central_400_bp'])} | "
            f"{auc['whole_minus_central']:+.3f} |"
        )
    return "\n".join(rows) + "\n"


RENDERERS = {
    "results": readme_results,
    "test-reports": test_reports,
    "baseline": baseline,
    "heldout-layer1": heldout_layer1,
    "heldout-layer2": heldout_layer2,
    "training-layer1": training_layer1,
    "training-layer2": training_layer2,
    "experiments": experiments,
    "pretraining-loss": pretraining_loss,
    "throughput-cpu": throughput_cpu,
    "throughput-gpu": throughput_gpu,
    "genome-estimates": genome_estimates,
    "compile-modes": compile_modes,
    "allocator": allocator,
    "spectrum-cost": spectrum_cost,
    "motifs": motifs,
    "scan-statistics": scan_statistics,
    "calibration": calibration,
    "heads": heads,
    "heads-versus-baseline": heads_versus_baseline,
    "score-ties": score_ties,
    "spectrum-member": spectrum_member,
    "background-calibration": background_calibration,
    "strata-choice": strata_choice,
    "genome-negatives": genome_negatives,
    "genome-negative-members": genome_negative_members,
    "quickstart": quickstart,
    "nhlf-results": nhlf_results,
    "nhlf-training": nhlf_training,
    "nhlf-heads": nhlf_heads,
    "nhlf-finetuning": nhlf_finetuning,
    "nhlf-length-leak": nhlf_length_leak,
}


def render(text: str, page: Path) -> tuple[str, list[str]]:
    """The page with every block re-rendered, and the names of blocks that changed."""
    changed = []

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in RENDERERS:
            raise SystemExit(
                f"{page.relative_to(REPO)}: unknown figures block {name!r} (known: {', '.join(RENDERERS)})"
            )
        body = RENDERERS[name]()
        if body != match["body"]:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(replace, text), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block differs from its files")
    args = parser.parse_args(argv)
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        new, changed = render(text, page)
        stale += [f"{page.relative_to(REPO)}: {name}" for name in changed]
        if changed and not args.check:
            page.write_text(new, encoding="utf-8")
    if stale and args.check:
        print(
            "figures differ from their files (run `python docs/figures.py`):\n  " + "\n  ".join(stale), file=sys.stderr
        )
        return 1
    if stale:
        print("re-rendered:\n  " + "\n  ".join(stale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
