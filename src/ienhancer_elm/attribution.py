"""Which bases make a sequence an enhancer: per-base, per-nucleotide attributions.

For each position and each base, the change in the model's log-odds were that base to stand there (the
observed base scores 0), for the ensemble and for each member. Two ways to get them:

- `ism`: exact in-silico saturation mutagenesis, every position and every other base scored by the model
  (tangermeme's `saturation_mutagenesis`, through `OneHotEnsemble`); 3 L extra sequences per sequence.
- `first_order`: one forward and backward pass per BERT member: the change of a member's logit when one k-mer
  token becomes another is estimated through the gradient at its word embedding, (E[new] - E[old]) . dlogit/dE,
  summed over the k tokens a base falls in. The spectrum member is cheap to score exactly and is; the members'
  log-odds are then combined by the ensemble's own vote and calibration, so the ensemble's scores are exact
  functions of the members'. Its agreement with `ism` is measured (`bench/attribution.py`).

DeepLIFT/SHAP and plain gradients x input need the one-hot input to reach the model through differentiable
layers; here it becomes discrete k-mer tokens first, so the gradient is taken at the token embeddings instead.
Arrays are `(len(names), L, 4)` with bases in A, C, G, T order, as tangermeme, logomaker and MoDISco expect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .tokenization_ienhancer_elm import CLS_ID, DNABERT_BASE_ORDER, SEP_ID, encode_bases, kmer_ids

BASES = "ACGT"
METHODS = ("first-order", "ism")
# column j of an ACGT array holds the base whose tokenizer code is _CODE_OF[j] (the tokenizer counts in A T C G)
_CODE_OF = torch.tensor([DNABERT_BASE_ORDER.index(base) for base in BASES])


class AttributionError(ValueError):
    pass


@dataclass
class Attributions:
    """`scores[i]`: `(len(names), L_i, 4)` log-odds changes of sequence i; `log_odds[i]`: its own log-odds per
    name. `names`: "ensemble", then each member ("k3", ..., "spectrum")."""

    names: list[str]
    scores: list[np.ndarray]
    log_odds: np.ndarray
    method: str


def member_names(model) -> list[str]:
    return [f"k{k}" for k in model.config.kmers] + (["spectrum"] if model.spectrum is not None else [])


def attribute(model, tokenizer, sequences, method: str = "first-order", batch_size: int = 64) -> Attributions:
    """Attributions of `sequences` (A, C, G, T only) by `method` ("first-order" or "ism")."""
    if method not in METHODS:
        raise AttributionError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
    codes = [checked_codes(sequence, index) for index, sequence in enumerate(sequences)]
    scores, log_odds = [None] * len(codes), [None] * len(codes)
    for rows in _by_length(codes).values():
        batch = torch.stack([codes[i] for i in rows])
        for start in range(0, len(rows), batch_size):
            part = batch[start : start + batch_size]
            if method == "ism":
                found, reference = _ism(model, tokenizer, part, batch_size)
            else:
                found, reference = _first_order(model, part)
            for offset, row in enumerate(rows[start : start + batch_size]):
                scores[row], log_odds[row] = found[offset], reference[offset]
    names = ["ensemble", *member_names(model)]
    return Attributions(names, scores, np.array(log_odds).reshape(len(codes), len(names)), method)


def hypothetical(scores: np.ndarray) -> np.ndarray:
    """Scores mean-centred over the four bases at each position: TF-MoDISco's hypothetical contributions."""
    return scores - scores.mean(axis=-1, keepdims=True)


def observed_contribution(scores: np.ndarray, sequence: str) -> np.ndarray:
    """`(..., L)`: what each observed base adds to the log-odds against the mean of the other three bases."""
    one_hot = one_hot_acgt(sequence)
    return -(scores * (1 - one_hot)).sum(axis=-1) / 3


def one_hot_acgt(sequence: str) -> np.ndarray:
    return (np.array(list(sequence.upper()))[:, None] == np.array(list(BASES))).astype(np.float32)


def gc_change(sequence: str) -> np.ndarray:
    """`(L, 4)`: how many G or C a substitution adds (+1 A/T -> G/C, -1 G/C -> A/T, else 0)."""
    is_gc = np.array([base in "GC" for base in BASES], dtype=np.float32)
    return is_gc[None, :] - one_hot_acgt(sequence) @ is_gc[:, None]


def checked_codes(sequence: str, index: int = 0) -> torch.Tensor:
    """The sequence's base codes, or AttributionError naming what attributions cannot read."""
    try:
        codes = encode_bases(sequence)
    except ValueError as error:
        raise AttributionError(f"sequence {index}: {error}") from None
    if bool((codes > 3).any()) or len(codes) < 6:
        raise AttributionError(f"sequence {index}: attributions need at least 6 bases, all of them A, C, G or T")
    return codes


def _by_length(codes) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for index, row in enumerate(codes):
        groups.setdefault(len(row), []).append(index)
    return groups


class OneHotEnsemble(torch.nn.Module):
    """The ensemble as a function of one-hot DNA `(batch, 4, L)` (A, C, G, T), as tangermeme wants it: returns
    `(batch, 1 + members)`, the ensemble's calibrated log-odds and each member's."""

    def __init__(self, model, tokenizer):
        super().__init__()
        self.model, self.tokenizer = model, tokenizer

    def forward(self, one_hot: torch.Tensor) -> torch.Tensor:
        codes = _CODE_OF.to(one_hot.device)[one_hot.argmax(dim=1)]
        output = self.model(**self.tokenizer.encode_codes(codes))
        members = torch.logit(output.member_probabilities.double(), eps=1e-12).float()
        return torch.cat([output.logits[:, 1:].float(), members], dim=1)


@torch.no_grad()
def _ism(model, tokenizer, codes: torch.Tensor, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis  # the `train` extra

    device = next(model.parameters()).device
    one_hot = torch.nn.functional.one_hot(_acgt_index(codes), 4).transpose(1, 2).float()
    reference, mutants = saturation_mutagenesis(
        OneHotEnsemble(model, tokenizer).eval(),
        one_hot,
        batch_size=batch_size,
        raw_outputs=True,
        fast=False,
        device=device,
    )
    changes = mutants - reference[:, None, None, :]  # (batch, 4, L, names)
    return changes.permute(0, 3, 2, 1).cpu().numpy(), reference.cpu().numpy()


def _acgt_index(codes: torch.Tensor) -> torch.Tensor:
    return torch.argsort(_CODE_OF)[codes]


def _first_order(model, codes: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    window = model.config.window_bp
    if window is not None and codes.shape[1] > window:
        raise AttributionError(
            f"sequences of {codes.shape[1]} bp are read in windows of {window} bp; the first-order method takes "
            "one window: use method 'ism' or give stretches of at most the window"
        )
    device = next(model.parameters()).device
    codes = codes.to(device)
    logits, changes = [], []
    for k in model.config.kmers:
        logit, change = _member_first_order(model.member(k), k, codes)
        logits.append(logit)
        changes.append(change)
    logits, changes = torch.stack(logits, dim=-1), torch.stack(changes, dim=-1)  # (B,), (B, L, 4, members)
    mutant_logits = logits[:, None, None, :] + changes
    if model.spectrum is not None:
        spectrum_reference, spectrum_mutants = _spectrum_exact(model, codes)
        logits = torch.cat([logits, spectrum_reference[:, None]], dim=-1)
        mutant_logits = torch.cat([mutant_logits, spectrum_mutants[..., None]], dim=-1)
    reference = _ensemble_log_odds(model, logits)
    ensemble = _ensemble_log_odds(model, mutant_logits) - reference[:, None, None]
    member_changes = mutant_logits - logits[:, None, None, :]
    scores = torch.cat([ensemble[..., None], member_changes], dim=-1)[:, :, _CODE_OF.to(device), :]
    return scores.permute(0, 3, 1, 2).detach().cpu().numpy(), torch.cat(
        [reference[:, None], logits], 1
    ).detach().cpu().numpy()


def _ensemble_log_odds(model, member_logits: torch.Tensor) -> torch.Tensor:
    """The ensemble's calibrated log-odds from its members' (last axis), as its `forward` combines them."""
    probabilities = torch.sigmoid(member_logits.float())
    mean = (probabilities * model._member_weights(probabilities)).sum(dim=-1)
    return model._calibrated_log_odds(mean)


def _member_first_order(member, k: int, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the member's logits `(B,)`, the first-order change of its logit for every substitution `(B, L, 4)` in the
    tokenizer's base order)."""
    rows, length = codes.shape
    kmers = kmer_ids(codes, k)
    ids = torch.cat(
        [torch.full((rows, 1), CLS_ID, device=codes.device), kmers, torch.full((rows, 1), SEP_ID, device=codes.device)],
        dim=1,
    )
    embedding = member.bert.embeddings.word_embeddings
    captured = []
    handle = embedding.register_forward_hook(lambda module, inputs, output: captured.append(output))
    try:
        with torch.enable_grad():
            logit = member(ids, torch.ones_like(ids))[0]
            (gradient,) = torch.autograd.grad(logit.float().sum(), captured[0])
    finally:
        handle.remove()
    # the first-order change of the logit were token t to become k-mer v: gradient[t] . (E[v] - E[ids[t]]); only the
    # 4 k k-mers one substitution can make are looked up, not the whole vocabulary
    gradient, weight = gradient[:, 1:-1].float(), embedding.weight.float()
    kept = (weight[kmers] * gradient).sum(-1)
    tokens = kmers.shape[1]
    bases = torch.arange(4, device=codes.device)
    change = torch.zeros(rows, length, 4, device=codes.device)
    for offset in range(k):  # the substituted base is the offset-th of the k-mer
        old = codes[:, offset : offset + tokens, None]
        new = kmers[..., None] + (bases - old) * 4 ** (k - 1 - offset)  # (B, tokens, 4)
        change[:, offset : offset + tokens] += (weight[new] * gradient[:, :, None]).sum(-1) - kept[..., None]
    return logit.detach().float(), change


@torch.no_grad()
def _spectrum_exact(model, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The spectrum member's log-odds of each sequence `(B,)` and of each of its substitutions `(B, L, 4)`."""
    spectrum = model.spectrum
    reference = spectrum({k: kmer_ids(codes, k) for k in spectrum.kmers})
    rows, length = codes.shape
    mutants = []
    for row in codes:
        variants = row.repeat(length * 4, 1)
        positions = torch.arange(length, device=codes.device).repeat_interleave(4)
        variants[torch.arange(length * 4), positions] = torch.arange(4, device=codes.device).repeat(length)
        mutants.append(spectrum({k: kmer_ids(variants, k) for k in spectrum.kmers}).view(length, 4))
    return reference, torch.stack(mutants)
