"""What `ienhancer-elm attribute` writes: every record's attributions in one compressed array file, a table with
one row per record (an error row where a record cannot be read), and logos for the first few."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

from .attribution import AttributionError, attribute, checked_codes, gc_change, observed_contribution, one_hot_acgt
from .files import written_whole

ARRAYS = "attributions.npz"
TABLE = "attributions.tsv"
COLUMNS = ["id", "length", "probability", "log_odds", "top_position", "top_base", "r_gc", "error"]


def write_attributions(records, model, tokenizer, folder, method: str, logos: int, batch_size: int) -> tuple[int, int]:
    """Attributions of `records` into `folder`; returns (records written, records with an error)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows, arrays, names = [], {}, None
    for chunk in _chunks(enumerate(records), batch_size):
        readable = []
        for index, record in chunk:
            sequence = "".join(record.sequence.split()).upper()
            try:
                checked_codes(sequence)
                readable.append((index, record.id, sequence))
                rows.append(None)  # filled below, in input order
            except AttributionError as error:
                rows.append(
                    {"id": record.id, "length": len(sequence), "error": str(error).removeprefix("sequence 0: ")}
                )
        if not readable:
            continue
        found = attribute(model, tokenizer, [sequence for *_, sequence in readable], method, batch_size)
        names = found.names
        for (index, record_id, sequence), scores, log_odds in zip(readable, found.scores, found.log_odds):
            arrays[f"scores_{index}"] = scores.astype(np.float32)
            arrays[f"sequence_{index}"] = np.array(sequence)
            rows[index] = summary_row(record_id, sequence, scores[0], float(log_odds[0]))
            if len(arrays) // 2 <= logos:
                logo = folder / "logos" / f"{index + 1}_{_file_safe(record_id)}.png"
                draw_attribution_logo(scores[0], sequence, logo, record_id)
    ids = np.array([row["id"] for row in rows])
    partial = folder / f"{ARRAYS}.partial"
    try:  # as `written_whole`, for a binary file: no half-written archive is left under the final name
        with open(partial, "wb") as handle:
            np.savez_compressed(handle, ids=ids, names=np.array(names or []), method=np.array(method), **arrays)
        os.replace(partial, folder / ARRAYS)
    finally:
        partial.unlink(missing_ok=True)
    with written_whole(folder / TABLE, newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows), sum(1 for row in rows if row.get("error"))


def summary_row(record_id: str, sequence: str, ensemble: np.ndarray, log_odds: float) -> dict:
    """The table's row: the call, the base that adds most to it, and how closely the substitution effects follow
    the G/C count they change (`r_gc`: 1 would mean a GC counter)."""
    contribution = observed_contribution(ensemble, sequence)
    top = int(np.argmax(contribution))
    changes = gc_change(sequence)
    others = one_hot_acgt(sequence) == 0
    r_gc = float(np.corrcoef(ensemble[others], changes[others])[0, 1])
    return {
        "id": record_id,
        "length": len(sequence),
        "probability": f"{1 / (1 + np.exp(-log_odds)):.4f}",
        "log_odds": f"{log_odds:.4f}",
        "top_position": top + 1,
        "top_base": sequence[top],
        "r_gc": f"{r_gc:.3f}",
        "error": "",
    }


def draw_attribution_logo(ensemble: np.ndarray, sequence: str, path: Path, title: str) -> None:
    """The observed bases, each as tall as what it adds to the log-odds (below the axis where it takes away)."""
    import logomaker
    import pandas as pd

    from .figures import new_figure

    path.parent.mkdir(parents=True, exist_ok=True)
    heights = pd.DataFrame(
        one_hot_acgt(sequence) * observed_contribution(ensemble, sequence)[:, None], columns=list("ACGT")
    )
    figure = new_figure(figsize=(max(8, len(sequence) / 12), 2))
    axis = figure.subplots()
    logomaker.Logo(heights, ax=axis, color_scheme="classic")
    axis.set_ylabel("log-odds")
    axis.set_xlabel("position (0-based)")
    axis.set_title(f"{title}: what each base adds to the ensemble's log-odds", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60]
