"""One validation for every entry point: `predict` refuses the sequences of BAD_SEQUENCES with their messages,
warns on short ones, and gives the model's probability. That `AutoModel` and `pipeline` (remote code, in a fresh
interpreter) do the same is checked in tests/integration/test_remote_code.py."""

import pytest

from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record, reverse_complement

from conftest import BAD_SEQUENCES, GOOD_SEQUENCE, TINY


@pytest.mark.parametrize("name", list(BAD_SEQUENCES))
def test_predict_refuses_a_bad_sequence_with_its_message_and_no_score(name, tiny_predictions):
    row = tiny_predictions[name]
    assert BAD_SEQUENCES[name][1] in row.error
    assert row.probability is None and row.label is None


def test_predict_warns_about_a_short_sequence_and_still_scores_it(tiny_predictions):
    short, good = tiny_predictions["short"], tiny_predictions["good"]
    assert "40 bp is shorter than 100 bp" in short.warning and short.error is None
    assert 0 < short.probability < 1  # a warning, not a refusal
    assert good.warning is None and good.error is None


def test_predicts_probability_and_label_are_the_models(tiny_predictions):
    import torch

    from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer

    model = IEnhancerELMForSequenceClassification.from_pretrained(TINY).eval()
    with torch.no_grad():
        (expected,) = model(**KmerTokenizer(kmers=(3, 4))(GOOD_SEQUENCE, return_tensors="pt")).probabilities.tolist()
    good = tiny_predictions["good"]
    assert good.probability == pytest.approx(expected, abs=1e-6)
    assert good.label == model.config.id2label[int(expected > 0.5)]


def test_a_non_string_record_gets_an_error_row_and_the_others_are_scored():
    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    rows = list(predict_records(model, tokenizer, [Record("n", 12345), Record("ok", GOOD_SEQUENCE)], precision="fp32"))
    assert rows[0].error == "expected a DNA string, got int" and rows[0].probability is None
    assert rows[1].error is None and rows[1].probability is not None


def test_reverse_complement_keeps_case_and_ambiguity_codes():
    assert reverse_complement("acgt") == "acgt"
    assert reverse_complement("AACGN") == "NCGTT"
    assert reverse_complement("ACGTRYKM") == "KMRYACGT"
