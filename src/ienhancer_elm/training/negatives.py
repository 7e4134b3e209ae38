"""Extra negatives for fine-tuning: windows of FASTA files (plain genome, say) that hold no benchmark sequence."""

from __future__ import annotations

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
