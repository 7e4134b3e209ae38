"""The spectrum member: scikit-learn's fitted kernel machine carried into the ensemble as torch buffers. Its round
trip through AutoModel and pipeline (remote code) is tests/integration/test_remote_code.py."""

import copy

import numpy as np
import pytest
import torch

from ienhancer_elm import IEnhancerELMConfig
from ienhancer_elm.hub_export import tiny_model, write_model_folder
from ienhancer_elm.models import IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.training.spectrum import choose_weight, spectrum_features, with_spectrum

from conftest import SPECTRUM_KMERS as KMERS
from conftest import biased_dna, spectrum_tiny, synthetic_sequences


@pytest.fixture(scope="module")
def fitted():
    """A spectrum pipeline that tells GC-rich from balanced DNA, and a tiny ensemble carrying it."""
    return spectrum_tiny()


def test_the_member_gives_scikit_learns_probabilities_in_fp32_and_in_a_bf16_model(fitted, tmp_path):
    pipeline, model = fitted
    sequences = biased_dna(10, 0.5, 180, seed=2) + biased_dna(10, 0.6, 230, seed=3) + ["ACGTNNNNNACGTTGCA" * 8]
    expected = pipeline.predict_proba(spectrum_features(sequences, KMERS))[:, 1]
    inputs = KmerTokenizer(kmers=KMERS)(sequences, return_tensors="pt", padding=True)
    model.save_pretrained(tmp_path / "model")
    loaded_bf16 = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path / "model", dtype=torch.bfloat16)
    for candidate in (model, copy.deepcopy(model).to(torch.bfloat16), loaded_bf16):
        assert candidate.spectrum.support_vectors.dtype == torch.float32
        with torch.no_grad():
            spectrum = candidate(**inputs).member_probabilities[:, -1].float().numpy()
        np.testing.assert_allclose(spectrum, expected, atol=1e-5)


def test_the_soft_vote_gives_the_spectrum_member_its_weight(fitted):
    _, model = fitted
    inputs = KmerTokenizer(kmers=KMERS)(biased_dna(6, 0.55, 200, seed=4), return_tensors="pt", padding=True)
    with torch.no_grad():
        output = model(**inputs)
    bert, spectrum = output.member_probabilities[:, :-1].mean(dim=1), output.member_probabilities[:, -1]
    torch.testing.assert_close(output.mean_probabilities, 0.5 * bert + 0.5 * spectrum)
    equal = with_spectrum(model, fitted[0], KMERS, weight=None)
    with torch.no_grad():
        torch.testing.assert_close(equal(**inputs).mean_probabilities, output.member_probabilities.mean(dim=1))
    without = with_spectrum(model, None)
    assert without.spectrum is None and without.config.spectrum_kmers is None


def test_the_member_reads_a_long_sequence_whole_while_the_bert_members_read_windows(fitted):
    pipeline, model = fitted
    windowed = with_spectrum(model, pipeline, KMERS, weight=0.5)
    windowed.config.window_bp, windowed.config.window_stride_bp = 120, 60
    sequence = biased_dna(1, 0.6, 900, seed=5)[0]
    with torch.no_grad():
        output = windowed(**KmerTokenizer(kmers=KMERS, model_max_length=2000)(sequence, return_tensors="pt"))
    expected = pipeline.predict_proba(spectrum_features([sequence], KMERS))[:, 1]
    np.testing.assert_allclose(output.member_probabilities[0, -1].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(spectrum_kmers=[5], spectrum_support_vectors=3), "among kmers"),
        (dict(spectrum_kmers=[3], spectrum_support_vectors=0), "support_vectors must be positive"),
        (dict(spectrum_kmers=[3], spectrum_support_vectors=3, spectrum_weight=1.0), "strictly between"),
        (dict(spectrum_weight=0.5), "need spectrum_kmers"),
    ],
)
def test_spectrum_settings_are_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        IEnhancerELMConfig(kmers=list(KMERS), **settings)


def test_the_weight_rule_takes_the_smallest_share_level_with_the_best():
    sequences = biased_dna(80, 0.5, 150, seed=6) + biased_dna(80, 0.6, 150, seed=7)
    labels = np.array([0] * 80 + [1] * 80)
    held_rows = np.r_[0:20, 80:100]
    fit_rows = np.setdiff1d(np.arange(160), held_rows)
    uninformative = np.random.default_rng(0).random((2, len(held_rows)))  # BERT members that know nothing
    report, ensemble = choose_weight(sequences, labels, fit_rows, held_rows, uninformative, kmers=KMERS)
    aucs = {c["share"]: c["held_out_auc"] for c in report["candidates"]}
    best = max(aucs.values())
    assert report["chosen"]["share"] == min(share for share, auc in aucs.items() if auc >= best - 0.002)
    assert report["chosen"]["share"] > 0 and report["spectrum_alone_held_out_auc"] > 0.9
    assert len(ensemble) == len(held_rows)


def test_refitting_heads_and_spectrum_member_end_to_end_on_tiny_data(tmp_path):
    """What `training/refit_heads.py --apply` does, on a tiny ensemble: heads and spectrum member fitted on folds
    1-4 choose the share on fold 0, then both are fitted on everything and the folder loads and predicts."""
    from ienhancer_elm.predict import load_model, predict_records
    from ienhancer_elm.sequences import Record
    from ienhancer_elm.training.heads import HeadSettings, fit_head, head_probabilities, pooled_features
    from ienhancer_elm.training.spectrum import ship_spectrum

    sequences, labels = synthetic_sequences(120, 150, seed=3)
    labels = np.asarray(labels)
    model, tokenizer = tiny_model(KMERS), KmerTokenizer(kmers=KMERS)
    features = {k: pooled_features(model, k, tokenizer, sequences) for k in KMERS}
    held_rows, fit_rows = np.arange(24), np.arange(24, 120)
    settings = HeadSettings(weight_decay=1.0, label_smoothing=0.1, steps=50)
    held = np.stack(
        [
            head_probabilities(fit_head(features[k][fit_rows], labels[fit_rows], 25, settings), features[k][held_rows])
            for k in KMERS
        ]
    )
    report, _ = choose_weight(sequences, labels, fit_rows, held_rows, held, kmers=KMERS)
    for k in KMERS:
        model.member(k).head.load_state_dict(fit_head(features[k], labels, 25, settings).state_dict())
    model, record = ship_spectrum(model, sequences, labels, report["chosen"], kmers=KMERS)
    assert (model.spectrum is None) == (report["chosen"]["share"] == 0)
    folder = write_model_folder(model, tmp_path / "refitted")
    loaded, loaded_tokenizer = load_model(folder, "cpu", precision="fp32")
    rows = predict_records(
        loaded, loaded_tokenizer, [Record(str(i), s) for i, s in enumerate(sequences[:8])], precision="fp32"
    )
    with torch.no_grad():
        expected = model(**tokenizer(sequences[:8], return_tensors="pt")).probabilities.numpy()
    np.testing.assert_allclose([row.probability for row in rows], expected, atol=1e-5)
    if record is not None:
        assert record["support_vectors"] == loaded.config.spectrum_support_vectors
        assert set(rows[0].member_probabilities) == {*KMERS, "spectrum"}


def test_casting_moves_the_members_buffers_but_keeps_them_fp32(fitted):
    _, model = fitted
    moved = copy.deepcopy(model).to("meta").to(torch.bfloat16)
    assert moved.spectrum.support_vectors.device.type == "meta"
    assert moved.spectrum.support_vectors.dtype == torch.float32
    assert moved.member(3).bert.embeddings.word_embeddings.weight.dtype == torch.bfloat16


def test_with_spectrum_windows_the_member_averages_its_windows_probabilities(fitted):
    pipeline, model = fitted
    windowed = with_spectrum(model, pipeline, KMERS, weight=0.5, windows=True)
    windowed.config.window_bp, windowed.config.window_stride_bp = 150, 150
    sequence = biased_dna(1, 0.6, 450, seed=6)[0]
    with torch.no_grad():
        output = windowed(**KmerTokenizer(kmers=KMERS, model_max_length=2000)(sequence, return_tensors="pt"))
    pieces = [sequence[start : start + 150] for start in (0, 150, 300)]
    expected = pipeline.predict_proba(spectrum_features(pieces, KMERS))[:, 1].mean()
    np.testing.assert_allclose(output.member_probabilities[0, -1].numpy(), expected, atol=1e-5)
