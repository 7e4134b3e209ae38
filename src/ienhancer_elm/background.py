"""A genomic background for a model: its scores of ordinary genome windows, and p-values against them.

A model trained on a 50/50 benchmark calls much of a genome "enhancer", so a probability alone does not
say how unusual a window is. `ienhancer-elm background MODEL GENOME.fa ...` scores the windows of plain
genome pieces exactly as `scan` does and writes MODEL/background.json; `predict` and `scan` then give each
score its empirical p-value: the share of background windows scoring at least as high, with the +1
correction, (1 + #{b >= s}) / (n + 1). The +1 counts the score itself as one more draw, so no p-value is 0
and, for a window drawn from the background, P(p <= R) <= R.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BACKGROUND_FILE = "background.json"
FORMAT = "ienhancer-elm background 1"
DECIMALS = 6  # scores are kept as the bedGraph prints them, so that a printed score and its p-value agree
P_VALUE = "(1 + number of background scores >= s) / (n + 1)"


class BackgroundError(ValueError):
    pass


@dataclass
class Background:
    """Sorted background window scores and how they were made (window, stride, N rule, pieces, model)."""

    scores: np.ndarray
    window: int
    stride: int
    max_n_fraction: float
    model: dict = field(default_factory=dict)  # weights_sha256, threshold, calibration_slope, precision
    pieces: list = field(default_factory=list)  # file, sha256, records, bases, windows, skipped_n
    command: str = ""
    path: str | None = None  # where it was read from, for messages

    def __post_init__(self):
        self.scores = np.sort(np.round(np.asarray(self.scores, dtype=np.float64), DECIMALS))
        if not len(self.scores):
            raise BackgroundError(f"{self.path or 'background'}: no background scores")

    @property
    def n(self) -> int:
        return len(self.scores)

    def levels(self, scores) -> np.ndarray:
        """#{b >= s} for each score s: the p-value's level, 0 (above the whole background) to n."""
        rounded = np.round(np.asarray(scores, dtype=np.float64), DECIMALS)  # as the background was kept
        return self.n - np.searchsorted(self.scores, rounded, side="left")

    def p_of_levels(self, levels) -> np.ndarray:
        return (1 + np.asarray(levels, dtype=np.float64)) / (self.n + 1)

    def p_values(self, scores) -> np.ndarray:
        """The share of background windows scoring at least as high as each score, +1 corrected."""
        return self.p_of_levels(self.levels(scores))

    # -- reading, writing, checking --

    @classmethod
    def read(cls, path) -> Background:
        try:
            saved = json.loads(Path(path).read_text(encoding="utf-8"))
            if saved.get("format") != FORMAT:
                raise BackgroundError(f"{path}: not an ienhancer-elm background (format {saved.get('format')!r})")
            return cls(
                np.asarray(saved["scores"], dtype=np.float64),
                int(saved["window"]),
                int(saved["stride"]),
                float(saved["max_n_fraction"]),
                saved.get("model", {}),
                saved.get("pieces", []),
                saved.get("command", ""),
                str(path),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, BackgroundError):
                raise
            raise BackgroundError(f"{path}: not a readable background file ({error})") from None

    def to_json(self) -> str:
        """The metadata first, indented, then the scores on one line (a list of 10^5 or more numbers)."""
        saved = {
            "format": FORMAT,
            "description": "scores of genomic windows by this model, scored as `ienhancer-elm scan` does",
            "p_value": P_VALUE,
            "window": self.window,
            "stride": self.stride,
            "max_n_fraction": self.max_n_fraction,
            "n_rule": f"windows with more than {100 * self.max_n_fraction:g}% of their bases N are skipped",
            "windows": self.n,
            "model": self.model,
            "pieces": self.pieces,
            "command": self.command,
            "scores": "SCORES",
        }
        scores = json.dumps(self.scores.tolist())  # repr of a 6-decimal-rounded float is its 6 decimals
        return json.dumps(saved, indent=2).replace('"SCORES"', scores) + "\n"

    def write(self, path) -> Path:
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.to_json(), encoding="utf-8")
        partial.replace(path)  # never a half-written background beside a model
        return path

    def check(self, model, weights: Path | None = None) -> None:
        """Refuse a background scored by other weights or another calibration: its p-values would be wrong."""
        expected = self.model
        if weights is not None and weights.is_file() and expected.get("weights_sha256"):
            from .data import sha256_of

            if sha256_of(weights) != expected["weights_sha256"]:
                raise BackgroundError(
                    f"{self.path}: computed for other weights than {weights}; recompute it with "
                    "`ienhancer-elm background` (or delete it to call by probability)"
                )
        for name in ("threshold", "calibration_slope"):
            saved, current = expected.get(name), getattr(model.config, name, None)
            if saved is not None and current is not None and not np.isclose(saved, current, rtol=0, atol=1e-12):
                raise BackgroundError(
                    f"{self.path}: computed with {name} {saved}, the model has {current}; recompute it with "
                    "`ienhancer-elm background`"
                )


def scored_precision(model, precision: str) -> str:
    """The precision a run with `--precision precision` scores in on the model's device: bf16 or fp32."""
    from .predict import use_bf16

    return "bf16" if use_bf16(next(model.parameters()).device, precision) else "fp32"


def precision_note(background: Background, model, precision: str) -> str | None:
    """A note where this run scores in another precision than the background was scored in: bf16 and fp32
    scores differ in the third or fourth decimal, which moves p-values near the top of the background."""
    saved, now = background.model.get("precision"), scored_precision(model, precision)
    if saved in (None, now):
        return None
    return f"the background was scored in {saved}, this run scores in {now}: for exact p-values use --precision {saved}"


def model_fingerprint(model, weights: Path | None, precision: str) -> dict:
    """What a background's scores depend on: the weights, the calibration (probability = f(mean; threshold,
    slope)) and the precision they were scored in."""
    from .data import sha256_of

    return {
        "weights_sha256": sha256_of(weights) if weights is not None and weights.is_file() else None,
        "threshold": getattr(model.config, "threshold", None),
        "calibration_slope": getattr(model.config, "calibration_slope", None),
        "precision": precision,
    }


def model_file(source: str, filename: str, revision: str | None = None) -> Path | None:
    """A file of a model folder or cached Hub model, or None where it has none."""
    from transformers.utils import cached_file

    found = cached_file(
        str(source),
        filename,
        revision=revision,
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
    )
    return Path(found) if found else None


def background_for(model, revision: str | None = None) -> Background | None:
    """The background.json beside a loaded model's weights, checked against the model; None where it has none."""
    path = model_file(model.name_or_path, BACKGROUND_FILE, revision)
    if path is None:
        return None
    background = Background.read(path)
    background.check(model, path.parent / "model.safetensors")
    return background


def bh_q_values(counts, n: int) -> np.ndarray:
    """Benjamini-Hochberg q-values per p-value level, from the number of windows at each level.

    p-values against a background of n scores take only n + 1 values, (1 + k) / (n + 1), so the windows of
    a whole scan need no sorting: counts[k] windows sit at level k, the last of them at rank
    R_k = counts[0] + ... + counts[k], and the q-value of level k is min over k' >= k of m p_k' / R_k'
    (the step-up rule; tied p-values share the q of the last of them), capped at 1. Memory O(n).
    """
    counts = np.asarray(counts, dtype=np.int64)
    m = int(counts.sum())
    if m == 0:
        return np.ones(len(counts))
    ranks = np.cumsum(counts)
    p = (1 + np.arange(len(counts), dtype=np.float64)) / (n + 1)
    ratio = np.full(len(counts), np.inf)
    present = counts > 0
    ratio[present] = p[present] * m / ranks[present]
    return np.minimum(np.minimum.accumulate(ratio[::-1])[::-1], 1.0)


def compute_background(
    model_source, fastas, settings, device=None, command: str = "", show_progress: bool = True
) -> Background:
    """Score the windows of `fastas` as `scan` does (its windowing and batching, one process) into a Background."""
    import sys

    from tqdm.auto import tqdm

    from .data import sha256_of
    from .predict import compile_for_inference, load_model
    from .scan import ScanSummary, batches, fasta_inventory, fasta_segments, score_batches

    model, tokenizer = load_model(model_source, device, precision=settings.precision)
    if settings.compile:
        compile_for_inference(model, settings.batch_size)
    scores, pieces = array("d"), []  # 8 bytes a window, not a Python float's 24
    for fasta in fastas:
        summary = ScanSummary()
        _, total = fasta_inventory(fasta)
        quiet = not show_progress or None  # None: tqdm shows the bar only on a terminal
        bar = tqdm(total=total, desc=Path(fasta).name, unit="bp", unit_scale=True, disable=quiet, file=sys.stderr)
        with bar as progress:
            windows = batches(fasta_segments(fasta), settings, summary, progress)
            scores.extend(row[3] for row in score_batches(model, tokenizer, windows, settings))
        piece = {"file": Path(fasta).name, "sha256": sha256_of(fasta), "records": summary.records}
        pieces.append(piece | {"bases": summary.bases, "windows": summary.windows, "skipped_n": summary.skipped_n})
    if not scores:
        raise BackgroundError(f"no window of {settings.window} bp was scored in {', '.join(map(str, fastas))}")
    weights = model_file(model.name_or_path, "model.safetensors")
    return Background(
        np.frombuffer(scores, dtype=np.float64),
        settings.window,
        settings.stride,
        settings.max_n_fraction,
        model_fingerprint(model, weights, scored_precision(model, settings.precision)),
        pieces,
        command,
    )
