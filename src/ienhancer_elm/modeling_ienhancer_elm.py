"""The iEnhancer-ELM ensemble: one BERT member per k-mer size, probabilities averaged.

Hub file: imports only the standard library, torch, transformers and the other two Hub files.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel, PreTrainedModel
from transformers.utils import ModelOutput, cached_file

from .configuration_ienhancer_elm import IEnhancerELMConfig
from .tokenization_ienhancer_elm import kmer_vocabulary


@dataclass
class IEnhancerELMOutput(ModelOutput):
    """Output of the ensemble.

    Args:
        loss: mean over members of each member's binary cross-entropy, when `labels` are given.
        logits: `(batch, 2)`, ordered as `config.id2label`. They are log-odds shifted by the
            decision threshold (`[0, logit(p) - logit(threshold)]`), so that the arg-max (as the
            `text-classification` pipeline takes it) is the thresholded call; with the default
            threshold 0.5 a softmax of them gives back `probabilities`.
        probabilities: `(batch,)`, the ensemble probability of the positive class (mean of members).
        member_probabilities: `(batch, members)`, in `config.kmers` order.
        attentions: per member, its tuple of per-layer attentions, when `output_attentions=True`.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    probabilities: torch.Tensor | None = None
    member_probabilities: torch.Tensor | None = None
    attentions: tuple | None = None


def mean_of_kmer_states(hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states of the k-mers alone: [CLS], [SEP] and padding are left out."""
    kmer_mask = attention_mask.clone()
    kmer_mask[:, 0] = 0
    sep_positions = attention_mask.sum(dim=1) - 1
    kmer_mask[torch.arange(len(kmer_mask), device=kmer_mask.device), sep_positions] = 0
    weights = kmer_mask.unsqueeze(-1).to(hidden_states.dtype)
    return (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)


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

    def forward(self, input_ids, attention_mask=None, output_attentions=False):
        # No mask reaches BERT as None, so that a compiled graph calls the attention kernel without one.
        encoded = self.bert(input_ids=input_ids, attention_mask=attention_mask, output_attentions=output_attentions)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        logit = self.head(mean_of_kmer_states(encoded.last_hidden_state, attention_mask)).squeeze(-1)
        return logit, encoded.attentions


class IEnhancerELMPreTrainedModel(PreTrainedModel):
    config_class = IEnhancerELMConfig
    base_model_prefix = "ienhancer_elm"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True


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
        self.post_init()

    def _member_bert_config(self, k: int) -> BertConfig:
        bert_config = BertConfig(**self.config.member_configs[str(k)])
        bert_config._attn_implementation = self.config._attn_implementation
        return bert_config

    def set_attn_implementation(self, attn_implementation):
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
        labels=None,
        output_attentions=False,
        return_dict=None,
        **member_inputs,
    ) -> IEnhancerELMOutput:
        member_logits, attentions = [], []
        for k in self.config.kmers:
            ids, mask = self._inputs_of(k, input_ids, attention_mask, member_inputs)
            logit, attention = self.member(k)(ids, mask, output_attentions=output_attentions)
            member_logits.append(logit)
            attentions.append(attention)
        member_logits = torch.stack(member_logits, dim=-1)
        member_probabilities = torch.sigmoid(member_logits.float())
        probabilities = member_probabilities.mean(dim=-1)
        loss = None
        if labels is not None:
            targets = labels.to(member_logits.dtype).unsqueeze(-1).expand_as(member_logits)
            loss = nn.functional.binary_cross_entropy_with_logits(member_logits.float(), targets.float())
        return IEnhancerELMOutput(
            loss=loss,
            logits=self._thresholded_logits(probabilities),
            probabilities=probabilities,
            member_probabilities=member_probabilities,
            attentions=tuple(attentions) if output_attentions else None,
        )

    def _inputs_of(self, k, input_ids, attention_mask, member_inputs):
        ids = member_inputs.get(f"input_ids_k{k}")
        if ids is not None:
            return ids, member_inputs.get(f"attention_mask_k{k}")
        if input_ids is not None and len(self.config.kmers) == 1:
            return input_ids, attention_mask
        raise ValueError(
            f"missing input_ids_k{k}: tokenize with the ensemble's KmerTokenizer (kmers={self.config.kmers})"
        )

    def _thresholded_logits(self, probabilities: torch.Tensor) -> torch.Tensor:
        eps = torch.finfo(probabilities.dtype).eps
        log_odds = torch.logit(probabilities, eps=eps)
        shift = torch.logit(torch.tensor(self.config.threshold, dtype=probabilities.dtype))
        positive = log_odds - shift.to(probabilities.device)
        return torch.stack([torch.zeros_like(positive), positive], dim=-1)

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
    if encoder.config.vocab_size != 4**k + 5:
        raise ValueError(f"{source}: vocab_size {encoder.config.vocab_size} is not that of a k={k} DNABERT model")
    vocab_path = cached_file(source, "vocab.txt", revision=revision, _raise_exceptions_for_missing_entries=False)
    if vocab_path is not None:
        with open(vocab_path, encoding="utf-8") as handle:
            tokens = [line.strip() for line in handle if line.strip()]
        if tokens != kmer_vocabulary(k):
            raise ValueError(f"{source}: vocab.txt does not list DNABERT's k={k} vocabulary in DNABERT's order")
    return encoder
