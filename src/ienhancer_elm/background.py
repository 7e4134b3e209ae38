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
FORMAT = "ienhancer-elm background 2"
READABLE_FORMATS = ("ienhancer-elm background 1", FORMAT)  # 1: scores alone, one stratum
DECIMALS = 6  # scores are kept as the bedGraph prints them, so that a printed score and its p-value agree
GC_STRATA = 10  # chosen by leaving out one background piece at a time (docs/background_calibration.py)
P_VALUE = "(1 + number of background windows of the same GC stratum scoring >= s) / (windows of that stratum + 1)"


class BackgroundError(ValueError):
    pass


def gc_fraction(sequence: str) -> float:
    """G + C over A + C + G + T (N and other letters left out): the share `scan` computes for a window."""
    upper = sequence.upper()
    bases = sum(upper.count(base) for base in "ACGT")
    return (upper.count("G") + upper.count("C")) / bases if bases else 0.0


@dataclass
class Background:
    """Background window scores, each with its window's GC fraction, and how they were made.

    On genomic DNA the model's score follows GC content closely, so a background pooled over pieces of
    different composition is too strict for AT-rich DNA and too lenient for GC-rich DNA. The windows are
    therefore split into `gc_strata` strata of about equal size by GC fraction, and a score is compared only
    with the background windows of its own stratum (one stratum: the pooled background). The windows stay in
    file order (pieces one after another), so a piece can be left out to check calibration.
    """

    scores: np.ndarray
    window: int
    stride: int
    max_n_fraction: float
    model: dict = field(default_factory=dict)  # weights_sha256, threshold, calibration_slope, precision
    pieces: list = field(default_factory=list)  # file, sha256, records, bases, windows, skipped_n
    command: str = ""
    path: str | None = None  # where it was read from, for messages
    gc: np.ndarray | None = None  # per window; None: one stratum
    gc_strata: int = 1

    def __post_init__(self):
        self.scores = np.round(np.asarray(self.scores, dtype=np.float64), DECIMALS)
        if not len(self.scores):
            raise BackgroundError(f"{self.path or 'background'}: no background scores")
        if self.gc is None or self.gc_strata == 1:
            self.gc_cuts = np.empty(0)
        else:
            self.gc = np.round(np.asarray(self.gc, dtype=np.float64), DECIMALS)
            if len(self.gc) != len(self.scores):
                raise BackgroundError(f"{self.path or 'background'}: {len(self.gc)} GC values, {self.n} scores")
            quantiles = np.quantile(self.gc, np.arange(1, self.gc_strata) / self.gc_strata, method="lower")
            self.gc_cuts = np.unique(quantiles[quantiles < self.gc.max()])  # every stratum holds windows
        strata = self.strata_of(self.gc) if len(self.gc_cuts) else np.zeros(self.n, dtype=np.int64)
        self.strata = [np.sort(self.scores[strata == b]) for b in range(len(self.gc_cuts) + 1)]
        sizes = np.array([len(stratum) for stratum in self.strata])
        self.offsets = np.concatenate([[0], np.cumsum(sizes + 1)[:-1]])  # each stratum's first level
        self.level_p = np.concatenate([(1 + np.arange(m + 1)) / (m + 1) for m in sizes])

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def levels_count(self) -> int:
        """The number of distinct levels: each stratum's n_b + 1."""
        return len(self.level_p)

    @property
    def smallest_p(self) -> float:
        return float(self.level_p.min())

    def strata_of(self, gc) -> np.ndarray:
        """The GC stratum of each GC fraction: the first whose upper cut is at least it."""
        if not len(self.gc_cuts):
            return np.zeros(len(np.atleast_1d(gc)), dtype=np.int64)
        return np.searchsorted(self.gc_cuts, np.round(np.asarray(gc, dtype=np.float64), DECIMALS), side="left")

    def levels(self, scores, gc=None) -> np.ndarray:
        """Each score's level: its stratum's first level plus #{b >= s in that stratum}, so that
        `level_p[level]` is its p-value. `gc` (each score's window's GC fraction) is needed with strata."""
        rounded = np.round(np.asarray(scores, dtype=np.float64), DECIMALS)  # as the background was kept
        if len(self.strata) > 1 and gc is None:
            raise BackgroundError(f"{self.path or 'background'}: GC-stratified; p-values need each window's GC")
        strata = self.strata_of(gc) if len(self.strata) > 1 else np.zeros(len(rounded), dtype=np.int64)
        levels = np.empty(len(rounded), dtype=np.int64)
        for b, stratum in enumerate(self.strata):
            here = strata == b
            levels[here] = self.offsets[b] + len(stratum) - np.searchsorted(stratum, rounded[here], side="left")
        return levels

    def p_of_levels(self, levels) -> np.ndarray:
        return self.level_p[np.asarray(levels, dtype=np.int64)]

    def p_values(self, scores, gc=None) -> np.ndarray:
        """The share of background windows of the same GC stratum scoring at least as high, +1 corrected."""
        return self.p_of_levels(self.levels(scores, gc))

    def without(self, piece: str) -> Background:
        """This background without the windows of one piece (by file name), strata recut: for calibration."""
        ends = np.cumsum([p["windows"] for p in self.pieces])
        keep = np.ones(self.n, dtype=bool)
        for p, end in zip(self.pieces, ends):
            if p["file"] == piece:
                keep[end - p["windows"] : end] = False
        if keep.all():
            raise BackgroundError(f"{self.path or 'background'}: no piece named {piece}")
        gc = None if self.gc is None else self.gc[keep]
        pieces = [p for p in self.pieces if p["file"] != piece]
        return Background(
            self.scores[keep],
            self.window,
            self.stride,
            self.max_n_fraction,
            self.model,
            pieces,
            self.command,
            self.path,
            gc,
            self.gc_strata,
        )

    # -- reading, writing, checking --

    @classmethod
    def read(cls, path) -> Background:
        try:
            saved = json.loads(Path(path).read_text(encoding="utf-8"))
            if saved.get("format") not in READABLE_FORMATS:
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
                np.asarray(saved["gc"], dtype=np.float64) if "gc" in saved else None,
                int(saved.get("gc_strata", 1)),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, BackgroundError):
                raise
            raise BackgroundError(f"{path}: not a readable background file ({error})") from None

    def to_json(self) -> str:
        """The metadata first, indented, then the scores and GC fractions, each on one line (lists of 10^5 or
        more numbers), in window order."""
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
            "gc_strata": self.gc_strata,  # as asked; equal GC fractions can make fewer strata (gc_cuts)
            "gc_cuts": self.gc_cuts.tolist(),
            "stratum_windows": [len(stratum) for stratum in self.strata],
            "scores": "SCORES",
            "gc": "GC",
        }
        if self.gc is None:
            del saved["gc"]
        text = json.dumps(saved, indent=2)  # repr of a 6-decimal-rounded float is its 6 decimals
        text = text.replace('"SCORES"', json.dumps(self.scores.tolist()))
        return text.replace('"GC"', json.dumps(None if self.gc is None else self.gc.tolist())) + "\n"

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
        share = getattr(model.config, "spectrum_weight", None)
        if "spectrum_weight" in expected and expected["spectrum_weight"] != share:  # the soft vote's weights
            raise BackgroundError(
                f"{self.path}: computed with the spectrum member's share {expected['spectrum_weight']}, the model "
                f"has {share}; recompute it with `ienhancer-elm background`"
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
        "spectrum_weight": getattr(model.config, "spectrum_weight", None),  # None: an equal share
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


def bh_q_values(counts, level_p) -> np.ndarray:
    """Benjamini-Hochberg q-values per p-value level, from the number of windows at each level.

    p-values against a background take only as many values as it has levels (`Background.level_p`: each
    stratum's (1 + k) / (n_b + 1)), so the windows of a whole scan need no sorting: counts[j] windows sit at
    level j. In order of p, the last window of a level sits at rank R = the windows at that p or below, and
    the q-value of a level is min over levels of p' >= p of m p' / R' (the step-up rule; tied p-values share
    the q of the last of them), capped at 1. Memory O(levels).
    """
    counts, level_p = np.asarray(counts, dtype=np.int64), np.asarray(level_p, dtype=np.float64)
    m = int(counts.sum())
    if m == 0:
        return np.ones(len(counts))
    order = np.argsort(level_p, kind="stable")
    p, in_order = level_p[order], counts[order]
    ranks = np.cumsum(in_order)
    last_of_tie = np.searchsorted(p, p, side="right") - 1  # equal p-values of different strata: one rank
    ranks = ranks[last_of_tie]
    ratio = np.full(len(p), np.inf)
    present = in_order > 0
    ratio[present] = p[present] * m / ranks[present]
    q = np.minimum(np.minimum.accumulate(ratio[::-1])[::-1], 1.0)
    result = np.empty(len(q))
    result[order] = q
    return result


def compute_background(
    model_source,
    fastas,
    settings,
    device=None,
    command: str = "",
    show_progress: bool = True,
    gc_strata: int = GC_STRATA,
) -> Background:
    """Score the windows of `fastas` as `scan` does (its windowing and batching, one process) into a Background
    of `gc_strata` GC strata."""
    import sys

    from tqdm.auto import tqdm

    from .data import sha256_of
    from .predict import compile_for_inference, load_model
    from .scan import ScanSummary, batches, fasta_inventory, fasta_segments, score_batches

    model, tokenizer = load_model(model_source, device, precision=settings.precision)
    if settings.compile:
        compile_for_inference(model, settings.batch_size)
    scores, gc, pieces = array("d"), array("d"), []  # 8 bytes a window, not a Python float's 24
    for fasta in fastas:
        summary = ScanSummary()
        _, total = fasta_inventory(fasta)
        quiet = not show_progress or None  # None: tqdm shows the bar only on a terminal
        bar = tqdm(total=total, desc=Path(fasta).name, unit="bp", unit_scale=True, disable=quiet, file=sys.stderr)
        with bar as progress:
            windows = batches(fasta_segments(fasta), settings, summary, progress)
            for row in score_batches(model, tokenizer, windows, settings):
                scores.append(row[3])
                gc.append(row[4])
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
        gc=np.frombuffer(gc, dtype=np.float64),
        gc_strata=gc_strata,
    )
