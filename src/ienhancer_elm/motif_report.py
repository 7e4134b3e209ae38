"""Writing motif results: MEME file, TSV table, sequence logos and a Markdown report."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .motifs import BASES, Motif


def write_meme(motifs: list[Motif], path: Path) -> None:
    from memelite.io import write_meme as memelite_write_meme

    memelite_write_meme(str(path), {motif.id: motif.probabilities for motif in motifs})


def write_table(motifs: list[Motif], path: Path, match_q: float) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(
            [
                "id",
                "consensus",
                "instances",
                "enrichment_p",
                "enrichment_q",
                "best_jaspar_id",
                "best_jaspar_name",
                "tomtom_p",
                "tomtom_q",
                "matched",
            ]
        )
        for motif in motifs:
            best = motif.matches[0] if motif.matches else {"id": "", "name": "", "p": np.nan, "q": np.nan}
            writer.writerow(
                [
                    motif.id,
                    motif.consensus,
                    motif.instances,
                    f"{motif.p_value:.3g}",
                    f"{motif.q_value:.3g}",
                    best["id"],
                    best["name"],
                    f"{best['p']:.3g}",
                    f"{best['q']:.3g}",
                    best["q"] < match_q,
                ]
            )


def draw_logo(motif: Motif, path: Path) -> None:
    import logomaker
    import pandas as pd

    from .figures import new_figure

    probabilities = motif.probabilities
    information = 2 + (probabilities * np.log2(probabilities)).sum(axis=0)
    heights = pd.DataFrame((probabilities * information).T, columns=list(BASES))
    figure = new_figure(figsize=(max(3, 0.45 * probabilities.shape[1]), 2))
    axis = figure.subplots()
    logomaker.Logo(heights, ax=axis, color_scheme="classic")
    axis.set_ylabel("bits")
    axis.set_ylim(0, 2)
    axis.set_title(f"{motif.id} ({motif.instances} sequences)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_report(motifs: list[Motif], folder: Path, summary: dict, match_q: float) -> None:
    matched = sum(1 for m in motifs if m.matches and m.matches[0]["q"] < match_q)
    from_attributions = str(summary.get("method", "")).startswith("attribution")
    lines = [
        f"# Motifs from {'attributions' if from_attributions else 'attention'}",
        "",
        f"{len(motifs)} motif(s); {matched} match a JASPAR CORE vertebrate motif (TOMTOM q < {match_q}).",
        "",
        "Run: " + ", ".join(f"{key} = {value}" for key, value in summary.items()),
        "",
    ]
    if from_attributions:
        lines += [
            "Attribution motifs are TF-MoDISco patterns: `sequences` is a pattern's support (the seqlets it groups), "
            "in place of the attention method's seed enrichment, which has no counterpart here. `pos_` patterns "
            "raise the enhancer call, `neg_` patterns lower it.",
            "",
        ]
    lines += [
        "| motif | logo | consensus | sequences | enrichment q | best JASPAR match | TOMTOM q |",
        "|---|---|---|---|---|---|---|",
    ]
    for motif in motifs:
        best = motif.matches[0] if motif.matches else {"id": "", "name": "", "q": float("nan")}
        enrichment = "" if np.isnan(motif.q_value) else f"{motif.q_value:.2g}"
        lines.append(
            f"| {motif.id} | ![{motif.id}](logos/{motif.id}.png) | `{motif.consensus}` | {motif.instances} | "
            f"{enrichment} | {best['id']} {best['name']} | {best['q']:.2g} |"
        )
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_all(motifs: list[Motif], folder: Path, summary: dict, match_q: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logos").mkdir(exist_ok=True)
    write_meme(motifs, folder / "motifs.meme")
    write_table(motifs, folder / "motifs.tsv", match_q)
    for motif in motifs:
        draw_logo(motif, folder / "logos" / f"{motif.id}.png")
    write_report(motifs, folder, summary, match_q)
    write_summary(motifs, folder / "motifs.json", summary, match_q)


def write_summary(motifs: list[Motif], path: Path, summary: dict, match_q: float) -> None:
    """The counts (found, matched) and each motif's best JASPAR match, for figures and comparisons."""
    import json

    def best(motif: Motif) -> dict | None:
        return motif.matches[0] if motif.matches else None

    rows = [
        {
            "id": m.id,
            "consensus": m.consensus,
            "sequences": m.instances,
            "best_match": best(m),
            "matched": bool(m.matches and m.matches[0]["q"] < match_q),
            "top_matches": m.matches,
        }
        for m in motifs
    ]
    report = {
        "found": len(motifs),
        "matched": sum(row["matched"] for row in rows),
        "match_q": match_q,
        "run": {key: str(value) for key, value in summary.items()},
        "motifs": rows,
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
