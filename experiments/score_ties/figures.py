"""The score-ties table of docs/experiments.md, from score-ties.json (score_ties.py)."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

REPORT = Path(__file__).resolve().parent / "score-ties.json"


def score_ties() -> str:
    """The share of the most common score, the largest over ensemble and members."""
    report = read_json(REPORT)
    rows = header(
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


RENDERERS = {"score-ties": score_ties}
