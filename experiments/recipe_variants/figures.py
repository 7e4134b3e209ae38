"""The table of recipe variants in docs/experiments.md: every report table.json lists, in its order."""

from __future__ import annotations

import re
from pathlib import Path

from table_helpers import header, read_json

TABLE = Path(__file__).resolve().parent / "table.json"
KMERS = (3, 4, 5, 6)


def variants() -> str:
    rows = header("layer", "variant", "n", "held-out AUC, members k = 3, 4, 5, 6", "ensemble", "report", "kept")
    for row in read_json(TABLE)["rows"]:
        report = read_json(row["report"])
        # runs by their k (runs/exp_l1_crop_k3, runs/finetune_k3_layer1); a variant may lack members or hold two
        by_k = {k: [auc for run, auc in report["member_auc"].items() if re.search(rf"_k{k}(_|$)", run)] for k in KMERS}
        members = ", ".join(" / ".join(f"{auc:.3f}" for auc in by_k[k]) or "-" for k in KMERS)
        rows.append(
            f"| {row['layer']} | {row['variant']} | {report['n']} | {members} | {report['ensemble_auc']:.3f} | "
            f"`{Path(row['report']).name}` | {row['kept']} |"
        )
    return "\n".join(rows) + "\n"


RENDERERS = {"experiments": variants}
