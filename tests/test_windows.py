"""Sequences longer than a window: read in overlapping windows, combined per sequence. That predict, AutoModel
and pipeline give such a sequence one and the same probability is tests/integration/test_remote_code.py."""

import pytest
import torch

from ienhancer_elm import KmerTokenizer
from ienhancer_elm.hub_export import tiny_model
from ienhancer_elm.modeling_ienhancer_elm import mean_of_kmer_states, window_starts

from conftest import random_dna, windowed_tiny


def tokenize(sequences):
    return KmerTokenizer(kmers=(3, 4), model_max_length=10_000)(sequences, padding=True, return_tensors="pt")


@pytest.mark.parametrize(
    "bases, starts",
    [
        (1000, [0, 100, 200, 300, 400, 500, 600, 700, 800]),
        (950, [0, 100, 200, 300, 400, 500, 600, 700, 750]),
        (200, [0]),
        (150, [0]),
    ],
)
def test_windows_step_by_the_stride_and_the_last_ends_at_the_last_base(bases, starts):
    assert window_starts(bases, 200, 100) == starts


def test_a_long_sequence_scores_the_mean_of_its_windows_probabilities():
    model = windowed_tiny("probability")
    sequence = random_dna(400, seed=1)
    windows = [sequence[start : start + 120] for start in window_starts(400, 120, 50)]
    with torch.no_grad():
        whole = model(**tokenize([sequence]))
        parts = model(**tokenize(windows))
    assert len(windows) == 7
    assert torch.allclose(whole.member_probabilities[0], parts.member_probabilities.mean(dim=0), atol=1e-5)


def test_states_combination_runs_the_head_on_the_mean_of_the_windows_pooled_states():
    model = windowed_tiny("states")
    sequence = random_dna(300, seed=2)
    windows = [sequence[start : start + 120] for start in window_starts(300, 120, 50)]
    inputs = tokenize(windows)
    expected = []
    with torch.no_grad():
        for k in (3, 4):
            member = model.member(k)
            ids, mask = inputs[f"input_ids_k{k}"], inputs[f"attention_mask_k{k}"]
            pooled = mean_of_kmer_states(member.bert(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
            expected.append(torch.sigmoid(member.head_logit(pooled.mean(dim=0, keepdim=True)))[0])
        whole = model(**tokenize([sequence]))
    assert torch.allclose(whole.member_probabilities[0], torch.stack(expected), atol=1e-5)


def test_a_batch_mixing_short_and_long_sequences_scores_each_as_alone():
    model = windowed_tiny()
    sequences = [random_dna(90, seed=3), random_dna(500, seed=4), random_dna(121, seed=5)]
    with torch.no_grad(), pytest.warns(UserWarning, match="shorter than 100 bp"):
        together = model(**tokenize(sequences)).probabilities
        alone = torch.cat([model(**tokenize([s])).probabilities for s in sequences])
    assert torch.allclose(together, alone, atol=1e-5)


def test_windows_of_ns_are_left_out_of_the_mean():
    model = windowed_tiny(window=100, stride=100)
    readable = random_dna(200, seed=6)
    with_gap = readable[:100] + "N" * 100 + readable[100:]
    with torch.no_grad():
        gap = model(**tokenize([with_gap])).member_probabilities
        kept = model(**tokenize([readable[:100], readable[100:]])).member_probabilities.mean(dim=0)
    assert torch.allclose(gap[0], kept, atol=1e-5)


def test_a_model_without_windows_names_the_limit_and_attentions_of_windows_are_refused():
    model = tiny_model(kmers=(3, 4))
    with pytest.raises(ValueError, match="more than the 512 positions.*no window_bp"):
        model(**tokenize([random_dna(600, seed=7)]))
    with pytest.raises(ValueError, match="per window"):
        windowed_tiny()(**tokenize([random_dna(300, seed=8)]), output_attentions=True)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"window_bp": 2}, "at least the largest k"),
        ({"window_stride_bp": 10}, "needs window_bp"),
        ({"window_bp": 100, "window_stride_bp": 101}, "window_stride_bp must lie"),
        ({"window_bp": 100, "window_combination": "max"}, "window_combination"),
    ],
)
def test_window_settings_are_checked(settings, message):
    from ienhancer_elm import IEnhancerELMConfig

    with pytest.raises(ValueError, match=message):
        IEnhancerELMConfig(kmers=[3, 4], **settings)


def test_members_in_any_order_and_every_members_position_limit():
    from ienhancer_elm import IEnhancerELMConfig

    model = tiny_model(kmers=(4, 3))  # the largest k is not the last: its windows are still the ones checked
    model.config.window_bp, model.config.window_stride_bp = 100, 100
    readable = random_dna(100, seed=10)
    tokenizer = KmerTokenizer(kmers=(4, 3), model_max_length=10_000)
    with torch.no_grad():
        gap = model(**tokenizer([readable + "N" * 100], return_tensors="pt")).member_probabilities
        alone = model(**tokenizer([readable], return_tensors="pt")).member_probabilities
    assert torch.allclose(gap, alone, atol=1e-5)
    whole = tiny_model(kmers=(3, 6))  # 513 bp: 510 tokens for k=6, within 512 positions, but 513 for k=3
    with pytest.raises(ValueError, match="513 tokens for k=3, more than the 512 positions"):
        whole(**KmerTokenizer(kmers=(3, 6), model_max_length=10_000)([random_dna(513, seed=11)], return_tensors="pt"))
    with pytest.raises(ValueError, match="window_bp 600 gives 600 tokens for k=3"):
        IEnhancerELMConfig(kmers=[3, 6], window_bp=600)
