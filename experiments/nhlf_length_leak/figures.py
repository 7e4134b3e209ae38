"""The NHLF length leak in docs/nhlf.md: length alone, and the NHLF model on whole sequences versus their central
400 bp (test split), from nhlf-length-leak.json."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

from ienhancer_elm.release.model_card import figure_cell

REPORT = Path(__file__).resolve().parent / "nhlf-length-leak.json"
SHOWN = ("AUC_ROC", "BACC", "MCC")


def nhlf_length_leak() -> str:
    report = read_json(REPORT)
    rows = header("classifier (test split)", "AUC", "BACC", "MCC")
    for name, figures in report["length_alone"].items():
        label = {"last_digit_of_length": "length's last digit alone", "length": "length alone"}[name]
        rows.append(f"| {label} | " + " | ".join(figure_cell(figures[m]) for m in SHOWN) + " |")
    central = report["model_on_central"]
    rows.append(
        "| NHLF model, central 400 bp of each sequence | " + " | ".join(figure_cell(central[m]) for m in SHOWN) + " |"
    )
    rows.append("")
    rows += header("model", "AUC, whole sequences", "AUC, central 400 bp", "whole minus central")
    for label, auc in (
        ("NHLF ensemble", report["model_auc"]),
        ("k-mer baseline (sees no length)", report["baseline_auc"]),
    ):
        rows.append(
            f"| {label} | {figure_cell(auc['whole_sequences'])} | {figure_cell(auc['central_400_bp'])} | "
            f"{auc['whole_minus_central']:+.3f} |"
        )
    return "\n".join(rows) + "\n"


RENDERERS = {"nhlf-length-leak": nhlf_length_leak}
