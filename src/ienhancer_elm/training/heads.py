"""Refitting the members' classification heads on frozen encoder features, so that they do not saturate.

The paper's head (dropout, Linear(hidden, 25), Tanh, Linear(25, 1)) trained end to end drives its Tanh
units to +-1: the pooled features of these members have norms in the tens, so the first Linear's
pre-activations grow large and every sequence past a point gets one constant output. Here the head is fitted
again on the encoder's pooled features, standardised (mean 0, variance 1 per feature) and with weight decay,
which keeps the Tanh units in their graded range; the standardisation is then folded into the first Linear,
so the head keeps the paper's shape and the model folder its layout.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..modeling_ienhancer_elm import mean_of_kmer_states
from ..sequences import read_records
from .finetuning import stratified_folds


def shipped_held_out_fold(labels) -> tuple[np.ndarray, np.ndarray]:
    """(rows the shipped members trained on, rows they never saw): fold 0 of the recipe's 5 stratified folds,
    seed 42 (`training/configs/finetune_*.json`)."""
    return stratified_folds(labels, 5, 42)[0]


def genome_windows(path, window: int = 200, stride: int = 200, max_n: float = 0.1) -> list[str]:
    """Upper-case windows of a FASTA file on the stride grid, those with more than `max_n` N left out."""
    windows = []
    for record in read_records(path):
        sequence = record.sequence.upper()
        pieces = (sequence[start : start + window] for start in range(0, len(sequence) - window + 1, stride))
        windows += [piece for piece in pieces if piece.count("N") <= max_n * window]
    return windows


@dataclass(frozen=True)
class HeadSettings:
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    steps: int = 400  # full-batch Adam steps
    learning_rate: float = 0.01
    dropout: float = 0.3  # on the pooled features, as the paper's head
    seed: int = 0


def encoder_fingerprint(member) -> str:
    """SHA-256 of a member's encoder weights: what cached features were computed with."""
    digest = hashlib.sha256()
    for name, tensor in sorted(member.bert.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@torch.inference_mode()
def pooled_features(model, k: int, tokenizer, sequences, batch_size: int = 64) -> np.ndarray:
    """The k member's head input for each sequence: the mean of its last layer's k-mer token states."""
    member = model.member(k)
    device = next(member.parameters()).device
    chunks = []
    for start in range(0, len(sequences), batch_size):
        encoded = [tokenizer.encode_sequence(s) for s in sequences[start : start + batch_size]]
        columns = tokenizer.collate(encoded)
        name = "input_ids" if len(tokenizer.kmers) == 1 else f"input_ids_k{k}"
        ids, mask = columns[name].to(device), columns[name.replace("input_ids", "attention_mask")].to(device)
        states = member.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        chunks.append(mean_of_kmer_states(states, mask).float().cpu())
    return torch.cat(chunks).numpy()


def fit_head(features: np.ndarray, labels: np.ndarray, hidden: int, settings: HeadSettings) -> nn.Sequential:
    """The paper's head, trained on standardised features and returned with the standardisation folded in."""
    x = torch.as_tensor(features, dtype=torch.float32)
    mean, std = x.mean(dim=0), x.std(dim=0).clamp(min=1e-6)
    y = torch.as_tensor(labels, dtype=torch.float32)
    y = y * (1 - settings.label_smoothing) + 0.5 * settings.label_smoothing
    generator = torch.Generator().manual_seed(settings.seed)
    head = _paper_head(x.shape[1], hidden, settings.dropout, generator)
    optimizer = torch.optim.AdamW(head.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    standardised = (x - mean) / std
    head.train()
    for _ in range(settings.steps):
        with torch.random.fork_rng(devices=[]):  # dropout draws from its own seeded stream
            torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
            loss = nn.functional.binary_cross_entropy_with_logits(head(standardised).squeeze(-1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return fold_standardisation(head.eval(), mean, std)


def _paper_head(width: int, hidden: int, dropout: float, generator: torch.Generator) -> nn.Sequential:
    head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    for layer in (head[1], head[3]):
        bound = 1 / layer.in_features**0.5
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    return head


@torch.no_grad()
def fold_standardisation(head: nn.Sequential, mean: torch.Tensor, std: torch.Tensor) -> nn.Sequential:
    """`W (x - mean) / std + b` written as `(W / std) x + (b - W mean / std)`: the same outputs on raw features."""
    first = head[1]
    first.weight.div_(std)
    first.bias.sub_(first.weight @ mean)
    return head


@torch.no_grad()
def head_probabilities(head: nn.Sequential, features: np.ndarray) -> np.ndarray:
    return torch.sigmoid(head.eval()(torch.as_tensor(features, dtype=torch.float32)).squeeze(-1)).numpy()


def saturated_share(head: nn.Sequential, features: np.ndarray, limit: float = 3.0) -> float:
    """The share of (sequence, Tanh unit) pairs whose pre-activation is beyond +-`limit` (tanh within 0.005 of +-1)."""
    with torch.no_grad():
        pre = head[1](torch.as_tensor(features, dtype=torch.float32))
    return float((pre.abs() > limit).float().mean())


def modal_share(scores, decimals: int = 6) -> float:
    """The share of the single most common score, as the outputs print it (`decimals` places)."""
    _, counts = np.unique(np.round(np.asarray(scores, dtype=float), decimals), return_counts=True)
    return float(counts.max() / counts.sum())
