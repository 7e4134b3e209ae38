"""The model folders as a Hub user loads them (trust_remote_code, in a fresh interpreter that cannot import the
package): the same numbers, messages and warnings as the package gives. One interpreter serves every test here
(fixture `remote_code` in conftest.py)."""

import numpy as np
import pytest
import torch

from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record

from conftest import BAD_SEQUENCES, TINY, shipped_reference


def in_process(model, sequences, **tokenizer_options):
    tokenizer = KmerTokenizer(kmers=model.config.kmers, **tokenizer_options)
    with torch.no_grad():
        return model.eval()(**tokenizer(sequences, padding=True, return_tensors="pt"))


def enhancer_scores(rows) -> list[float]:
    """P(enhancer) from `pipeline`'s top label and score."""
    return [row["score"] if row["label"] == "enhancer" else 1 - row["score"] for row in rows]


def test_the_hub_files_are_loaded_as_remote_code_without_the_package(remote_code):
    assert remote_code["process"]["ienhancer_elm_imported"] is False
    for name in ("fresh_tiny", "tiny", "pushed", "spectrum", "windowed", "nhlf"):
        assert remote_code[name]["remote"]["module"].startswith("transformers_modules"), name


@pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")  # GATTACA x 9: 63 bp
def test_remote_code_load_and_pipeline_give_the_packages_logits_labels_and_scores(remote_code):
    job = remote_code["fresh_tiny"]
    found, sequences = job["remote"], job["sequences"]
    assert found["classifier_is_automodel_class"]
    model = IEnhancerELMForSequenceClassification.from_pretrained(job["folder"])
    output = in_process(model, sequences)
    assert torch.allclose(torch.tensor(found["logits"]), output.logits, atol=1e-6)
    assert torch.allclose(output.logits, in_process(job["model"], sequences).logits, atol=1e-6)  # as written
    one, batched = found["one_by_one"], found["batched"]
    assert [r["label"] for r in one] == [r["label"] for r in batched]
    assert [r["score"] for r in one] == pytest.approx([r["score"] for r in batched], abs=1e-5)
    labels = [model.config.id2label[int(p > 0.5)] for p in output.probabilities]
    assert [r["label"] for r in one] == labels
    assert [r["score"] for r in one] == pytest.approx([max(p, 1 - p) for p in output.probabilities.tolist()], abs=1e-6)


@pytest.mark.parametrize("name", list(BAD_SEQUENCES))
def test_every_entry_point_refuses_a_bad_sequence_with_the_same_message(name, remote_code, tiny_predictions):
    message = BAD_SEQUENCES[name][1]
    refused = remote_code["tiny"]["remote"]["refused"][name]
    assert message in tiny_predictions[name].error
    assert message in refused["automodel"]
    assert message in refused["pipeline"]


def test_the_probability_is_the_same_number_everywhere(remote_code, tiny_predictions):
    found = remote_code["tiny"]["remote"]
    (probability,) = found["probabilities"]
    assert tiny_predictions["good"].probability == pytest.approx(probability, abs=1e-6)
    (top,) = found["one_by_one"]
    scores = {row["label"]: row["score"] for row in found["all_scores"][0]}
    assert scores["enhancer"] == pytest.approx(tiny_predictions["good"].probability, abs=1e-6)
    assert tiny_predictions["good"].label == top["label"] == max(scores, key=scores.get)
    assert top["score"] == pytest.approx(max(scores.values()), abs=1e-6)


def test_every_entry_point_warns_about_a_short_sequence(remote_code, tiny_predictions):
    warnings = remote_code["tiny"]["remote"]["short_warnings"]
    assert "40 bp is shorter than 100 bp" in tiny_predictions["short"].warning
    assert warnings and "40 bp is shorter than 100 bp" in warnings[0]
    assert tiny_predictions["short"].probability is not None  # a warning, not a refusal


def test_the_pushed_files_load_and_give_the_local_folders_logits(remote_code):
    """The files `release push` sends (copied here as the Hub stand-in receives them) make a working model."""
    pushed = remote_code["pushed"]
    local = IEnhancerELMForSequenceClassification.from_pretrained(TINY)
    expected = in_process(local, pushed["sequences"]).logits
    assert torch.allclose(torch.tensor(pushed["remote"]["logits"]), expected, atol=1e-6)


def test_a_model_with_a_spectrum_member_round_trips_through_automodel_and_pipeline(remote_code):
    job = remote_code["spectrum"]
    found, sequences = job["remote"], job["sequences"]
    assert found["spectrum"] == "SpectrumMember"
    expected = in_process(job["model"], sequences).probabilities.numpy()
    np.testing.assert_allclose(found["probabilities"], expected, atol=1e-5)
    np.testing.assert_allclose(enhancer_scores(found["one_by_one"]), expected, atol=1e-5)


def test_a_long_sequence_gets_one_probability_through_predict_automodel_and_pipeline(remote_code):
    job = remote_code["windowed"]
    found, (sequence, start) = job["remote"], job["sequences"]
    model, tokenizer = load_model(job["folder"], "cpu", precision="fp32")
    row, head = predict_records(model, tokenizer, [Record("long", sequence), Record("start", start)], precision="fp32")
    assert row.error is None and row.length == 1500
    scores = [row.probability, found["probabilities"][0], *enhancer_scores(found["batched"][:1])]
    assert max(scores) - min(scores) < 1e-5
    assert found["batched"][0]["label"] == row.label
    assert head.probability == pytest.approx(found["probabilities"][1], abs=1e-5)  # 300 bp, in the same batch


def test_nhlf_model_loads_through_automodel_and_reads_1_kb_sequences(remote_code):
    job = remote_code["nhlf"]
    expected = [shipped_reference()["models"]["nhlf"][name]["probability"] for name in job["names"]]
    assert len(job["names"]) == 4 and all(len(sequence) > 900 for sequence in job["sequences"])
    assert job["remote"]["probabilities"] == pytest.approx(expected, abs=1e-5)
