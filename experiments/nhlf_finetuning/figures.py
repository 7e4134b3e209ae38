"""The k = 3 NHLF fine-tuning runs of docs/nhlf.md: held-out AUC per epoch, next to the frozen encoder's."""

from __future__ import annotations

from pathlib import Path

from table_helpers import REPO, header, read_json

HERE = Path(__file__).resolve().parent
RUNS = {  # this folder's records, in the order the runs were made -> what each tried
    "nhlf-random-window-k3.json": "one random 200 bp window per sequence, fresh head",
    "nhlf-fresh-head-k3.json": "whole sequences in windows (states), fresh head",
    "nhlf-started-head-dropout-k3.json": "whole sequences, head started from the frozen fit, head dropout 0.3",
    "nhlf-started-head-k3.json": "whole sequences, head started from the frozen fit, no head dropout",
}


def nhlf_finetuning() -> str:
    rows = header("k = 3 member fine-tuned on NHLF", "held-out AUC by epoch", "record")
    for name, label in RUNS.items():
        aucs = ", ".join(f"{row['valid_auc']:.3f}" for row in read_json(HERE / name)["epochs"])
        rows.append(f"| {label} | {aucs} | `{(HERE / name).relative_to(REPO)}` |")
    variants = read_json("results/experiments/heads-nhlf.json")["variants"]
    # the heads the runs started from (`nhlf_heads.py --write-heads`): the best stride-200 "states" variant
    start = max(
        (v for v in variants if (v["stride"], v["combination"]) == (200, "states")),
        key=lambda v: v["held_out_auc"]["ensemble"],
    )
    return "\n".join(rows) + (
        "\n\nThe starting point, the frozen encoder with the head fitted on its windows' mean state (stride 200), "
        f"has held-out AUC {start['held_out_auc']['k3']:.3f} for k = 3.\n"
    )


RENDERERS = {"nhlf-finetuning": nhlf_finetuning}
