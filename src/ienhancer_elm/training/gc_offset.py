"""GC share as a fixed input of the head (issue 33): a member's log-odds plus the log-odds of a logistic regression
on GC share alone, fitted on the training rows and frozen. Where GC share already decides, the sum is right and the
loss small, so the member's gradient comes from what GC share leaves unexplained: a product of experts with a
composition-only model (Clark et al. 2019, "Don't take the easy way out"). The sum is the candidate's score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn
from transformers.utils import ModelOutput

from ..sequences import gc_fraction

OFFSET_FILE = "gc_offset.json"


def fit_gc_log_odds(gc, labels) -> tuple[float, float]:
    """(slope, intercept) of a logistic regression of the label on GC share (`gc`, one per row), all but
    unpenalised: sklearn's default penalty would shrink the slope, and the offset's size matters, not only its
    order; a finite C keeps the fit finite where GC share separates the classes."""
    fitted = LogisticRegression(C=1e4).fit(np.asarray(gc, dtype=float).reshape(-1, 1), np.asarray(labels))
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


@dataclass
class OffsetOutput(ModelOutput):
    loss: torch.Tensor | None = None
    probabilities: torch.Tensor | None = None
    member_log_odds: torch.Tensor | None = None


class GCOffsetMember(nn.Module):
    """A one-member model whose log-odds gets `slope * gc + intercept` added; batches carry `gc` (a float per row)."""

    def __init__(self, model, slope: float, intercept: float):
        super().__init__()
        if len(model.config.kmers) != 1 or model.config.window_bp:
            raise ValueError("a GC offset is for one member that reads its sequences whole (no window_bp)")
        self.model = model
        self.register_buffer("offset", torch.tensor([slope, intercept], dtype=torch.float32))

    def forward(self, input_ids, attention_mask, gc, labels=None) -> OffsetOutput:
        member = self.model.member(self.model.config.kmers[0])
        member_log_odds = member(input_ids, attention_mask, False, False)[0].float()
        log_odds = member_log_odds + self.offset[0] * gc.float() + self.offset[1]
        loss = None
        if labels is not None:
            loss = nn.functional.binary_cross_entropy_with_logits(log_odds, labels.float())
        return OffsetOutput(loss=loss, probabilities=torch.sigmoid(log_odds), member_log_odds=member_log_odds)

    def save_pretrained(self, folder, **kwargs) -> None:
        """The member as any other (it scores without the offset), and the offset beside it."""
        self.model.save_pretrained(folder, **kwargs)
        slope, intercept = self.offset.tolist()
        (Path(folder) / OFFSET_FILE).write_text(json.dumps({"slope": slope, "intercept": intercept}) + "\n")


def gc_shares(sequences) -> torch.Tensor:
    return torch.tensor([gc_fraction(s) for s in sequences], dtype=torch.float32)
