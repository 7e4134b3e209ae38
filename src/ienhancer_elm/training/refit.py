"""Members retrained on the whole training split, swapped into a shipped ensemble (issue 15, item 2).

Everything the ensemble chose on its held-out fold stays: the threshold, the calibration slope, the head settings
and the spectrum member's share were chosen with encoders that never saw fold 0. What is fitted changes: each
member's encoder becomes the one retrained on all five folds (`training/refit_members.sh`: same pretrained
checkpoint, same settings, the epoch count its fold run chose), and its head is fitted again, with the chosen
settings, on that encoder's pooled features of the whole training split.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..models import IEnhancerELMForSequenceClassification
from .ensemble import run_seconds, shipped_member
from .heads import HeadSettings, fit_head, pooled_features

# settings that may differ between a member's fold run and its refit
RUN_ONLY = {"output_dir", "only_fold", "refit", "refit_epochs"}


def check_refit_run(k: int, run: Path, fold_run: dict) -> dict:
    """The refit run's record, once it is known to repeat the fold run on all the data for its chosen epochs."""
    arguments = json.loads((run / "arguments.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    differing = sorted(
        name
        for name in set(arguments) & set(fold_run["arguments"]) - RUN_ONLY
        if arguments[name] != fold_run["arguments"][name]
    )
    if differing:
        raise ValueError(f"k = {k}: {run} differs from the member's fold run in {', '.join(differing)}")
    chosen = max(fold_run["summary"]["best_epochs"].values()) + 1
    if summary.get("refit_epochs") != chosen:
        raise ValueError(f"k = {k}: {run} trained {summary.get('refit_epochs')} epochs, its fold run chose {chosen}")
    return {"run": str(run), "arguments": arguments, "summary": summary, "seconds": run_seconds(run)}


def swap_in_refitted_encoders(model, tokenizer, refit_runs: dict[int, Path], settings: HeadSettings, sequences, labels):
    """Each member's encoder replaced by its refit's, and its head fitted on the new features of `sequences`."""
    for k, run in refit_runs.items():
        refitted = IEnhancerELMForSequenceClassification.from_pretrained(shipped_member(run))
        model.member(k).bert.load_state_dict(refitted.member(k).bert.state_dict())
        features = pooled_features(model, k, tokenizer, sequences)
        head = fit_head(features, labels, model.config.head_hidden_size, settings)
        model.member(k).head.load_state_dict(head.state_dict())
    return model


def record_refit(folder: Path, refits: dict[int, dict], command: str) -> None:
    """training.json gains each member's refit run; cv_results.json says what the figures in it were made with."""
    training = json.loads((folder / "training.json").read_text())
    for k, refit in refits.items():
        training["members"][str(k)]["refit"] = refit
    training["seconds"] = sum(
        m["seconds"] + m.get("refit", {}).get("seconds", 0.0) for m in training["members"].values()
    )
    (folder / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    cv = json.loads((folder / "cv_results.json").read_text())
    cv["refitted_encoders"] = {
        "refitted_on": "the whole training split",
        "epochs": {str(k): refit["summary"]["refit_epochs"] for k, refit in refits.items()},
        "held_out_figures_from": "the members before the refit (encoders trained on folds 1-4, judged on fold 0)",
        "command": command,
    }
    if "heads" in cv:  # refit_heads.py's record
        cv["heads"]["fitted_on"] = "all five folds, on the refitted encoders' features"
    (folder / "cv_results.json").write_text(json.dumps(cv, indent=2, default=float) + "\n")


def require_fold_encoders(folder: Path) -> None:
    """Refuse a model whose encoders saw fold 0: a held-out choice made with it would be made in-sample."""
    cv_path = Path(folder) / "cv_results.json"
    if cv_path.is_file() and "refitted_encoders" in json.loads(cv_path.read_text()):
        raise SystemExit(
            f"{folder}: its encoders were refitted on the whole training split, fold 0 included, so nothing can be "
            "chosen on fold 0 with them; run this on the ensemble build_ensemble.py writes, before refit_encoders.py"
        )
