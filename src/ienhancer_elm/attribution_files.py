"""What `ienhancer-elm attribute` writes: every record's attributions in one compressed array file, a table with
one row per record (an error row where a record cannot be read), and logos for the first few."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np

from .attribution import AttributionError, attribute, checked_codes, gc_change, observed_contribution, one_hot_acgt
from .files import written_whole
from .shares import chunks, own_chunks

ARRAYS = "attributions.npz"
TABLE = "attributions.tsv"
COLUMNS = ["id", "length", "probability", "log_odds", "top_position", "top_base", "r_gc", "error"]


def write_attributions(
    records, model, tokenizer, folder, method: str, logos: int, batch_size: int, state=None
) -> tuple[int, int] | None:
    """Attributions of `records` into `folder`; returns (records written, records with an error). Under `accelerate
    launch` (`state`: `runtime.process_state()`) each process attributes its share of the records and the main
    process writes them all, as one process would; the others return None."""
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    rank, world = (state.process_index, state.num_processes) if state else (0, 1)
    rows, arrays, names = attribute_share(records, model, tokenizer, method, batch_size, rank, world)
    if world > 1:
        _save_share(folder / f"{ARRAYS}.part{rank}", rows, arrays, names)
        state.wait_for_everyone()
        if not state.is_main_process:
            return None
        rows, arrays, names = _merged_shares([folder / f"{ARRAYS}.part{r}" for r in range(world)])
    if not rows:  # an input without a record leaves no output behind
        if created:
            folder.rmdir()
        return 0, 0
    rows = [rows[index] for index in sorted(rows)]
    _save_arrays(folder / ARRAYS, np.array([row["id"] for row in rows]), names, method, arrays)
    with written_whole(folder / TABLE, newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
    _draw_first_logos(folder, rows, arrays, logos)
    return len(rows), sum(1 for row in rows if row.get("error"))


def attribute_share(records, model, tokenizer, method: str, batch_size: int, rank: int = 0, world: int = 1):
    """({input index: table row}, {array name: array}, member names) of this process's chunks of the records."""
    rows, arrays, names = {}, {}, []
    for chunk in own_chunks(chunks(enumerate(records), batch_size), rank, world):
        readable = []
        for index, record in chunk:
            sequence = "".join(record.sequence.split()).upper()
            try:
                checked_codes(sequence)
                readable.append((index, record.id, sequence))
            except AttributionError as error:
                message = str(error).removeprefix("sequence 0: ")
                rows[index] = {"id": record.id, "length": len(sequence), "error": message}
        if not readable:
            continue
        found = attribute(model, tokenizer, [sequence for *_, sequence in readable], method, batch_size)
        names = list(found.names)
        for (index, record_id, sequence), scores, log_odds in zip(readable, found.scores, found.log_odds):
            arrays[f"scores_{index}"] = scores.astype(np.float32)
            arrays[f"sequence_{index}"] = np.array(sequence)
            rows[index] = summary_row(record_id, sequence, scores[0], float(log_odds[0]))
    return rows, arrays, names


def _save_arrays(path: Path, ids, names, method: str, arrays: dict) -> None:
    partial = path.with_name(f"{path.name}.partial")
    try:  # as `written_whole`, for a binary file: no half-written archive is left under the final name
        with open(partial, "wb") as handle:
            np.savez_compressed(handle, ids=ids, names=np.array(names), method=np.array(method), **arrays)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _save_share(path: Path, rows: dict, arrays: dict, names) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, rows=np.array(json.dumps(rows)), names=np.array(names), **arrays)


def _merged_shares(paths) -> tuple[dict, dict, list]:
    rows, arrays, names = {}, {}, []
    for path in paths:
        with np.load(path) as share:
            rows.update({int(index): row for index, row in json.loads(str(share["rows"])).items()})
            arrays.update({key: share[key] for key in share.files if key not in ("rows", "names")})
            names = names or share["names"].tolist()
        path.unlink()
    return rows, arrays, names


def _draw_first_logos(folder: Path, rows: list[dict], arrays: dict, logos: int) -> None:
    """Logos of the first `logos` records that have attributions, in input order."""
    indices = sorted(int(key.removeprefix("scores_")) for key in arrays if key.startswith("scores_"))
    for index in indices[:logos]:
        record_id = rows[index]["id"]
        logo = folder / "logos" / f"{index + 1}_{_file_safe(record_id)}.png"
        draw_attribution_logo(arrays[f"scores_{index}"][0], str(arrays[f"sequence_{index}"]), logo, record_id)


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


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60]
