"""The table of docs/scanning.md on what the shipped layer-1 model calls in genome and in random DNA, from
scan-statistics-layer1.json (scan_statistics.py)."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

REPORT = Path(__file__).resolve().parent / "scan-statistics-layer1.json"


def scan_statistics() -> str:
    """What the shipped layer-1 model calls in the hg38 slice and in random DNA."""
    report = read_json(REPORT)
    scored, called = report["windows_scored"], report["windows_called"]
    by_rate = report["windows_background_p_at_most_0.01"]
    rows = header("input", "scored", "called at `--threshold 0.5`", "called at `--background-rate 0.01` (default)")
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


RENDERERS = {"scan-statistics": scan_statistics}
