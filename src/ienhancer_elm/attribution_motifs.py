"""Motifs from attributions, as the field finds them since the paper: TF-MoDISco (modisco-lite) on the
first-order attributions of the enhancers the model calls, then TOMTOM (memelite) against JASPAR CORE vertebrates.

MoDISco runs with modisco-lite's defaults; each pattern is trimmed as modisco-lite's own report trims it before
TOMTOM (positions whose summed |contribution| reaches 0.3 of the pattern's peak). Positive patterns raise the
call, negative ones lower it. A pattern's support (its seqlets) stands where the attention method gives its seed
enrichment: there is no seed test here.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from .attribution import attribute, hypothetical, one_hot_acgt
from .motifs import Motif, MotifError, MotifSettings, match_jaspar

TRIM_THRESHOLD = 0.3  # modisco-lite's report default


def motifs_from_attributions(
    model, tokenizer, sequences, labels, settings: MotifSettings, batch_size=64, progress=None
):
    """Motifs and a run summary from labelled sequences: attributions of the true positives the model calls
    positive (those of the commonest length), MoDISco, JASPAR matches."""
    from .predict import predict_records
    from .sequences import Record

    sequences = [s.upper() for s in sequences]
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    rows = list(predict_records(model, tokenizer, progress(records) if progress else records, batch_size))
    called = [s for s, y, row in zip(sequences, labels, rows) if y == 1 and row.label == model.config.id2label[1]]
    called = [s for s in called if set(s) <= set("ACGT")]
    if not called:
        raise MotifError("the model calls none of the labelled enhancers an enhancer: no attributions to mine")
    length = Counter(len(s) for s in called).most_common(1)[0][0]
    called = [s for s in called if len(s) == length]  # MoDISco takes one array of equal-length sequences
    scores = attribute(model, tokenizer, called, "first-order", batch_size).scores
    one_hot = np.stack([one_hot_acgt(s) for s in called])
    hypothetical_scores = np.stack([hypothetical(s[0]) for s in scores]).astype(np.float32)
    motifs = run_modisco(one_hot, hypothetical_scores)
    match_jaspar(motifs, settings)
    summary = {
        "method": "attribution (first-order, ensemble) + TF-MoDISco (modisco-lite defaults)",
        "positives called positive": len(called),
        "length": f"{length} bp",
    }
    return motifs, summary


def run_modisco(one_hot: np.ndarray, hypothetical_scores: np.ndarray) -> list[Motif]:
    """MoDISco's patterns as motifs: `pos_N` raise the call, `neg_N` lower it; `instances` is the support."""
    from modiscolite.tfmodisco import TFMoDISco  # the `motifs` extra

    positive, negative = TFMoDISco(one_hot, hypothetical_scores)
    motifs = []
    for prefix, patterns in (("pos", positive or []), ("neg", negative or [])):
        for number, pattern in enumerate(patterns, start=1):
            ppm = trimmed(pattern.sequence, pattern.contrib_scores)
            support = len(pattern.seqlets)
            motifs.append(Motif(f"{prefix}_{number}", (ppm * support).T, support, [], float("nan"), float("nan")))
    return motifs


def trimmed(ppm: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """`(width, 4)` rows of the ppm between the first and last position whose summed |contribution| reaches
    `TRIM_THRESHOLD` of the peak."""
    score = np.abs(contributions).sum(axis=1)
    kept = np.flatnonzero(score >= score.max() * TRIM_THRESHOLD)
    return ppm[kept[0] : kept[-1] + 1]
