"""A plot of each member's per-base attention over one sequence, with the model's call."""

from __future__ import annotations

from pathlib import Path

from .attention import base_attention
from .figures import image_formats, new_figure
from .predict import predict_records
from .sequences import Record


class ExplainError(ValueError):
    pass


def explain_sequence(model, tokenizer, record: Record, path) -> str:
    """Draw the figure for `record` to `path` (its suffix picks the format); returns a one-line description of
    the call."""
    image_format = Path(path).suffix.lstrip(".").lower()
    formats = image_formats()
    if image_format not in formats:
        raise ExplainError(f"{path}: cannot draw a .{image_format} image; name one of {', '.join(sorted(formats))}")
    row = next(iter(predict_records(model, tokenizer, [record])))
    if row.error:
        raise ExplainError(f"record {record.id}: {row.error}")
    sequence = "".join(record.sequence.split()).upper()
    window = model.config.window_bp
    if window and len(sequence) > window:
        raise ExplainError(
            f"record {record.id}: {len(sequence)} bp; the model reads sequences longer than {window} bp in windows, "
            f"and attention is drawn over one: give a stretch of at most {window} bp"
        )
    figure = new_figure(figsize=(max(8, len(sequence) / 25), 1.6 * len(model.config.kmers)))
    axes = figure.subplots(len(model.config.kmers), 1, sharex=True, squeeze=False)
    for axis, k in zip(axes[:, 0], model.config.kmers):
        scores = base_attention(model, [sequence], k)[0]
        axis.fill_between(range(len(scores)), scores, step="mid", alpha=0.7)
        axis.set_ylabel(f"k={k}\np={row.member_probabilities[k]:.2f}", rotation=0, ha="right", va="center")
        axis.set_yticks([])
    axes[-1, 0].set_xlabel("position (bp)")
    if len(sequence) <= 120:
        axes[-1, 0].set_xticks(range(len(sequence)), list(sequence), fontsize=6)
    call = f"{row.label} (p = {row.probability:.3f}; calls above 0.5)"
    figure.suptitle(f"[CLS] attention of the last layer, heads summed: {call}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return f"{call}; figure written to {path}"
