"""The genome-negative tables of docs/experiments.md, from this folder's two reports."""

from __future__ import annotations

import statistics
from pathlib import Path

from genome_check import PLAIN, WITH_GENOME
from table_helpers import header, read_json

HERE = Path(__file__).resolve().parent


def genome_negatives() -> str:
    """Heads with and without genome windows as negatives, on held-out data (genome_negative_heads.py)."""
    report = read_json(HERE / "genome-negative-heads.json")
    rows = header("heads", "(a) held-out enhancers vs held-out genome, AUC", "(b) held-out fold, AUC")
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
    """Members fine-tuned with and without genome negatives, on held-out data (genome_negative_members.py)."""
    report = read_json(HERE / "genome-negative-members.json")
    members = [f"k{k}" for k in report["members"]]
    measures = {
        "(a) AUC vs held-out genome": lambda found: f"{found['enhancers_vs_held_out_genome_auc']:.4f}",
        "(b) AUC on held-out fold": lambda found: f"{found['held_out_fold_auc']:.4f}",
        "epoch chosen on fold 0": lambda found: str(found.get("best_epoch", "")),
        "epochs run x median seconds each": epochs_run,
    }
    # the report's "mean of the members" is the AUC of the members' mean probability, the soft vote
    columns = [*members, "mean of the members"]
    rows = header("members fine-tuned", "measure", *members, "soft vote")
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


def epochs_run(found: dict) -> str:
    # the median, as an epoch that shared the cores with other work should not set the figure
    seconds = found.get("epoch_seconds")
    return f"{len(seconds)} x {statistics.median(seconds):.0f}" if seconds else ""


RENDERERS = {"genome-negatives": genome_negatives, "genome-negative-members": genome_negative_members}
