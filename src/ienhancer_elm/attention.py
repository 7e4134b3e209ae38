"""Per-base attention scores: the last layer's attention from [CLS], summed over heads, spread over bases."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from .models import KmerTokenizer


@torch.inference_mode()
def base_attention(model, sequences: list[str], k: int, batch_size: int = 32) -> list[np.ndarray]:
    """For each sequence, one score per base: the mean [CLS] attention of the k-mers covering the base.

    Follows DNABERT and iEnhancer-ELM: the k member's last layer, [CLS] row, heads summed; [CLS] and
    [SEP] left out.
    """
    device = next(model.parameters()).device
    tokenizer = KmerTokenizer(kmers=(k,))
    scores = []
    with eager_attention(model):
        for start in range(0, len(sequences), batch_size):
            inputs = tokenizer(sequences[start : start + batch_size], padding=True, return_tensors="pt")
            mask = inputs["attention_mask"].to(device)
            _, attentions = model.member(k)(inputs["input_ids"].to(device), mask, output_attentions=True)
            cls_rows = attentions[-1][:, :, 0, :].sum(dim=1).float().cpu().numpy()
            for row, tokens in zip(cls_rows, mask.sum(dim=1).tolist()):
                scores.append(kmer_to_base_scores(row[1 : tokens - 1], k))
    return scores


@contextmanager
def eager_attention(model):
    """The model with eager attention (sdpa and flash kernels return no attention weights), put back as
    it was afterwards."""
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        model.set_attn_implementation(before)


def kmer_to_base_scores(kmer_scores: np.ndarray, k: int) -> np.ndarray:
    """Spread k-mer scores over the bases each k-mer covers, averaging where k-mers overlap."""
    length = len(kmer_scores) + k - 1
    total, count = np.zeros(length), np.zeros(length)
    for offset in range(k):
        total[offset : offset + len(kmer_scores)] += kmer_scores
        count[offset : offset + len(kmer_scores)] += 1
    return total / count


def high_attention_regions(
    scores: np.ndarray, min_length: int = 5, ratio: float = 1.0, over_minimum: float = 10.0
) -> list[tuple[int, int]]:
    """Runs of bases scoring above `ratio` x the sequence's mean and `over_minimum` x its minimum
    (DNABERT's conditions), at least `min_length` long, as half-open (start, end)."""
    above = (scores > ratio * scores.mean()) & (scores > over_minimum * scores.min())
    regions, start = [], None
    for position, flag in enumerate(np.append(above, False)):
        if flag and start is None:
            start = position
        elif not flag and start is not None:
            if position - start >= min_length:
                regions.append((start, position))
            start = None
    return regions
