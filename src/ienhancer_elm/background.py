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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import sha256_of, written_whole
from .paths import model_file
from .windows import WindowSettings

BACKGROUND_FILE = "background.json"
FORMAT = "ienhancer-elm background 2"
READABLE_FORMATS = ("ienhancer-elm background 1", FORMAT)  # 1: scores alone, one stratum
DECIMALS = 6  # scores are kept as the bedGraph prints them, so that a printed score and its p-value agree
GC_STRATA = 10  # chosen by leaving out one background piece at a time (experiments/background_calibration/background_calibration.py)
P_VALUE = "(1 + number of background windows of the same GC stratum scoring >= s) / (windows of that stratum + 1)"


class BackgroundError(ValueError):
    pass


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
        with written_whole(path) as handle:  # never a half-written background beside a model
            handle.write(self.to_json())
        return Path(path)

    def precision_note(self, precision: str) -> str | None:
        """A note where a run scores in another `precision` ("bf16" or "fp32") than this background was scored in:
        bf16 and fp32 scores differ in the third or fourth decimal, which moves p-values near its top."""
        saved = self.model.get("precision")
        if saved in (None, precision):
            return None
        return f"the background was scored in {saved}, this run scores in {precision}: for exact p-values use --precision {saved}"

    def windows(self) -> WindowSettings:
        """The settings its windows were scored with, to compare with a scan's."""
        return WindowSettings(self.window, self.stride, self.max_n_fraction)

    def check(self, model, weights: Path | None = None) -> None:
        """Refuse a background scored by other weights or another calibration: its p-values would be wrong."""
        expected = self.model
        if weights is not None and weights.is_file() and expected.get("weights_sha256"):
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


def model_fingerprint(model, weights: Path | None, precision: str) -> dict:
    """What a background's scores depend on: the weights, the calibration (probability = f(mean; threshold,
    slope)) and the precision they were scored in."""
    return {
        "weights_sha256": sha256_of(weights) if weights is not None and weights.is_file() else None,
        "threshold": getattr(model.config, "threshold", None),
        "calibration_slope": getattr(model.config, "calibration_slope", None),
        "spectrum_weight": getattr(model.config, "spectrum_weight", None),  # None: an equal share
        "precision": precision,
    }


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
