"""Configuration of the iEnhancer-ELM ensemble.

Hub file: imports only the standard library and transformers.
"""

from __future__ import annotations

import transformers
from transformers import PretrainedConfig

if int(transformers.__version__.split(".")[0]) < 5:
    raise ImportError(
        f"iEnhancer-ELM's model code needs transformers 5 or later, found {transformers.__version__}: "
        "pip install -U 'transformers>=5'"
    )

SUPPORTED_KMERS = (3, 4, 5, 6)
ENHANCER_LABELS = ("non-enhancer", "enhancer")
# DNABERT's special tokens, in id order; the k-mers follow them in every member's vocabulary.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# How a sequence longer than `window_bp` is scored from its windows: the mean of each member's window
# probabilities, or the member's head on the mean of its windows' pooled states.
WINDOW_COMBINATIONS = ("probability", "states")

# DNABERT-1 members are BERT-base; a member's vocabulary is 4^k k-mers plus five specials.
BERT_BASE = dict(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
)


def checked_kmers(kmers) -> list[int]:
    kmers = [int(k) for k in kmers]
    if not kmers or len(set(kmers)) != len(kmers) or any(k not in SUPPORTED_KMERS for k in kmers):
        raise ValueError(f"kmers must be distinct values from {SUPPORTED_KMERS}, got {kmers}")
    return kmers


def member_vocab_size(k: int) -> int:
    return 4**k + len(SPECIAL_TOKENS)


class IEnhancerELMConfig(PretrainedConfig):
    """Settings of an ensemble of k-mer BERT members (and optionally a k-mer spectrum member) whose probabilities
    are averaged (soft vote).

    Args:
        kmers: the k of each member, distinct values from 3, 4, 5, 6.
        member_configs: per k (as a string key, JSON-style) the keyword arguments of that member's
            `transformers.BertConfig`. Missing members get BERT-base (DNABERT-1's size) with the
            right vocabulary size.
        head_hidden_size: width of each member's classification MLP (the paper uses 25).
        head_dropout: dropout before that MLP (the paper uses 0.3).
        threshold: the soft vote (members' mean probability) above which a sequence gets the positive label (chosen
            on held-out predictions).
        calibration_slope: the model's probability is `sigmoid(calibration_slope * (logit(mean) -
            logit(threshold)))`, so the threshold maps to 0.5 and, with the slope fitted on held-out
            predictions, the probability is calibrated; 1.0 only re-centres the mean.
        labels: the class names, negative first (default `non-enhancer`, `enhancer`).
        window_bp: sequences longer than this are scored in windows of `window_bp` bases (the length the
            members were trained on), `window_stride_bp` apart, the last one ending at the sequence's end;
            `None` reads every sequence whole (at most the members' 512 positions).
        window_stride_bp: the step between windows (default half a window).
        window_combination: "probability" (each member's mean window probability) or "states" (each
            member's head on the mean of its windows' pooled states).
        spectrum_kmers: the k-mer sizes (each one of `kmers`) whose frequencies a further member, a kernel
            machine on the k-mer spectrum, reads from the whole sequence; `None`: no such member.
        spectrum_support_vectors: that member's number of support vectors (the shape of its weights).
        spectrum_weight: that member's share of the soft vote, the BERT members sharing the rest equally;
            `None` gives every member the same share.
        spectrum_windows: the spectrum member reads a sequence longer than `window_bp` window by window and
            its probabilities are averaged (for a member fitted on sequences of one window); otherwise it
            reads the whole sequence.
    """

    model_type = "ienhancer-elm"

    def __init__(
        self,
        kmers=SUPPORTED_KMERS,
        member_configs=None,
        head_hidden_size=25,
        head_dropout=0.3,
        threshold=0.5,
        calibration_slope=1.0,
        labels=ENHANCER_LABELS,
        window_bp=None,
        window_stride_bp=None,
        window_combination="probability",
        spectrum_kmers=None,
        spectrum_support_vectors=0,
        spectrum_weight=None,
        spectrum_windows=False,
        **kwargs,
    ):
        kmers = checked_kmers(kmers)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
        if not calibration_slope > 0:
            raise ValueError(f"calibration_slope must be positive, got {calibration_slope}")
        if not 0.0 <= head_dropout < 1.0:
            raise ValueError(f"head_dropout must lie in [0, 1), got {head_dropout}")
        if head_hidden_size < 1:
            raise ValueError(f"head_hidden_size must be positive, got {head_hidden_size}")
        if len(labels) != 2:
            raise ValueError(f"labels must name the two classes, negative first, got {labels}")
        self.window_bp, self.window_stride_bp = _checked_windows(window_bp, window_stride_bp, max(kmers))
        if window_combination not in WINDOW_COMBINATIONS:
            raise ValueError(f"window_combination must be one of {WINDOW_COMBINATIONS}, got {window_combination!r}")
        self.window_combination = window_combination
        self.kmers = kmers
        given = {str(key): value for key, value in (member_configs or {}).items()}
        self.member_configs = {str(k): _member_config(k, given.get(str(k))) for k in kmers}
        if self.window_bp is not None:
            for k in kmers:
                positions = self.member_configs[str(k)]["max_position_embeddings"]
                if self.window_bp - k + 3 > positions:
                    raise ValueError(
                        f"window_bp {self.window_bp} gives {self.window_bp - k + 3} tokens for k={k}, more than its "
                        f"{positions} positions"
                    )
        self.spectrum_kmers, self.spectrum_support_vectors, self.spectrum_weight = _checked_spectrum(
            spectrum_kmers, spectrum_support_vectors, spectrum_weight, kmers
        )
        self.spectrum_windows = bool(spectrum_windows)
        self.head_hidden_size = int(head_hidden_size)
        self.head_dropout = float(head_dropout)
        self.threshold = float(threshold)
        self.calibration_slope = float(calibration_slope)
        self.labels = list(labels)
        kwargs["id2label"] = dict(enumerate(self.labels))
        kwargs["label2id"] = {label: i for i, label in enumerate(self.labels)}
        super().__init__(**kwargs)


def _checked_windows(window_bp, stride_bp, largest_k: int) -> tuple[int | None, int | None]:
    if window_bp is None:
        if stride_bp is not None:
            raise ValueError("window_stride_bp needs window_bp")
        return None, None
    window_bp = int(window_bp)
    stride_bp = int(stride_bp) if stride_bp is not None else max(1, window_bp // 2)
    if window_bp < largest_k:
        raise ValueError(f"window_bp must be at least the largest k ({largest_k}), got {window_bp}")
    if not 0 < stride_bp <= window_bp:
        raise ValueError(f"window_stride_bp must lie in 1..window_bp ({window_bp}), got {stride_bp}")
    return window_bp, stride_bp


def _checked_spectrum(kmers, support_vectors, weight, member_kmers) -> tuple[list[int] | None, int, float | None]:
    if kmers is None:
        if weight is not None or support_vectors:
            raise ValueError("spectrum_weight and spectrum_support_vectors need spectrum_kmers")
        return None, 0, None
    kmers = checked_kmers(kmers)
    if any(k not in member_kmers for k in kmers):
        raise ValueError(f"spectrum_kmers {kmers} must be among kmers {member_kmers}, whose tokens it counts")
    if int(support_vectors) < 1:
        raise ValueError(f"spectrum_support_vectors must be positive, got {support_vectors}")
    if weight is not None and not 0.0 < weight < 1.0:
        raise ValueError(f"spectrum_weight must lie strictly between 0 and 1, got {weight}")
    return kmers, int(support_vectors), None if weight is None else float(weight)


def _member_config(k: int, given: dict | None) -> dict:
    member = {**BERT_BASE, **(given or {})}
    vocab = member.setdefault("vocab_size", member_vocab_size(k))
    if vocab != member_vocab_size(k):
        raise ValueError(f"member k={k} needs vocab_size {member_vocab_size(k)}, got {vocab}")
    return member
