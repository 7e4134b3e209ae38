"""The attribution figures: first-order against exact ISM, and how much of either is GC (attributions.json)."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

HERE = Path(__file__).resolve().parent


def _spread(figures: dict) -> str:
    low, high = figures["quartiles"]
    return f"{figures['median']:.2f} [{low:.2f}, {high:.2f}] ({figures['min']:.2f} to {figures['max']:.2f})"


def attribution_agreement() -> str:
    """Per score: the per-sequence correlation of first-order with ISM, and each method's correlation with GC."""
    report = read_json(HERE / "attributions.json")
    rows = header(
        "scores of",
        "first-order vs ISM: r",
        "r with GC change, first-order",
        "r with GC change, ISM",
    )
    for name, agreement in report["agreement_first_order_vs_ism"].items():
        fast, exact = report["gc_first_order"][name], report["gc_ism"][name]
        rows.append(
            f"| {name} | {_spread(agreement)} | {_spread(fast['r_with_gc_change'])} | {_spread(exact['r_with_gc_change'])} |"
        )
    note = (
        f"Median [quartiles] (range) over sequences. {report['sequences']}; `{report['command']}` "
        f"({report['seconds']['first_order']} s first-order, {report['seconds']['ism']} s ISM on 2 shared cores)."
    )
    return "\n".join(rows) + "\n\n" + note + "\n"


RENDERERS = {"attribution-agreement": attribution_agreement}
