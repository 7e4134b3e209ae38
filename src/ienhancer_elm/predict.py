"""Batched prediction over DNA records, one output row per input record, errors included.

`load_model` (from `runtime`) is here too: load, then predict.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import torch

from .modeling_ienhancer_elm import DECISION_THRESHOLD
from .runtime import inference_autocast, load_model

__all__ = ["Prediction", "load_model", "predict_records", "predict_two_layers", "table_cells", "table_header"]
from .sequences import Record, gc_fraction
from .tokenization_ienhancer_elm import short_sequence_warning


@dataclass
class Prediction:
    """One record's call. `probability` is the model's calibrated probability of the positive label,
    the label is `probability > 0.5`; `warning` notes a score to read with care (a short sequence)."""

    id: str
    length: int
    probability: float | None = None
    label: str | None = None
    member_probabilities: dict[int | str, float] = field(default_factory=dict)  # by k, and "spectrum"
    error: str | None = None
    warning: str | None = None
    gc: float | None = None  # G + C over A + C + G + T: the GC stratum of its background p-value


def _empty_row(record: Record) -> Prediction:
    if not isinstance(record.sequence, str):
        length, error = 0, f"expected a DNA string, got {type(record.sequence).__name__}"
        return Prediction(str(record.id), length, error=error)
    length = len("".join(record.sequence.split()))
    return Prediction(record.id, length, warning=short_sequence_warning(length), gc=gc_fraction(record.sequence))


def member_keys(config) -> list[int | str]:
    """The members in `member_probabilities` order: each k, then "spectrum" where the model has that member."""
    return [*config.kmers, *(["spectrum"] if getattr(config, "spectrum_kmers", None) else [])]


def table_header(model, strength: bool = False, background=None) -> list[str]:
    """The columns of `ienhancer-elm predict`'s TSV (with `strength`: the layer-2 columns too; with a
    `background.Background`: `background_p`, the probability's p-value against it)."""
    members = [f"p_k{key}" if isinstance(key, int) else f"p_{key}" for key in member_keys(model.config)]
    return [
        "id",
        "length",
        "probability",
        *(["background_p"] if background is not None else []),
        "label",
        *members,
        *(["strength_probability", "strength"] * strength),
        "error",
    ]


def table_cells(
    model, row: Prediction, strength_row: Prediction | None = None, strength: bool = False, background=None
) -> list[str]:
    """One record's cells under `table_header`: numbers with six decimals, p-values with six significant
    digits (against the background windows of the record's GC stratum; the smallest is 1 / (n_b + 1) for n_b
    windows there), empty where there is none, and for a record
    the model reads in windows: its score is a mean over windows, which a background of single windows does not
    describe."""
    members = [_number(row.member_probabilities.get(key)) for key in member_keys(model.config)]
    layer2 = [_number(strength_row.probability), strength_row.label] if strength_row else ["", ""]
    windowed = bool(model.config.window_bp) and row.length > model.config.window_bp
    p_value = [] if background is None else ["" if windowed else _p_value(background, row.probability, row.gc)]
    return [
        row.id,
        str(row.length),
        _number(row.probability),
        *p_value,
        row.label or "",
        *members,
        *(layer2 if strength else []),
        row.error or "",
    ]


def _number(value) -> str:
    return "" if value is None else f"{value:.6f}"


def _p_value(background, probability: float | None, gc: float | None) -> str:
    return "" if probability is None else f"{background.p_values([probability], [gc or 0.0])[0]:.6g}"


def predict_records(
    model, tokenizer, records: Iterable[Record], batch_size: int = 32, precision: str = "auto"
) -> Iterator[Prediction]:
    """Predict each record in input order; a record the tokenizer rejects gets a row with `error` set."""
    for _, rows in _predict_chunks(model, tokenizer, records, batch_size, precision):
        yield from rows


def predict_two_layers(
    model, tokenizer, strength_model, strength_tokenizer, records, batch_size: int = 32, precision: str = "auto"
) -> Iterator[tuple[Prediction, Prediction | None]]:
    """Layer 1 for every record, then layer 2 (strong vs weak) for the records layer 1 calls enhancers.

    Yields (layer-1 row, layer-2 row or None) in input order.
    """
    positive = model.config.id2label[1]
    for chunk, rows in _predict_chunks(model, tokenizer, records, batch_size, precision):
        enhancers = [i for i, row in enumerate(rows) if row.label == positive]
        strength = _predict_chunk(
            strength_model, strength_tokenizer, [chunk[i] for i in enhancers], batch_size, precision
        )
        by_position = dict(zip(enhancers, strength))
        yield from ((row, by_position.get(i)) for i, row in enumerate(rows))


def _predict_chunks(model, tokenizer, records, batch_size, precision):
    records = iter(records)
    while chunk := list(itertools.islice(records, batch_size * LENGTH_BUCKET_BATCHES)):
        yield chunk, _predict_chunk(model, tokenizer, chunk, batch_size, precision)


LENGTH_BUCKET_BATCHES = 16  # records are read this many batches at a time and batched by length


def _predict_chunk(model, tokenizer, chunk: list[Record], batch_size: int, precision: str) -> list[Prediction]:
    rows = [_empty_row(record) for record in chunk]
    by_length = sorted(range(len(chunk)), key=lambda i: rows[i].length)  # less padding per batch
    for start in range(0, len(by_length), batch_size):
        batch = by_length[start : start + batch_size]
        inputs, scored = _encode_batch(tokenizer, [chunk[i].sequence for i in batch], [rows[i] for i in batch])
        if scored:
            _fill(model, inputs, scored, precision)
    return rows


def _encode_batch(tokenizer, sequences: list[str], rows: list[Prediction]):
    """Model inputs for the rows whose sequences encode, and those rows; the others get their error.

    A batch of valid sequences of one length, the usual case, is encoded as one tensor; otherwise each
    sequence on its own, which names the problem of a bad one.
    """
    inputs = tokenizer.encode_equal_lengths(sequences)
    if inputs is not None:
        return inputs, rows
    encoded, scored = [], []
    for sequence, row in zip(sequences, rows):
        try:
            encoded.append(tokenizer.encode_sequence(sequence))
            scored.append(row)
        except (ValueError, TypeError) as error:
            row.error = str(error)
    return (tokenizer.collate(encoded) if encoded else None), scored


@torch.inference_mode()
def _fill(model, inputs: dict[str, torch.Tensor], rows: list[Prediction], precision: str) -> None:
    device = next(model.parameters()).device
    with inference_autocast(model, precision):
        output = model(**{name: tensor.to(device) for name, tensor in inputs.items()})
    probabilities = output.probabilities.float().cpu().tolist()
    members = output.member_probabilities.float().cpu().tolist()
    config = model.config
    for row, probability, member in zip(rows, probabilities, members):
        row.probability = probability
        row.label = config.id2label[int(probability > DECISION_THRESHOLD)]
        row.member_probabilities = dict(zip(member_keys(config), member))
