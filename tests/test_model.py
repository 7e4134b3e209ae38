import re
import shutil

import pytest
import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoModelForSequenceClassification, BertConfig, BertForMaskedLM

from ienhancer_elm import IEnhancerELMConfig, IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.hub_export import TINY_MEMBER, tiny_model

from conftest import DNABERT_CONFIG

SEQUENCES = ["ACGTTGCAGGATTACA" * 12, "TTGACCA" * 20]


def encode(kmers, sequences=SEQUENCES):
    return KmerTokenizer(kmers=kmers)(sequences, padding=True, return_tensors="pt")


def test_config_defaults_and_validation():
    config = IEnhancerELMConfig()
    assert config.kmers == [3, 4, 5, 6] and config.threshold == 0.5
    assert config.member_configs["6"]["vocab_size"] == 4101 and config.member_configs["3"]["hidden_size"] == 768
    assert config.id2label == {0: "non-enhancer", 1: "enhancer"}
    for bad in [
        dict(kmers=[2]),
        dict(kmers=[3, 3]),
        dict(threshold=1.0),
        dict(head_dropout=1.5),
        dict(labels=["a"]),
        dict(member_configs={"3": {"vocab_size": 10}}),
    ]:
        with pytest.raises(ValueError):
            IEnhancerELMConfig(**bad)


def test_probabilities_are_the_calibrated_mean_of_the_members_and_the_softmax_of_the_logits():
    model = tiny_model()
    labels = torch.tensor([1, 0])
    inputs = encode((3, 4))
    with torch.no_grad():
        output = model(**inputs, labels=labels)  # threshold 0.5, slope 1: the calibration leaves the mean alone
        members = [model.member(k)(inputs[f"input_ids_k{k}"], inputs[f"attention_mask_k{k}"])[0] for k in (3, 4)]
    assert output.logits.shape == (2, 2) and output.member_probabilities.shape == (2, 2)
    assert torch.allclose(output.member_probabilities, torch.sigmoid(torch.stack(members, dim=-1)), atol=1e-6)
    mean = output.member_probabilities.mean(-1)
    assert torch.allclose(output.mean_probabilities, mean) and torch.allclose(output.probabilities, mean, atol=1e-6)
    assert torch.allclose(output.logits.softmax(-1)[:, 1], output.probabilities, atol=1e-6)
    # the loss trains every member on the labels: the mean of their binary cross-entropies
    expected_loss = torch.nn.functional.binary_cross_entropy(
        output.member_probabilities, labels.float()[:, None].expand(-1, 2)
    )
    assert torch.allclose(output.loss, expected_loss, atol=1e-6)
    model.config.threshold, model.config.calibration_slope = 0.6, 2.0
    with torch.no_grad():
        output = model(**inputs)
    expected = torch.sigmoid(2.0 * (torch.logit(mean) - torch.logit(torch.tensor(0.6))))
    assert torch.allclose(output.probabilities, expected, atol=1e-6)
    assert torch.allclose(output.mean_probabilities, mean)
    assert torch.allclose(output.logits.softmax(-1)[:, 1], output.probabilities, atol=1e-6)


def test_the_label_is_the_mean_probability_above_the_threshold():
    model = tiny_model()
    with torch.no_grad():
        mean = model(**encode((3, 4))).mean_probabilities
        low, high = mean.min().item(), mean.max().item()
        for threshold in (low - 1e-4, (low + high) / 2, high + 1e-4):  # all enhancers, one of each, none
            model.config.threshold = threshold
            assert torch.equal(model(**encode((3, 4))).logits.argmax(-1), (mean > threshold).long()), threshold
    assert low < high  # the middle threshold did split the two


def test_padding_does_not_change_predictions():
    model = tiny_model()
    batched = model(**encode((3, 4))).probabilities
    alone = torch.cat([model(**encode((3, 4), [s])).probabilities for s in SEQUENCES])
    assert torch.allclose(batched, alone, atol=1e-5)


def test_a_member_without_a_mask_counts_every_token():
    member = tiny_model().member(3)
    ids = encode((3,), SEQUENCES[:1])["input_ids"]
    with_mask, _ = member(ids, torch.ones_like(ids))
    without, _ = member(ids, None)
    assert torch.allclose(with_mask, without, atol=1e-6)


@pytest.mark.parametrize(
    "inputs, message",
    [
        (
            lambda: encode((3, 5)),
            "input_ids_k5, attention_mask_k5 given, but this ensemble has members k = [3, 4]",
        ),
        (
            lambda: {**encode((3, 4)), "input_ids_k5": torch.ones(2, 10, dtype=torch.long)},
            "input_ids_k5 given, but this ensemble has members k = [3, 4]",
        ),
        (
            lambda: {**encode((3, 4)), "token_type_ids": torch.zeros(2, 10, dtype=torch.long)},
            "input_ids / token_type_ids alone serve a one-member ensemble; this one has members k = [3, 4]",
        ),
    ],
    ids=["other-members-ids-and-mask", "other-members-ids", "token-type-ids"],
)
def test_inputs_no_member_reads_are_refused_by_name(inputs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny_model()(**inputs())


def test_a_one_member_ensemble_takes_dnabert_style_input_ids_and_token_type_ids():
    model = tiny_model(kmers=(6,))
    inputs = encode((6,))
    assert set(inputs) == {"input_ids", "attention_mask"}  # DNABERT's names, not input_ids_k6
    with torch.no_grad():
        plain = model(**inputs).probabilities
        typed = model(**inputs, token_type_ids=torch.zeros_like(inputs["input_ids"])).probabilities
        named = model(input_ids_k6=inputs["input_ids"], attention_mask_k6=inputs["attention_mask"]).probabilities
        member_logit, _ = model.member(6)(inputs["input_ids"], inputs["attention_mask"])
    assert plain.shape == (2,)
    assert torch.allclose(plain, torch.sigmoid(member_logit), atol=1e-6)  # one member: its own probability
    assert torch.equal(plain, typed) and torch.equal(plain, named)


def test_save_load_round_trip(tmp_path):
    model = tiny_model()
    model.save_pretrained(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "modeling_ienhancer_elm.py",
        "configuration_ienhancer_elm.py",
        "tokenization_ienhancer_elm.py",
    } <= files and "pytorch_model.bin" not in files
    for auto in (AutoModel, AutoModelForSequenceClassification):
        loaded = auto.from_pretrained(tmp_path).eval()
        assert type(loaded) is IEnhancerELMForSequenceClassification
        assert torch.equal(loaded(**encode((3, 4))).logits, model(**encode((3, 4))).logits)


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_attn_implementation_reaches_members(tmp_path, implementation):
    tiny_model().save_pretrained(tmp_path)
    model = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path, attn_implementation=implementation)
    assert {m.bert.config._attn_implementation for m in model.members.values()} == {implementation}


def test_attentions_are_each_members_softmax_over_the_keys_and_leave_the_probabilities_alone():
    model = tiny_model()
    model.set_attn_implementation("eager")
    inputs = encode((3, 4))
    with torch.no_grad():
        plain = model(**inputs)
        output = model(**inputs, output_attentions=True)
    assert plain.attentions is None
    assert torch.equal(output.member_probabilities, plain.member_probabilities)
    assert torch.equal(output.probabilities, plain.probabilities)
    assert len(output.attentions) == 2  # members k = 3, 4
    for attentions, k in zip(output.attentions, (3, 4)):
        mask = inputs[f"attention_mask_k{k}"]
        tokens = 192 - k + 3  # the 192 bp sequence: its k-mers, [CLS] and [SEP]; the 140 bp one is padded
        assert mask.shape == (2, tokens) and mask[1].sum() == 140 - k + 3
        assert len(attentions) == TINY_MEMBER["num_hidden_layers"]
        for layer in attentions:
            assert layer.shape == (2, TINY_MEMBER["num_attention_heads"], tokens, tokens)
            assert torch.allclose(layer.sum(dim=-1), torch.ones(layer.shape[:-1]), atol=1e-5)  # over the keys
            assert layer[1][..., mask[1] == 0].abs().max() < 1e-6  # no attention to padding


def write_dnabert_checkpoint(folder, k, safetensors=False, seed=0):
    """A tiny random BERT masked LM in the zhihan1996/DNA_bert_K layout, with DNABERT's own vocab files."""
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=4**k + 5, **TINY_MEMBER, architectures=["BertForMaskedLM"])
    model = BertForMaskedLM(config)
    folder.mkdir(parents=True)
    config.to_json_file(folder / "config.json")
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    if safetensors:  # tied decoder weights are stored once, as the Hub's safetensors conversions do
        state = {
            n: t.clone()
            for n, t in state.items()
            if n not in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")
        }
        save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    else:
        torch.save(state, folder / "pytorch_model.bin")
    for name in ("vocab.txt", "special_tokens_map.json", "tokenizer_config.json"):
        shutil.copy(DNABERT_CONFIG / f"bert-config-{k}" / name, folder / name)
    return model


def test_from_dnabert_members_keeps_encoder_weights(tmp_path):
    sources = {3: write_dnabert_checkpoint(tmp_path / "k3", 3), 6: write_dnabert_checkpoint(tmp_path / "k6", 6, True)}
    ensemble = IEnhancerELMForSequenceClassification.from_members(
        {3: tmp_path / "k3", 6: tmp_path / "k6"}, threshold=0.6
    )
    assert ensemble.config.kmers == [3, 6] and ensemble.config.threshold == 0.6
    for k, source in sources.items():
        expected = {n.removeprefix("bert."): t for n, t in source.state_dict().items() if n.startswith("bert.")}
        got = ensemble.member(k).bert.state_dict()
        assert set(got) <= set(expected)
        for name, tensor in got.items():
            assert torch.equal(tensor, expected[name]), name
    assert ensemble(**encode((3, 6))).probabilities.shape == (2,)


def test_from_members_refuses_a_mismatched_checkpoint(tmp_path):
    write_dnabert_checkpoint(tmp_path / "k4", 4)
    with pytest.raises(ValueError, match="not that of a k=3"):
        IEnhancerELMForSequenceClassification.from_members({3: tmp_path / "k4"})
    (tmp_path / "k4" / "vocab.txt").write_text("\n".join(sorted((tmp_path / "k4" / "vocab.txt").read_text().split())))
    with pytest.raises(ValueError, match="does not list DNABERT's k=4 vocabulary"):
        IEnhancerELMForSequenceClassification.from_members({4: tmp_path / "k4"})


def test_a_member_that_cannot_be_compiled_warns_and_runs_uncompiled():
    from torch._inductor.exc import InductorError

    from ienhancer_elm.runtime import compile_for_inference

    model = tiny_model().eval()
    expected = model(**encode((3, 4))).probabilities
    compile_for_inference(model, batch_size=4)

    class NoCompiler(torch.nn.Module):
        def forward(self, *inputs):
            raise InductorError(RuntimeError("No working C++ compiler found"), None)

    for member in model.members.values():
        member.compiled = NoCompiler()
    with pytest.warns(UserWarning, match="run uncompiled: .*No working C\\+\\+ compiler"):
        probabilities = model(**encode((3, 4))).probabilities
    assert torch.allclose(probabilities, expected, atol=1e-6)
    assert all(member.compiled is member.member for member in model.members.values())
