"""The masked-LM loss of the short and long pretraining runs, for docs/experiments.md (their held-out AUCs are
rows of the recipe variants' table, experiments/recipe_variants/)."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

CURVES = Path(__file__).resolve().parent / "gpu-pretraining-curves.json"


def pretraining_loss() -> str:
    rows = header(
        "run", "windows (both strands)", "epochs", "stopped by budget", "seconds", "last training loss", "held-out loss"
    )
    for name, run in read_json(CURVES).items():
        last = run["epochs"][-1]
        held_out = last.get("valid_mlm_loss")
        seconds = sum(epoch["seconds"] for epoch in run["epochs"])
        rows.append(
            f"| `{name}` | {run['kept_both_strands']:,} | {run['epochs_trained']} | {'yes' if run['stopped_by_budget'] else 'no'} | "
            f"{seconds:.0f} | {last['train_loss']:.2f} | {'-' if held_out is None else f'{held_out:.2f}'} |"
        )
    return "\n".join(rows) + "\n"


RENDERERS = {"pretraining-loss": pretraining_loss}
