"""The calibration tables of docs/scanning.md and the README, from background-calibration-layer1.json."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

REPORT = Path(__file__).resolve().parent / "background-calibration-layer1.json"


def background_calibration() -> str:
    """Called shares at nominal background rates on held-out genome and random DNA (background_calibration.py)."""
    report = read_json(REPORT)
    rows = header(
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
        f"{read_json(report['model'] + '/background.json')['model']['precision']}; held out: `{report['held_out_piece']}` "
        f"(mean GC {report['held_out_mean_gc']:.3f}), scanned in {report['held_out_scan_precision']}."
    )
    return "\n".join(rows) + "\n"


def strata_choice() -> str:
    """How many GC strata: each background piece left out in turn (background_calibration.py)."""
    report = read_json(REPORT)["strata_choice"]
    pieces = list(next(iter(report["candidates"].values()))["called_share"])
    rows = header("GC strata", *(f"`{piece}` left out, at 0.01 / 0.05" for piece in pieces), "worst abs log2 ratio")
    for strata, row in report["candidates"].items():
        cells = [
            " / ".join(f"{share / float(rate):.2f}x" for rate, share in row["called_share"][piece].items())
            for piece in pieces
        ]
        rows.append(f"| {strata} | " + " | ".join(cells) + f" | {row['worst_abs_log2_ratio']:.2f} |")
    rows.append("")
    rows.append(f"Chosen: {report['chosen']} strata.")
    return "\n".join(rows) + "\n"


RENDERERS = {"background-calibration": background_calibration, "strata-choice": strata_choice}
