"""The iEnhancer-ELM ensemble: one BERT member per k-mer size (and optionally a k-mer spectrum member),
probabilities averaged.

Hub file: imports only the standard library, torch, transformers and the other two Hub files.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel, PreTrainedModel
from transformers.utils import ModelOutput, cached_file

from .configuration_ienhancer_elm import SPECIAL_TOKENS, IEnhancerELMConfig, member_vocab_size
from .tokenization_ienhancer_elm import CLS_ID, PAD_ID, SEP_ID, kmer_vocabulary

# The model's probabilities are calibrated so that its call is always `probability > DECISION_THRESHOLD`.
DECISION_THRESHOLD = 0.5


@dataclass
class IEnhancerELMOutput(ModelOutput):
    """Output of the ensemble.

    Args:
        loss: mean over the BERT members of each one's binary cross-entropy, when `labels` are given (the
            spectrum member is fitted apart).
        logits: `(batch, 2)`, ordered as `config.id2label`: `[0, log-odds of probabilities]`, so that a
            softmax gives back `probabilities` and the arg-max (as the `text-classification` pipeline
            takes it) is the call.
        probabilities: `(batch,)`, the calibrated probability of the positive class: the soft vote
            `mean_probabilities` mapped by `config.calibration_slope`, so that the call is `probabilities > 0.5`.
        mean_probabilities: `(batch,)`, the soft vote itself (mean of the members' probabilities, the spectrum
            member weighted by `config.spectrum_weight` when set).
        member_probabilities: `(batch, members)`, in `config.kmers` order, then the spectrum member if the
            model has one.
        hidden_states: per member, its tuple of per-layer states, when `output_hidden_states=True`.
        attentions: per member, its tuple of per-layer attentions, when `output_attentions=True`.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    probabilities: torch.Tensor | None = None
    mean_probabilities: torch.Tensor | None = None
    member_probabilities: torch.Tensor | None = None
    hidden_states: tuple | None = None
    attentions: tuple | None = None


def mean_of_kmer_states(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states of the k-mers alone ([CLS], [SEP] and padding left out), in fp32 whatever
    the encoder ran in: a bf16 sum over ~200 tokens would round the features, and so tie the scores."""
    kmer_mask = attention_mask.clone()
    kmer_mask[:, 0] = 0
    sep_positions = attention_mask.sum(dim=1) - 1
    kmer_mask[torch.arange(len(kmer_mask), device=kmer_mask.device), sep_positions] = 0
    weights = kmer_mask.unsqueeze(-1).float()
    return (hidden_states.float() * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


@dataclass
class Windows:
    """The windows a batch is read in: `row` (the sequence of each window), `start` (its first base), `bases`
    (its length) and `weight` (1, or 0 for a window the largest-k member reads as all [UNK], left out of its
    sequence's mean); `combination` as `IEnhancerELMConfig.window_combination`."""

    row: torch.Tensor
    start: torch.Tensor
    bases: torch.Tensor
    weight: torch.Tensor
    rows: int
    combination: str

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Per sequence, the weighted mean of `values` (one row per window)."""
        weight = self.weight.to(values.dtype).reshape(-1, *([1] * (values.dim() - 1)))
        total = values.new_zeros((self.rows, *values.shape[1:])).index_add_(0, self.row, values * weight)
        count = values.new_zeros((self.rows, *([1] * (values.dim() - 1)))).index_add_(0, self.row, weight)
        return total / count

    def token_inputs(self, input_ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each window's ids ([CLS], its k-mers, [SEP]) and mask, cut from its sequence's ids: the k-mers of a
        stretch of bases are the matching run of the whole sequence's k-mers."""
        kmers = (self.bases - k + 1).clamp(min=0)
        width = int(kmers.max())
        offsets = torch.arange(width, device=input_ids.device)
        inside = offsets < kmers[:, None]
        columns = (1 + self.start[:, None] + offsets).clamp(max=input_ids.shape[1] - 1)
        kmer_ids = torch.where(inside, input_ids[self.row[:, None], columns], PAD_ID)
        ids = nn.functional.pad(kmer_ids, (1, 1), value=PAD_ID)
        ids[:, 0] = CLS_ID
        ids[torch.arange(len(ids), device=ids.device), kmers + 1] = SEP_ID
        mask = (torch.arange(width + 2, device=ids.device) < (kmers + 2)[:, None]).long()
        return ids, mask


def window_starts(bases: int, window: int, stride: int) -> list[int]:
    """First bases of the windows covering `bases`: every `stride`, plus one ending at the last base."""
    if bases <= window:
        return [0]
    starts = list(range(0, bases - window + 1, stride))
    return starts if starts[-1] == bases - window else [*starts, bases - window]


class KmerMember(nn.Module):
    """One enhancer language model: a BERT encoder over k-mer tokens and the paper's small head."""

    def __init__(self, bert_config: BertConfig, head_hidden_size: int, head_dropout: float):
        super().__init__()
        self.bert = BertModel(bert_config, add_pooling_layer=False)
        self.head = nn.Sequential(
            nn.Dropout(head_dropout),
            nn.Linear(bert_config.hidden_size, head_hidden_size),
            nn.Tanh(),
            nn.Linear(head_hidden_size, 1),
        )

    def head_logit(self, pooled: torch.Tensor) -> torch.Tensor:
        """The head in fp32 arithmetic on fp32 features, even in a model cast to bf16 (its weights are upcast, so
        they keep bf16's rounding there): bf16 logits (8 bits of mantissa) would give thousands of sequences the
        same score."""
        if not isinstance(self.head, nn.Sequential):  # wrapped by an adapter library (PEFT's modules_to_save)
            weights_dtype = next(self.head.parameters()).dtype
            return self.head(pooled.to(weights_dtype)).float().squeeze(-1)
        dropout, first, activation, last = self.head
        with torch.autocast(pooled.device.type, enabled=False):
            hidden = activation(nn.functional.linear(dropout(pooled), first.weight.float(), first.bias.float()))
            return nn.functional.linear(hidden, last.weight.float(), last.bias.float()).squeeze(-1)

    def forward(
        self,
        input_ids,
        attention_mask=None,
        output_attentions=False,
        output_hidden_states=False,
        windows: Windows | None = None,
        **bert_inputs,
    ):
        """(logit, attentions) or, with `output_hidden_states`, (logit, attentions, hidden states); with `windows`
        the rows are windows, and the logits those of their sequences."""
        # No mask reaches BERT as None, so that a compiled graph calls the attention kernel without one.
        encoded = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            **bert_inputs,
        )
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        pooled = mean_of_kmer_states(encoded.last_hidden_state, attention_mask)
        if windows is None:
            logit = self.head_logit(pooled)
        elif windows.combination == "states":
            logit = self.head_logit(windows.mean(pooled))
        else:
            probability = windows.mean(torch.sigmoid(self.head_logit(pooled)))
            logit = torch.logit(probability, eps=torch.finfo(probability.dtype).eps)
        return (
            (logit, encoded.attentions, encoded.hidden_states) if output_hidden_states else (logit, encoded.attentions)
        )


def kmer_frequencies(ids: torch.Tensor, k: int) -> torch.Tensor:
    """`(batch, 4**k)`: each sequence's share of every k-mer, counted from its k-mer token ids ([UNK], specials
    and padding left out), in DNABERT's vocabulary order."""
    index = ids.long() - len(SPECIAL_TOKENS)
    counted = (index >= 0).float()
    counts = torch.zeros(len(ids), 4**k, device=ids.device, dtype=counted.dtype)
    counts.scatter_add_(1, index.clamp(min=0), counted)
    return counts / counts.sum(dim=1, keepdim=True).clamp(min=1)


class SpectrumMember(nn.Module):
    """A support vector classifier with an RBF kernel on the standardised k-mer frequencies of the whole
    sequence, however long, with Platt's sigmoid on its decision value. Fitted by scikit-learn
    (`ienhancer_elm.training.spectrum`); here only its weights, as buffers, and the arithmetic.

    It stays in fp32 whatever the model is cast to: kernel distances over a thousand features in bf16 would
    blur the ranking it brings.
    """

    def __init__(self, kmers, support_vectors: int):
        super().__init__()
        self.kmers = list(kmers)
        width = sum(4**k for k in self.kmers)
        shapes = {
            "feature_mean": (width,),
            "feature_scale": (width,),
            "support_vectors": (support_vectors, width),
            "dual_coef": (support_vectors,),
            "gamma": (1,),
            "intercept": (1,),
            "platt": (2,),  # a, b of P = 1 / (1 + exp(a * decision + b))
        }
        for name, shape in shapes.items():
            self.register_buffer(name, torch.ones(shape, dtype=torch.float32))

    def _apply(self, fn, recurse=True):
        for name, buffer in self._buffers.items():  # `fn`'s device, never its dtype
            moved = fn(buffer)
            self._buffers[name] = moved if moved.dtype == torch.float32 else buffer.to(device=moved.device)
        return self

    def features(self, ids_by_k: dict) -> torch.Tensor:
        frequencies = torch.cat([kmer_frequencies(ids_by_k[k], k) for k in self.kmers], dim=1)
        return (frequencies - self.feature_mean) / self.feature_scale

    def forward(self, ids_by_k: dict) -> torch.Tensor:
        """The log-odds of each sequence, from `{k: its k-mer token ids}`."""
        with torch.autocast(self.support_vectors.device.type, enabled=False):
            x = self.features(ids_by_k)
            distances = torch.cdist(x, self.support_vectors).square()
            decision = torch.exp(-self.gamma * distances) @ self.dual_coef + self.intercept
            return -(self.platt[0] * decision + self.platt[1])


class IEnhancerELMPreTrainedModel(PreTrainedModel):
    config_class = IEnhancerELMConfig
    base_model_prefix = "ienhancer_elm"
    main_input_name = "input_ids"  # an ensemble of several members sets its first member's ids per instance
    # `forward` takes no loss keyword arguments (Trainer would pass num_items_in_batch otherwise): the loss is a
    # mean over the batch and the members
    accepts_loss_kwargs = False
    supports_gradient_checkpointing = True
    # Claimed where a test compares them with eager attention: sdpa, and backends registered through
    # transformers' AttentionInterface. Flash and flex attention are not claimed: untested here (CPU machines).
    _supports_sdpa = True
    _supports_flash_attn = False
    _supports_flex_attn = False
    _supports_attention_backend = True
    _keep_in_fp32_modules_strict = ["spectrum"]


class IEnhancerELMForSequenceClassification(IEnhancerELMPreTrainedModel):
    """The ensemble; it serves both `AutoModel` and `AutoModelForSequenceClassification`.

    Inputs are the keys of `KmerTokenizer`: `input_ids_k{k}` / `attention_mask_k{k}` for every
    member, or plain `input_ids` / `attention_mask` when the ensemble has a single member.
    """

    def __init__(self, config: IEnhancerELMConfig):
        super().__init__(config)
        self.members = nn.ModuleDict(
            {
                f"k{k}": KmerMember(self._member_bert_config(k), config.head_hidden_size, config.head_dropout)
                for k in config.kmers
            }
        )
        self.spectrum = (
            SpectrumMember(config.spectrum_kmers, config.spectrum_support_vectors) if config.spectrum_kmers else None
        )
        if len(config.kmers) > 1:
            self.main_input_name = f"input_ids_k{config.kmers[0]}"
        self.post_init()

    def _member_bert_config(self, k: int) -> BertConfig:
        return BertConfig(**self.config.member_configs[str(k)], attn_implementation=self.config._attn_implementation)

    def set_attn_implementation(self, attn_implementation):
        swapped = [name for name, member in self.members.items() if not isinstance(member, KmerMember)]
        if swapped:
            raise ValueError(
                f"member(s) {', '.join(swapped)} were replaced by compiled copies, whose attention is fixed: set the "
                "attention implementation before compiling, or load the model again"
            )
        super().set_attn_implementation(attn_implementation)
        for member in self.members.values():
            member.bert.set_attn_implementation(attn_implementation)

    def save_pretrained(self, save_directory, **kwargs):
        if self._auto_class is not None:  # one class serves both Auto classes; auto_map names the second one
            name = f"{type(self).__module__.rsplit('.', 1)[-1]}.{type(self).__name__}"
            self.config.auto_map = {
                **(getattr(self.config, "auto_map", None) or {}),
                "AutoModelForSequenceClassification": name,
            }
        return super().save_pretrained(save_directory, **kwargs)

    def member(self, k: int) -> KmerMember:
        return self.members[f"k{k}"]

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        input_ids_k3=None,
        attention_mask_k3=None,
        input_ids_k4=None,
        attention_mask_k4=None,
        input_ids_k5=None,
        attention_mask_k5=None,
        input_ids_k6=None,
        attention_mask_k6=None,
        token_type_ids=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        return_dict=None,
        **unexpected,
    ) -> IEnhancerELMOutput | tuple:
        """Inputs as `KmerTokenizer` makes them: `input_ids_k{k}` / `attention_mask_k{k}` for every member,
        or `input_ids` / `attention_mask` (and DNABERT's `token_type_ids`) for a one-member ensemble.
        `labels` (0/1) add the loss. Returns an `IEnhancerELMOutput`, or its tuple with `return_dict=False`.
        """
        if unexpected:
            raise TypeError(
                f"{type(self).__name__}.forward() got unexpected argument(s) {', '.join(sorted(unexpected))}; "
                f"it takes input_ids_kN / attention_mask_kN for N in {self.config.kmers}"
            )
        config = self.config
        output_attentions = config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = config.return_dict if return_dict is None else return_dict
        per_member = {
            3: (input_ids_k3, attention_mask_k3),
            4: (input_ids_k4, attention_mask_k4),
            5: (input_ids_k5, attention_mask_k5),
            6: (input_ids_k6, attention_mask_k6),
        }
        inputs = self._member_inputs(per_member, input_ids, attention_mask, token_type_ids)
        windows = self._windows(inputs)
        if windows is not None and (output_attentions or output_hidden_states):
            raise ValueError(
                f"attentions and hidden states are per window: ask for them on sequences of at most "
                f"{config.window_bp} bp, which are read whole"
            )
        member_logits, attentions, hidden_states = [], [], []
        for k in config.kmers:
            ids, mask, extra = inputs[k]
            if windows is not None:
                ids, mask = windows.token_inputs(ids, k)
                extra = {"windows": windows}
            outputs = self.member(k)(ids, mask, output_attentions, output_hidden_states, **extra)
            member_logits.append(outputs[0])
            attentions.append(outputs[1])
            hidden_states.append(outputs[2] if output_hidden_states else None)
        member_logits = torch.stack(member_logits, dim=-1).float()
        loss = None
        if labels is not None:  # the spectrum member is fitted apart, not by gradients
            targets = labels.float().unsqueeze(-1).expand_as(member_logits)
            loss = nn.functional.binary_cross_entropy_with_logits(member_logits, targets)
        if self.spectrum is not None:
            member_logits = torch.cat([member_logits, self._spectrum_logit(inputs, windows).unsqueeze(-1)], dim=-1)
        member_probabilities = torch.sigmoid(member_logits)
        # a sum, not `@`: autocast would run a matmul in bf16 and round the scores
        mean_probabilities = (member_probabilities * self._member_weights(member_probabilities)).sum(dim=-1)
        log_odds = self._calibrated_log_odds(mean_probabilities)
        output = IEnhancerELMOutput(
            loss=loss,
            logits=torch.stack([torch.zeros_like(log_odds), log_odds], dim=-1),
            probabilities=torch.sigmoid(log_odds),
            mean_probabilities=mean_probabilities,
            member_probabilities=member_probabilities,
            hidden_states=tuple(hidden_states) if output_hidden_states else None,
            attentions=tuple(attentions) if output_attentions else None,
        )
        return output if return_dict else output.to_tuple()

    def _member_inputs(self, per_member, input_ids, attention_mask, token_type_ids) -> dict:
        """`{k: (ids, mask, other BERT inputs)}` for every member, refusing inputs no member reads."""
        kmers = self.config.kmers
        stray = [f"input_ids_k{k}" for k, (ids, _) in per_member.items() if ids is not None and k not in kmers]
        stray += [f"attention_mask_k{k}" for k, (_, m) in per_member.items() if m is not None and k not in kmers]
        if stray:
            raise ValueError(f"{', '.join(stray)} given, but this ensemble has members k = {kmers}")
        if len(kmers) == 1 and input_ids is not None and per_member[kmers[0]][0] is None:
            return {kmers[0]: (input_ids, attention_mask, {"token_type_ids": token_type_ids})}
        if input_ids is not None or token_type_ids is not None:
            raise ValueError(
                f"input_ids / token_type_ids alone serve a one-member ensemble; this one has members k = {kmers}: "
                "tokenize with its KmerTokenizer, which gives input_ids_kN / attention_mask_kN"
            )
        missing = [f"input_ids_k{k}" for k in kmers if per_member[k][0] is None]
        if missing:
            raise ValueError(
                f"missing {', '.join(missing)}: tokenize with the ensemble's KmerTokenizer (kmers={kmers})"
            )
        return {k: (*per_member[k], {}) for k in kmers}

    def _windows(self, inputs: dict) -> Windows | None:
        """The windows to read the batch in, or None where every sequence is read whole."""
        config = self.config
        if config.window_bp is None:
            for k in config.kmers:
                positions = config.member_configs[str(k)]["max_position_embeddings"]
                if inputs[k][0].shape[1] > positions:
                    raise ValueError(
                        f"{inputs[k][0].shape[1]} tokens for k={k}, more than the {positions} positions the members "
                        "take; this model has no window_bp to read longer sequences in windows: scan them "
                        "(`ienhancer-elm scan`)"
                    )
            return None
        k = max(config.kmers)  # its [UNK]s cover those of the others
        ids, mask, _ = inputs[k]
        window, stride = config.window_bp, config.window_stride_bp
        if ids.shape[1] - 2 + k - 1 <= window:  # from the padded width: no look at the values, no device sync
            return None
        tokens = mask.sum(dim=1) if mask is not None else torch.full((len(ids),), ids.shape[1], device=ids.device)
        bases = tokens - 2 + k - 1
        spans = [
            (row, start, min(window, n))
            for row, n in enumerate(bases.tolist())
            for start in window_starts(n, window, stride)
        ]
        row, start, length = (torch.tensor(column, device=ids.device) for column in zip(*spans))
        windows = Windows(
            row, start, length, torch.ones(len(spans), device=ids.device), len(ids), config.window_combination
        )
        window_ids, _ = windows.token_inputs(ids, k)
        readable = (window_ids >= len(SPECIAL_TOKENS)).any(dim=1).float()  # some k-mer, not only [UNK]
        # a sequence all of whose windows are unreadable keeps them all (it cannot be scored better)
        keeps_none = windows.mean(readable) == 0
        windows.weight = torch.where(keeps_none[row], torch.ones_like(readable), readable)
        return windows

    def _spectrum_logit(self, inputs: dict, windows: Windows | None) -> torch.Tensor:
        """The spectrum member's log-odds: of the whole sequence, or with `spectrum_windows` its windows' mean
        probability (a member fitted on sequences of one window)."""
        if windows is None or not self.config.spectrum_windows:
            return self.spectrum({k: inputs[k][0] for k in self.spectrum.kmers})
        per_window = self.spectrum({k: windows.token_inputs(inputs[k][0], k)[0] for k in self.spectrum.kmers})
        probability = windows.mean(torch.sigmoid(per_window))
        return torch.logit(probability, eps=torch.finfo(probability.dtype).eps)

    def _member_weights(self, member_probabilities: torch.Tensor) -> torch.Tensor:
        """Each member's share of the soft vote: equal, or `spectrum_weight` for the spectrum member and the
        rest shared by the BERT members."""
        members = member_probabilities.shape[-1]
        weights = member_probabilities.new_full((members,), 1 / members)
        if self.spectrum is not None and self.config.spectrum_weight is not None:
            weights[:-1] = (1 - self.config.spectrum_weight) / (members - 1)
            weights[-1] = self.config.spectrum_weight
        return weights

    def _calibrated_log_odds(self, mean_probabilities: torch.Tensor) -> torch.Tensor:
        """`calibration_slope * (logit(mean) - logit(threshold))`: the threshold maps to 0.5, and the slope
        (fitted on held-out predictions) makes the probabilities calibrated."""
        eps = torch.finfo(mean_probabilities.dtype).eps
        log_odds = torch.logit(mean_probabilities, eps=eps)
        shift = torch.logit(torch.tensor(self.config.threshold, dtype=mean_probabilities.dtype))
        return self.config.calibration_slope * (log_odds - shift.to(mean_probabilities.device))

    @classmethod
    def from_members(cls, members: dict, revision: str | None = None, **config_kwargs):
        """Build an ensemble from DNABERT-layout member checkpoints, `{k: Hub id or folder}`.

        Each source holds `config.json`, BERT weights (`pytorch_model.bin` or safetensors, with or
        without the masked-LM head) and `vocab.txt`, as `zhihan1996/DNA_bert_K` does. The encoders
        arrive unchanged; the classification heads start fresh. `config_kwargs` go to the config
        (threshold, labels, head sizes).
        """
        encoders = {int(k): _load_member_encoder(int(k), source, revision) for k, source in members.items()}
        member_configs = {str(k): _member_settings(encoder.config) for k, encoder in encoders.items()}
        model = cls(cls.config_class(kmers=list(encoders), member_configs=member_configs, **config_kwargs))
        for k, encoder in encoders.items():
            model.member(k).bert.load_state_dict(encoder.state_dict())
        return model


MEMBER_SETTINGS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
)


def _member_settings(bert_config: BertConfig) -> dict:
    return {name: getattr(bert_config, name) for name in MEMBER_SETTINGS}


def _load_member_encoder(k: int, source, revision) -> BertModel:
    encoder = BertModel.from_pretrained(source, revision=revision, add_pooling_layer=False)
    if encoder.config.vocab_size != member_vocab_size(k):
        raise ValueError(f"{source}: vocab_size {encoder.config.vocab_size} is not that of a k={k} DNABERT model")
    try:
        vocab_path = cached_file(source, "vocab.txt", revision=revision)
    except OSError:  # a checkpoint without vocab.txt: its vocab_size was checked above
        vocab_path = None
    if vocab_path is not None:
        with open(vocab_path, encoding="utf-8") as handle:
            tokens = [line.strip() for line in handle if line.strip()]
        if tokens != kmer_vocabulary(k):
            raise ValueError(f"{source}: vocab.txt does not list DNABERT's k={k} vocabulary in DNABERT's order")
    return encoder
