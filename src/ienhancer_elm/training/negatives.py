"""Extra negatives for fine-tuning: windows of FASTA files (plain genome, say) that hold no benchmark sequence,
and dinucleotide shuffles of the positives (the field's control for composition: every base and dinucleotide
count kept, motifs destroyed), which a model can only tell from enhancers by what is not composition; and the
GC-matching tools that take a sequence's GC share away as a cue (windows matched to the positives' GC, weights that
balance the classes within each GC bin, and a sampler that draws by them)."""

from __future__ import annotations

import numpy as np
import torch

from ..sequences import read_fasta
from .pretraining import corpus_windows, dataset_records


def fasta_windows(paths, excluded, window: int = 200, stride: int = 200) -> tuple[list[str], list[str]]:
    """(windows, the record each comes from): the forward-strand windows of FASTA files that hold no N (the
    tokenizer would read [UNK] k-mers, which no benchmark sequence has) and overlap no `excluded` sequence on
    either strand (the benchmark's own sequences, some of which lie in genome pieces)."""
    excluded = {sequence.upper() for sequence in excluded}
    windows, names = [], []
    for path in paths:
        for record_id, _, sequence in read_fasta(path):
            both_strands = corpus_windows([(record_id, sequence)], excluded, window, stride)[0]
            forward = [piece for piece in both_strands[0::2] if len(piece) == window]
            windows += forward
            names += [record_id] * len(forward)
    return windows, names


def benchmark_sequences(dataset: str, config: str) -> set[str]:
    """Every sequence of a benchmark config, both splits: what extra negatives must not hold."""
    return {sequence for split in ("train", "test") for _, sequence in dataset_records(dataset, config, split)}


def dinucleotide_shuffles(sequences, per_sequence: int = 1, seed: int = 0) -> list[str]:
    """`per_sequence` dinucleotide shuffles of each sequence (tangermeme's Euler-path shuffle: the first and last
    base and every dinucleotide count kept), in input order; a sequence with letters other than ACGT is refused."""
    from tangermeme.ersatz import dinucleotide_shuffle  # the `train` extra
    from tangermeme.utils import characters, one_hot_encode

    shuffles = []
    for index, sequence in enumerate(sequences):
        sequence = sequence.upper()
        if set(sequence) - set("ACGT"):
            raise ValueError(f"sequence {index}: only A, C, G, T can be dinucleotide-shuffled")
        drawn = dinucleotide_shuffle(one_hot_encode(sequence).unsqueeze(0), n=per_sequence, random_state=seed + index)
        shuffles += [characters(one_hot) for one_hot in drawn[0]]
    return shuffles


def gc_matched_pairs(target_gc, candidate_gc, tolerance: float = 0.01, seed: int = 0) -> list[tuple[int, int]]:
    """(target row, candidate row) for each target GC fraction, in order: a candidate whose GC share lies within
    `tolerance` of it, drawn at random without replacement; a target with no candidate left in reach gets none."""
    rng = np.random.default_rng(seed)
    candidate_gc = np.asarray(candidate_gc)
    free = np.ones(len(candidate_gc), dtype=bool)
    pairs = []
    for row, target in enumerate(target_gc):
        candidates = np.flatnonzero(free & (np.abs(candidate_gc - target) <= tolerance + 1e-9))
        if len(candidates):
            pick = int(rng.choice(candidates))
            free[pick] = False
            pairs.append((row, pick))
    return pairs


def gc_matched_windows(target_gc, windows, window_gc, tolerance: float = 0.01, seed: int = 0) -> list[str]:
    """For each target GC fraction, in order, one of `windows` matched as `gc_matched_pairs` matches."""
    return [windows[pick] for _, pick in gc_matched_pairs(target_gc, window_gc, tolerance, seed)]


def gc_balancing_weights(gc, labels, width: float = 0.02) -> np.ndarray:
    """Weights under which, in every GC bin of `width`, each class carries half the bin's rows: GC share alone then
    tells nothing. Rows of a bin that holds one class only get weight 0. The weights sum to the rows kept."""
    gc, labels = np.asarray(gc), np.asarray(labels)
    bins = np.floor(gc / width + 1e-9).astype(int)
    weights = np.zeros(len(gc))
    for value in np.unique(bins):
        rows = bins == value
        counts = [np.sum(rows & (labels == label)) for label in (0, 1)]
        if min(counts) == 0:
            continue
        for label, count in zip((0, 1), counts):
            weights[rows & (labels == label)] = rows.sum() / (2 * count)
    return weights


class GCBalancedSampler(torch.utils.data.Sampler):
    """Draws the training rows with replacement in proportion to `gc_balancing_weights`, as many draws an epoch as
    rows: in every GC bin the two classes then come equally often, so GC share alone earns nothing. The draw
    depends on the seed and the epoch only (accelerate calls `set_epoch`), so that a resumed run and every
    process draw the same rows."""

    def __init__(self, gc, labels, seed: int):
        self.weights = torch.as_tensor(gc_balancing_weights(gc, labels), dtype=torch.double)
        if not self.weights.sum() > 0:
            raise ValueError("no GC bin holds both classes: GC-balanced sampling has nothing to draw")
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.weights)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        yield from torch.multinomial(self.weights, len(self.weights), replacement=True, generator=generator).tolist()
