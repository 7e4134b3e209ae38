"""The beyond-GC tables: what each shipped model knows besides GC share on the test split (gc-table.json, from
gc_table.py), and the candidates screened on the held-out fold (spectrum-screen.json, from beyond_gc.py)."""

from __future__ import annotations

from pathlib import Path

from table_helpers import header, read_json

HERE = Path(__file__).resolve().parent


def _cell(figures: dict, signed: bool = False) -> str:
    number = "{:+.3f}" if signed else "{:.3f}"
    low, high = figures["ci95"]
    return f"{number.format(figures['value'])} [{number.format(low)}, {number.format(high)}]"


def gc_table() -> str:
    """Per benchmark and subset: AUC and GC-matched AUC of GC alone, the k-mer SVM, each member, the ensemble."""
    report = read_json(HERE / "gc-table.json")
    rows = header(
        "layer", "rows", "score", "AUC", "GC-matched AUC", "pairs", "r with GC", "GC-matched AUC minus GC alone"
    )
    for config, found in report["configs"].items():
        for subset, table in found["subsets"].items():
            if subset != "all" and found["n"][subset] == found["n"]["all"]:
                continue  # no test sequence of this benchmark is a training sequence: the same rows again
            label = "all" if subset == "all" else "without `in_train`"
            for name, row in table.items():
                difference = _cell(row["minus_gc_alone"]["AUC_GC"], signed=True) if "minus_gc_alone" in row else ""
                rows.append(
                    f"| {config} | {label} ({found['n'][subset]}) | {name} | {_cell(row['AUC_ROC'])} | "
                    f"{_cell(row['AUC_GC'])} | {row['AUC_GC']['pairs']} | {row['correlation_with_gc']:.2f} | {difference} |"
                )
    resamples = report["bootstrap"]["resamples"]
    note = (
        f"Intervals: 95% bootstrap over sequences ({resamples} resamples); differences paired. Scored in "
        f"{report['precision']}. A benchmark without `in_train` rows has none of its test sequences in training. "
        + " ".join(f"{config}: `{found['command']}`." for config, found in report["configs"].items())
    )
    return "\n".join(rows) + "\n\n" + note + "\n"


def beyond_gc_screen() -> str:
    """The candidates on the held-out fold, against the rule written before the runs: the spectrum member's
    (beyond_gc.py), then the BERT member's (bert_screen/), each against its own recipe as shipped."""
    report = read_json(HERE / "spectrum-screen.json")
    rows = header(
        "member", "candidate", "AUC", "GC-matched AUC", "AUC change", "GC-matched change", "ships by the rule"
    )
    alone = report["gc_share_alone"]
    rows.append(f"| - | GC share alone | {alone['auc']:.3f} | {_cell(alone['gc_matched_auc'])} | | | |")
    rows += _candidate_rows("spectrum", report["candidates"])
    notes = f"Rule: {report['rule']}. Held out: {report['held_out']}."
    if (HERE / "bert-screen.json").is_file():
        bert = read_json(HERE / "bert-screen.json")
        rows += _candidate_rows("BERT k = 3", bert["candidates"])
        minutes = ", ".join(f"{name} {value:g} min" for name, value in bert["minutes"].items())
        notes += f" BERT k = 3: {bert['member']}; {bert['selection']}. Training time ({bert['machine']}): {minutes}."
        notes += "\n\n" + _epoch_lines(bert)
    return "\n".join(rows) + f"\n\n{notes}\n"


def _epoch_lines(bert: dict) -> str:
    """Each BERT arm's training loss and held-out AUC by epoch, against the training loss of GC share alone."""
    lines = [
        "Training loss / held-out AUC (/ held-out GC-matched AUC, where logged) by epoch; GC share alone's log loss "
        f"on folds 1-4, the training rows of the as-shipped and GC-offset arms: {bert['gc_alone_training_loss']:.3f}."
    ]
    for name, epochs in bert["epochs"].items():
        cells = ", ".join(f"{e['train_loss']:.3f} / {e['valid_auc']:.3f}" + _gc_matched(e) for e in epochs)
        lines.append(f"- {name}: {cells}")
    return "\n".join(lines)


def _gc_matched(epoch: dict) -> str:
    """An epoch's held-out GC-matched AUC, where the run logged it (runs before fine-tuning logged it do not)."""
    value = epoch.get("valid_gc_matched_auc")
    return "" if value is None else f" / {value:.3f}"


def _candidate_rows(member: str, candidates: dict) -> list[str]:
    rows = []
    for name, row in candidates.items():
        changes = ["", "", ""]
        if "auc_change" in row:
            verdict = {True: "yes", False: "no"}.get(row.get("ships"), "-")
            changes = [_cell(row["auc_change"], True), _cell(row["gc_matched_change"], True), verdict]
        cells = [f"{row['auc']:.3f}", _cell(row["gc_matched_auc"]), *changes]
        rows.append(f"| {member} | {name} | " + " | ".join(cells) + " |")
    return rows


def scan_yield() -> str:
    """Enhancers and GC-matched windows of the held-out chr21 piece called at background p-values (scan_yield.py)."""
    report = read_json(HERE / "scan-yield.json")
    rows = header(
        "model",
        "enhancers",
        "pairs",
        *(f"called at p <= {rate}: enhancers / windows (ratio)" for rate in report["rates"]),
    )
    for name, found in report["results"].items():
        cells = []
        for rate in report["rates"]:
            shares = found[f"p <= {rate}"]
            ratio = "no window called" if shares["ratio"] is None else f"{shares['ratio']:.1f}x"
            cells.append(f"{_cell(shares['enhancers_called'])} / {_cell(shares['windows_called'])} ({ratio})")
        rows.append(f"| `{name}` | {found['enhancers']} | {found['pairs']} | " + " | ".join(cells) + " |")
    note = f"Windows: {report['windows']}. Target: {report['target']}, at p <= 0.01. `{report['command']}`."
    return "\n".join(rows) + "\n\n" + note + "\n"


RENDERERS = {"gc-table": gc_table, "beyond-gc-screen": beyond_gc_screen, "scan-yield": scan_yield}
