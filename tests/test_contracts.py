"""The transformers contracts of the model and tokenizer, and the caller's objects and process left alone.

What the forward pass computes (soft vote, calibration, threshold, inputs refused, one-member input) is in
test_model.py."""

import warnings

import pytest
import torch

from ienhancer_elm import KmerTokenizer
from ienhancer_elm.hub_export import tiny_model

# short sequences make the ids easy to read; the warning they get is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")

SEQUENCES = ["ACGTTGCAGGATTACA" * 12, "TTGACCA" * 20]


def encode(sequences=SEQUENCES, kmers=(3, 4), **options):
    return KmerTokenizer(kmers=kmers)(sequences, padding=True, return_tensors="pt", **options)


def test_a_misspelled_input_is_refused_by_name():
    inputs = encode()
    inputs["attention_masks_k3"] = inputs.pop("attention_mask_k3")
    with pytest.raises(TypeError, match="attention_masks_k3"):
        tiny_model()(**inputs)


def test_a_missing_member_input_is_named():
    inputs = encode()
    del inputs["input_ids_k4"]
    with pytest.raises(ValueError, match="missing input_ids_k4"):
        tiny_model()(**inputs)


def test_return_dict_false_gives_the_tuple_of_the_output():
    model = tiny_model()
    with torch.no_grad():
        as_object = model(**encode())
        as_tuple = model(**encode(), return_dict=False)
    assert isinstance(as_tuple, tuple)
    assert torch.equal(as_tuple[0], as_object.logits) and torch.equal(as_tuple[1], as_object.probabilities)


def test_output_hidden_states_gives_every_layer_of_every_member():
    model = tiny_model()
    with torch.no_grad():
        output = model(**encode(), output_hidden_states=True)
        plain = model(**encode())
    assert plain.hidden_states is None
    assert len(output.hidden_states) == 2  # members k = 3, 4
    for states, k in zip(output.hidden_states, (3, 4)):
        layers = model.config.member_configs[str(k)]["num_hidden_layers"]
        assert len(states) == layers + 1 and states[-1].shape == (2, 192 - k + 3, 32)  # padded to the longest


def test_truncation_keeps_the_first_bases_that_fit_max_length():
    tokenizer = KmerTokenizer(kmers=(3, 4))
    encoded = tokenizer("ACGTACGTAC", truncation=True, max_length=4)
    assert len(encoded["input_ids_k3"]) == 4  # [CLS] 2 k-mers [SEP]
    assert encoded["input_ids_k3"] == tokenizer("ACGT")["input_ids_k3"]
    assert len(encoded["input_ids_k4"]) <= 4
    long = "ACGT" * 200
    with pytest.raises(ValueError, match="more than the 512 this tokenizer takes"):
        tokenizer(long)
    assert len(tokenizer(long, truncation=True)["input_ids_k3"]) == 512


def test_special_tokens_mask_and_length_are_returned_on_request():
    tokenizer = KmerTokenizer(kmers=(3,))
    encoded = tokenizer(["ACGTA", "ACGTACG"], padding=True, return_special_tokens_mask=True, return_length=True)
    assert encoded["length"] == [5, 7]
    assert encoded["special_tokens_mask"] == [[1, 0, 0, 0, 1, 1, 1], [1, 0, 0, 0, 0, 0, 1]]
    as_tensors = tokenizer(["ACGTA", "ACGTACG"], padding=True, return_length=True, return_tensors="pt")
    assert torch.equal(as_tensors["length"], torch.tensor([5, 7]))
    ensemble = KmerTokenizer(kmers=(3, 4))("ACGTAC", return_length=True, return_special_tokens_mask=True)
    assert ensemble["length_k3"] == 6 and ensemble["length_k4"] == 5
    assert ensemble["special_tokens_mask_k4"] == [1, 0, 0, 0, 1]


@pytest.mark.parametrize(
    "options, name",
    [
        ({"return_token_type_ids": True}, "return_token_type_ids"),
        ({"return_overflowing_tokens": True}, "return_overflowing_tokens"),
        ({"return_offsets_mapping": True}, "return_offsets_mapping"),
        ({"stride": 2}, "stride"),
        ({"padding_side": "left"}, "padding_side"),
    ],
)
def test_flags_the_tokenizer_cannot_honour_are_refused_by_name(options, name):
    with pytest.raises(ValueError, match=f"does not support {name}"):
        KmerTokenizer(kmers=(3,))("ACGTACGT", **options)


def test_explain_leaves_the_callers_attention_implementation_as_it_was():
    from ienhancer_elm.attention import base_attention

    model = tiny_model()
    model.set_attn_implementation("sdpa")
    base_attention(model, SEQUENCES, 3)
    assert model.config._attn_implementation == "sdpa"
    assert all(m.bert.config._attn_implementation == "sdpa" for m in model.members.values())


def test_figures_leave_the_matplotlib_backend_alone(tmp_path):
    import matplotlib

    from ienhancer_elm.explain import explain_sequence
    from ienhancer_elm.sequences import Record

    matplotlib.use("svg")  # a backend a notebook user might have chosen
    model = tiny_model()
    explain_sequence(model, KmerTokenizer(kmers=(3, 4)), Record("r", SEQUENCES[0]), tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 0
    assert matplotlib.get_backend() == "svg"


def test_tiny_model_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny_model(seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_short_sequences_warn_once_per_call():
    with pytest.warns(UserWarning, match=r"sequence 0 \(and 1 more\): 10 bp is shorter than 100 bp"):
        KmerTokenizer(kmers=(3,))(["ACGTACGTAC", "ACGTACGTACGT", "ACGT" * 50])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        KmerTokenizer(kmers=(3,))("ACGT" * 50)  # 200 bp: no warning


def test_exporting_a_member_leaves_the_callers_config_alone(tmp_path):
    import json

    from ienhancer_elm.release.publishing import export_member

    model = tiny_model()
    before = model.member(3).bert.config.to_dict()
    folder = export_member(model, 3, tmp_path / "k3")
    assert model.member(3).bert.config.to_dict() == before
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["BertModel"]
