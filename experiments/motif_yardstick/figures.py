"""The JASPAR yardstick (yardstick.json): enrichment in enhancers, with and without GC matching, and where the
model's motifs fall."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

HERE = Path(__file__).resolve().parent
LISTS = {
    "against_all_non_enhancers": "all non-enhancers",
    "against_gc_matched_non_enhancers": "GC-matched non-enhancers",
}


def motif_yardstick() -> str:
    report = read_json(HERE / "yardstick.json")
    rows = header("enhancers against", "enriched JASPAR motifs (BH q < 0.05)", "the ten strongest")
    for key, label in LISTS.items():
        found = report["lists"][key]
        strongest = ", ".join(m["name"] for m in found["motifs"][:10]) or "none"
        rows.append(f"| {label} | {found['enriched']} | {strongest} |")
    beyond_gc = report["lists"]["against_gc_matched_non_enhancers"]["motifs"]
    families = sorted({family for m in beyond_gc for family in m["families"]})
    lines = [
        *rows,
        "",
        f"TF families (JASPAR) of the {len(beyond_gc)} motifs enriched against GC-matched non-enhancers, with the "
        "number of those motifs in each (a dimer counts in both of its families): "
        + "; ".join(f"{family} ({sum(family in m['families'] for m in beyond_gc)})" for family in families)
        + ".",
        "",
        f"{report['jaspar']}; FIMO p < {report['fimo_p']:g}; layer-1 training split: {report['enhancers']} enhancers, "
        f"{report['non_enhancers']} non-enhancers, {report['gc_matched_pairs']} GC-matched pairs. `{report['command']}`.",
    ]
    for folder, motifs in report["model_motifs"].items():
        lines += [
            "",
            f"Model motifs of `{folder}`: {motifs['found']} found, {motifs['matched']} matched (TOMTOM q < 0.05).",
        ]
        if motifs["motifs"]:
            columns = ("motif", "best JASPAR match", "TF family (JASPAR)", "enriched against all", "against GC-matched")
            lines += ["", *header(*columns)]
            for m in motifs["motifs"]:
                marks = ["yes" if m[key] else "no" for key in LISTS]
                lines.append(f"| {m['id']} | {m['jaspar']} | {' / '.join(m['families'])} | {marks[0]} | {marks[1]} |")
    return "\n".join(lines) + "\n"


def motif_repeats() -> str:
    """Each matched motif's most frequent consensus 10-mer in the hg38 slice, and how much of it is soft-masked."""
    report = read_json(HERE / "repeats.json")
    rows = header(
        "motif",
        "best JASPAR match",
        "consensus 10-mer",
        "hits (both strands)",
        "uniform-base expectation",
        "hits in soft-masked repeats",
    )
    for name, m in report["motifs"].items():
        masked = "-" if m["share_soft_masked"] is None else f"{m['share_soft_masked']:.0%}"
        rows.append(
            f"| {name} | {m['best_match']} | `{m['core']}` | {m['hits']} | {m['expected_with_uniform_bases']} | {masked} |"
        )
    return "\n".join(rows) + f"\n\n{report['genome']}. `{report['command']}`.\n"


RENDERERS = {"motif-yardstick": motif_yardstick, "motif-repeats": motif_repeats}
