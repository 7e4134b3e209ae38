"""Attributions (issue 34, item 1): exact ISM against `predict`, the first-order method's arithmetic, a planted
site, and the command's files."""

import csv

import numpy as np
import pytest
import torch

from ienhancer_elm.attribution import (
    AttributionError,
    _ensemble_log_odds,
    attribute,
    gc_change,
    hypothetical,
    observed_contribution,
)
from ienhancer_elm.cli import main
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record
from ienhancer_elm.tokenization_ienhancer_elm import KmerTokenizer

from conftest import GATA_SITE, random_dna, spectrum_tiny, synthetic_sequences


@pytest.fixture(scope="module")
def spectrum_model():
    _, model = spectrum_tiny()
    return model.eval(), KmerTokenizer(kmers=model.config.kmers)


def _mutated(sequence: str, position: int, base: str) -> str:
    return sequence[:position] + base + sequence[position + 1 :]


def test_ism_equals_predict_on_every_mutated_sequence(spectrum_model):
    model, tokenizer = spectrum_model
    sequence = random_dna(40, seed=3)
    found = attribute(model, tokenizer, [sequence], "ism")
    scores, log_odds = found.scores[0], found.log_odds[0]
    assert found.names == ["ensemble", "k3", "k4", "spectrum"] and scores.shape == (4, 40, 4)
    mutants = [(p, b) for p in range(40) for b in "ACGT" if b != sequence[p]]
    records = [Record(f"{p}{b}", _mutated(sequence, p, b)) for p, b in mutants]
    rows = list(predict_records(model, tokenizer, records, batch_size=32, precision="fp32"))
    for (position, base), row in zip(mutants, rows):
        column = "ACGT".index(base)
        expected = 1 / (1 + np.exp(-(log_odds[0] + scores[0, position, column])))
        assert abs(row.probability - expected) < 1e-5, (position, base)
        for name_index, k in ((1, 3), (2, 4)):
            member = 1 / (1 + np.exp(-(log_odds[name_index] + scores[name_index, position, column])))
            assert abs(row.member_probabilities[k] - member) < 1e-5
    observed = np.array([[base == b for b in "ACGT"] for base in sequence])
    assert np.all(scores[:, observed] == 0)


def test_first_order_is_exact_where_it_can_be_and_combines_members_as_the_ensemble_votes(spectrum_model):
    model, tokenizer = spectrum_model
    sequences = [random_dna(50, seed=s) for s in (4, 5)]
    fast, exact = (attribute(model, tokenizer, sequences, method) for method in ("first-order", "ism"))
    np.testing.assert_allclose(fast.log_odds, exact.log_odds, atol=1e-5)
    for found, reference in zip(fast.scores, exact.scores):
        np.testing.assert_allclose(found[3], reference[3], atol=1e-5)  # the spectrum member is scored exactly
    # the ensemble column is the ensemble's vote over the member columns, for ISM's exact member changes too
    members = exact.log_odds[0, 1:] + exact.scores[0][1:].transpose(1, 2, 0)
    combined = _ensemble_log_odds(model, torch.tensor(members)).numpy() - exact.log_odds[0, 0]
    np.testing.assert_allclose(combined, exact.scores[0][0], atol=1e-5)
    agreement = np.corrcoef(fast.scores[0][0].ravel(), exact.scores[0][0].ravel())[0, 1]
    assert agreement > 0.5


def test_first_order_is_the_directional_derivative_through_the_changed_tokens(spectrum_model):
    """For one substitution, the estimate equals (f(E + eps * dE) - f(E)) / eps, dE moving the k tokens that hold
    the base from their k-mers to the new ones: the token arithmetic (offsets, DNABERT ids) is right."""
    model, tokenizer = spectrum_model
    sequence, position, base = random_dna(30, seed=6), 12, "A"
    if sequence[position] == base:
        base = "C"
    estimate = attribute(model, tokenizer, [sequence], "first-order").scores[0][1, position, "ACGT".index(base)]
    member = model.member(3)
    ids = tokenizer.encode_sequence(sequence)[3][None]
    new_ids = tokenizer.encode_sequence(_mutated(sequence, position, base))[3][None]
    embedding = member.bert.embeddings.word_embeddings
    step = (embedding(new_ids) - embedding(ids)).detach()
    epsilon, values = 1e-3, []
    for scale in (0.0, epsilon):
        handle = embedding.register_forward_hook(lambda module, inputs, output, s=scale: output + s * step)
        with torch.no_grad():
            values.append(float(member(ids, torch.ones_like(ids))[0]))
        handle.remove()
    assert estimate == pytest.approx((values[1] - values[0]) / epsilon, rel=1e-2, abs=1e-5)


def test_a_planted_gata_site_carries_the_top_attributions(gata_model):
    model, tokenizer = load_model(str(gata_model), "cpu", precision="fp32")
    sequences, labels = synthetic_sequences(40, 100, seed=21)
    hits = total = 0
    for sequence, label in zip(sequences, labels):
        if not label:
            continue
        sites = {i for start in _occurrences(sequence, GATA_SITE) for i in range(start, start + len(GATA_SITE))}
        for method in ("first-order", "ism"):
            contribution = observed_contribution(attribute(model, tokenizer, [sequence], method).scores[0][0], sequence)
            top = np.argsort(contribution)[::-1][:5]
            hits += sum(int(i) in sites for i in top)
            total += len(top)
    assert hits / total > 0.8  # the sites cover about a quarter of each sequence


def _occurrences(sequence: str, motif: str) -> list[int]:
    return [i for i in range(len(sequence) - len(motif) + 1) if sequence.startswith(motif, i)]


def test_gc_change_and_hypothetical_scores():
    assert gc_change("AG").tolist() == [[0, 1, 1, 0], [-1, 0, 0, -1]]
    scores = np.arange(8, dtype=float).reshape(2, 4)
    assert np.allclose(hypothetical(scores).sum(axis=-1), 0)


def test_sequences_attributions_cannot_read_are_refused_by_number(spectrum_model):
    model, tokenizer = spectrum_model
    with pytest.raises(AttributionError, match="sequence 1: attributions need .* A, C, G or T"):
        attribute(model, tokenizer, [random_dna(30, 1), "ACGTNACGTACGT"])
    with pytest.raises(AttributionError, match="unknown attribution method"):
        attribute(model, tokenizer, ["ACGTACGT"], "shap")


def test_the_attribute_command_writes_arrays_a_row_per_record_and_logos(tiny_folder, tmp_path):
    fasta = tmp_path / "in.fa"
    fasta.write_text(f">one\n{random_dna(120, 1)}\n>bad\nACGUACGT\n>two\n{random_dna(90, 2)}\n")
    status = main(["attribute", str(fasta), "--model", str(tiny_folder), "-o", str(tmp_path / "out"), "--logos", "1"])
    assert status == 1  # one record could not be read
    with open(tmp_path / "out" / "attributions.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [row["id"] for row in rows] == ["one", "bad", "two"]
    assert rows[1]["error"] and not rows[0]["error"] and float(rows[2]["probability"]) > 0
    arrays = np.load(tmp_path / "out" / "attributions.npz")
    assert arrays["scores_0"].shape == (3, 120, 4) and arrays["scores_2"].shape == (3, 90, 4)
    assert "scores_1" not in arrays and list(arrays["ids"]) == ["one", "bad", "two"]
    assert str(arrays["sequence_2"]) == random_dna(90, 2).upper()
    assert [p.name for p in (tmp_path / "out" / "logos").iterdir()] == ["1_one.png"]


def test_motif_trimming_keeps_the_positions_near_the_contribution_peak():
    from ienhancer_elm.attribution_motifs import trimmed

    contributions = np.zeros((10, 4))
    contributions[3:6, 0] = [0.5, 1.0, 0.31]
    contributions[8, 1] = 0.1  # under 0.3 of the peak: trimmed with the flanks
    assert trimmed(np.full((10, 4), 0.25), contributions).shape == (3, 4)
