"""What a score knows beyond GC: the GC-matched AUC, and the GC-share baseline."""

import itertools

import numpy as np
import pytest

from ienhancer_elm.metrics import gc_matched_auc, gc_matched_auc_with_interval, gc_matched_difference


def direct_gc_matched_auc(labels, scores, gc, tolerance=0.01):
    """Pair by pair, as the definition reads."""
    wins = pairs = 0.0
    for i, j in itertools.product(range(len(labels)), repeat=2):
        if labels[i] == 1 and labels[j] == 0 and abs(gc[i] - gc[j]) <= tolerance + 1e-9:
            pairs += 1
            wins += 1.0 if scores[i] > scores[j] else 0.5 if scores[i] == scores[j] else 0.0
    return wins / pairs


def test_gc_matched_auc_equals_the_pair_by_pair_count():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 80)
    gc = np.round(rng.uniform(0.3, 0.6, 80) * 200) / 200  # whole bases of 200 bp, as in the benchmark
    scores = np.round(gc + rng.normal(0, 0.05, 80) + 0.05 * labels, 2)  # rounded: ties occur
    assert gc_matched_auc(labels, scores, gc) == pytest.approx(direct_gc_matched_auc(labels, scores, gc), abs=1e-12)


def test_a_difference_of_exactly_two_bases_in_200_counts_as_matched():
    labels, gc = np.array([1, 0]), np.array([0.47, 0.46])  # 0.47 - 0.46 is 0.010000000000000009 in floats
    assert gc_matched_auc(labels, np.array([0.9, 0.1]), gc) == 1.0
    assert np.isnan(gc_matched_auc(labels, np.array([0.9, 0.1]), np.array([0.47, 0.455])))


def test_gc_alone_separates_the_classes_yet_scores_half_among_matched_pairs():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 300)
    gc = np.round(np.concatenate([rng.normal(0.49, 0.05, 300), rng.normal(0.38, 0.05, 300)]) * 200) / 200
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(labels, gc) > 0.85
    matched = gc_matched_auc(labels, gc, gc)
    assert 0.5 <= matched < 0.6  # equal GC is a tie; within 2 bases GC orders pairs little better than chance
    motif = labels * 0.02 + gc  # a score that knows something besides GC
    assert gc_matched_auc(labels, motif, gc) > 0.9


def test_interval_and_paired_difference_resample_whole_sequences():
    rng = np.random.default_rng(1)
    labels = np.repeat([1, 0], 100)
    gc = np.round(rng.uniform(0.35, 0.55, 200) * 200) / 200
    better = gc + 0.03 * labels + rng.normal(0, 0.02, 200)
    worse = gc + rng.normal(0, 0.02, 200)
    report = gc_matched_auc_with_interval(labels, better, gc, n_resamples=200, seed=4)
    assert report["ci95"][0] < report["value"] < report["ci95"][1] and report["pairs"] > 100
    assert report == gc_matched_auc_with_interval(labels, better, gc, n_resamples=200, seed=4)  # seeded
    difference = gc_matched_difference(labels, better, worse, gc, n_resamples=200, seed=4)
    assert difference["value"] == pytest.approx(gc_matched_auc(labels, better, gc) - gc_matched_auc(labels, worse, gc))
    assert difference["ci95"][0] > 0  # the paired interval sees the gain
    same = gc_matched_difference(labels, better, better, gc, n_resamples=50)
    assert same["value"] == 0 and same["ci95"] == [0.0, 0.0]


def test_the_gc_baseline_reads_gc_share_alone_and_evaluate_reports_gc_matched_auc(tmp_path):
    import joblib

    from ienhancer_elm.cli import main
    from ienhancer_elm.evaluation import BaselineScorer, evaluate, load_split
    from ienhancer_elm.sequences import gc_fraction

    from conftest import write_synthetic_dataset

    dataset = write_synthetic_dataset(tmp_path / "data", n_train=64, n_test=32, length=60)
    assert main(["release", "baseline", "--features", "gc", "--dataset", str(dataset), "-o", str(tmp_path / "gc")]) == 0
    saved = joblib.load(tmp_path / "gc" / "model.joblib")
    assert saved["features"] == "gc" and saved["chosen"] == "gc_share_logistic_regression"
    test = load_split(str(dataset), "layer1", "test")
    gc = np.array([gc_fraction(s) for s in test["sequence"]])
    scorer = BaselineScorer(str(tmp_path / "gc" / "model.joblib"))
    probabilities = scorer.score(test["id"], test["sequence"])
    slope = saved["model"][-1].coef_[0, 0]
    assert np.all(np.diff(probabilities[np.argsort(gc)]) * np.sign(slope) >= -1e-12)  # a function of GC alone
    report = evaluate(scorer, str(dataset), "layer1", "test", n_resamples=50)
    figures = report["results"]["all"]["AUC_GC"]
    assert figures["value"] == pytest.approx(gc_matched_auc(test["label"], probabilities, gc))
    assert figures["pairs"] == int(
        sum(
            abs(a - b) <= 0.01 + 1e-9
            for a, la in zip(gc, test["label"])
            for b, lb in zip(gc, test["label"])
            if la == 1 and lb == 0
        )
    )


def dinucleotide_counts(sequence):
    from collections import Counter

    return Counter(sequence[i : i + 2] for i in range(len(sequence) - 1))


def test_dinucleotide_shuffles_keep_every_dinucleotide_count_and_the_ends():
    from ienhancer_elm.training.negatives import dinucleotide_shuffles

    rng = np.random.default_rng(2)
    sequences = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(5)]
    shuffles = dinucleotide_shuffles(sequences, per_sequence=3, seed=1)
    assert len(shuffles) == 15 and shuffles == dinucleotide_shuffles(sequences, per_sequence=3, seed=1)
    for index, shuffle in enumerate(shuffles):
        original = sequences[index // 3]
        assert dinucleotide_counts(shuffle) == dinucleotide_counts(original)
        assert (shuffle[0], shuffle[-1]) == (original[0], original[-1])
    assert sum(shuffle != sequences[i // 3] for i, shuffle in enumerate(shuffles)) == 15
    with pytest.raises(ValueError, match="sequence 1: only A, C, G, T"):
        dinucleotide_shuffles(["ACGT" * 10, "ACGN" * 10])


def test_shuffled_negatives_join_the_training_rows_only(tmp_path):
    from ienhancer_elm.training.finetuning import FinetuneArguments, with_extra_negatives

    sequences, labels = ["ACGTTGCAGG" * 6, "TTTTAAAACC" * 6, "GGGCCCATAT" * 6], [1, 0, 1]
    args = FinetuneArguments(output_dir=str(tmp_path), shuffled_negatives=2)
    rows, row_labels = with_extra_negatives(args, sequences, labels)
    assert rows[:3] == sequences and row_labels.tolist() == [1, 0, 1, 0, 0, 0, 0]
    assert [dinucleotide_counts(row) for row in rows[3:]] == [dinucleotide_counts(sequences[i]) for i in (0, 0, 2, 2)]


def test_shuffled_negatives_are_refused_where_label_0_is_an_enhancer(tmp_path):
    from ienhancer_elm.training.finetuning import FinetuneArguments, with_extra_negatives

    args = FinetuneArguments(output_dir=str(tmp_path), config="layer2", shuffled_negatives=1)
    with pytest.raises(ValueError, match="label 0 is non-enhancer, not layer2"):
        with_extra_negatives(args, ["ACGT" * 20, "TTGA" * 20], [1, 0])


def test_gc_balancing_weights_give_each_class_half_of_every_bin_and_drop_one_class_bins():
    from ienhancer_elm.training.negatives import gc_balancing_weights

    gc = np.array([0.40, 0.405, 0.41, 0.50, 0.50, 0.50, 0.70])
    labels = np.array([1, 0, 0, 1, 1, 0, 1])  # bins of 0.02: [0.40, 0.42) 1 vs 2, [0.50, 0.52) 2 vs 1, 0.70 alone
    weights = gc_balancing_weights(gc, labels)
    assert weights[6] == 0  # a bin with enhancers only tells GC apart from nothing: left out
    for rows in (slice(0, 3), slice(3, 6)):
        in_bin, in_labels = weights[rows], labels[rows]
        assert in_bin[in_labels == 1].sum() == pytest.approx(in_bin[in_labels == 0].sum())
        assert in_bin.sum() == pytest.approx(3)
    from sklearn.metrics import roc_auc_score

    # weighted, GC alone ranks the rows at chance
    auc = roc_auc_score(labels[:6], gc[:6], sample_weight=weights[:6])
    assert auc == pytest.approx(0.5, abs=0.2)


def test_gc_matched_windows_draw_each_window_once_within_the_tolerance():
    from ienhancer_elm.training.negatives import gc_matched_windows

    windows = ["a", "b", "c", "d"]
    window_gc = [0.30, 0.50, 0.505, 0.90]
    chosen = gc_matched_windows([0.50, 0.50, 0.50, 0.31], windows, window_gc, tolerance=0.01, seed=1)
    assert sorted(chosen[:2]) == ["b", "c"] and chosen[2:] == ["a"]  # the third 0.50 finds none left
    assert gc_matched_windows([0.5], windows, window_gc, seed=1) == gc_matched_windows(
        [0.5], windows, window_gc, seed=1
    )


def test_the_gc_offset_is_the_log_odds_of_gc_share_alone():
    from ienhancer_elm.training.gc_offset import fit_gc_log_odds

    from conftest import biased_dna

    rng = np.random.default_rng(4)
    sequences = [s for share in np.linspace(0.2, 0.8, 13) for s in biased_dna(150, share, 200, seed=int(share * 100))]
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in sequences])
    labels = rng.random(len(sequences)) < 1 / (1 + np.exp(-(10 * gc - 5)))
    slope, intercept = fit_gc_log_odds(gc, labels)
    assert slope == pytest.approx(10, abs=1.5) and intercept == pytest.approx(-5, abs=0.8)


def test_a_gc_offset_member_adds_the_offset_to_the_members_log_odds_and_saves_the_member_alone(tmp_path):
    import json

    import torch

    from ienhancer_elm.hub_export import tiny_model
    from ienhancer_elm.models import IEnhancerELMForSequenceClassification, KmerTokenizer
    from ienhancer_elm.training.gc_offset import GCOffsetMember

    member = tiny_model(kmers=(3,)).eval()
    wrapped = GCOffsetMember(member, slope=8.0, intercept=-3.0)
    tokenizer = KmerTokenizer(kmers=(3,))
    sequences = ["ACGTTGCAGGCATT" * 5, "AATTTATAAATTGC" * 5]
    batch = tokenizer.collate([tokenizer.encode_sequence(s) for s in sequences])
    gc, labels = torch.tensor([0.5, 0.2]), torch.tensor([1, 0])
    with torch.no_grad():
        output = wrapped(**batch, gc=gc, labels=labels)
        alone = torch.logit(member(**batch).probabilities.double())
    expected = torch.sigmoid(alone + 8.0 * gc.double() - 3.0)
    assert torch.allclose(output.probabilities.double(), expected, atol=1e-5)
    direct_loss = -(torch.log(expected[0]) + torch.log(1 - expected[1])) / 2
    assert output.loss.item() == pytest.approx(direct_loss.item(), abs=1e-5)
    wrapped.save_pretrained(tmp_path / "best")
    assert json.loads((tmp_path / "best" / "gc_offset.json").read_text()) == {"slope": 8.0, "intercept": -3.0}
    reloaded = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path / "best").eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(**batch).probabilities, member(**batch).probabilities)
    with pytest.raises(ValueError, match="one member that reads its sequences whole"):
        GCOffsetMember(tiny_model(kmers=(3, 4)), 1.0, 0.0)


def test_gc_offset_batches_carry_each_rows_gc_share(tmp_path):
    from ienhancer_elm.models import KmerTokenizer
    from ienhancer_elm.training.finetuning import EncodedSequences

    sequences = ["GGCCGGCCAT" * 6, "ATATATATGC" * 6, "GCGCATATAT" * 6]
    dataset = EncodedSequences(KmerTokenizer(kmers=(3,)), sequences, [1, 0, 1], with_gc=True)
    batch = dataset.collate([2, 0])
    assert batch["gc"].tolist() == pytest.approx([0.4, 0.8]) and batch["labels"].tolist() == [1, 1]
    assert "gc" not in EncodedSequences(KmerTokenizer(kmers=(3,)), sequences, [1, 0, 1]).collate([0])


def test_gc_balanced_sampling_draws_both_classes_equally_within_each_gc_bin():
    import torch

    from ienhancer_elm.training.negatives import GCBalancedSampler

    gc = np.array([0.40, 0.40, 0.40, 0.41, 0.50, 0.51, 0.50, 0.70])  # bins of 0.02: 3 vs 1, 1 vs 2, one class alone
    labels = np.array([1, 1, 1, 0, 1, 0, 0, 1])
    sampler = GCBalancedSampler(gc, labels, seed=7)
    torch.manual_seed(0)  # the draw must not depend on the global generator
    first = list(sampler)
    torch.manual_seed(1)
    assert len(first) == 8 and list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first
    draws = []
    for epoch in range(400):
        sampler.set_epoch(epoch)
        draws += list(sampler)
    counts = np.bincount(draws, minlength=8)
    assert counts[7] == 0  # its bin holds no negative
    for enhancers, others in (([0, 1, 2], [3]), ([4], [5, 6])):
        assert counts[enhancers].sum() / counts[others].sum() == pytest.approx(1, abs=0.1)
    with pytest.raises(ValueError, match="no GC bin holds both classes"):
        GCBalancedSampler(np.array([0.3, 0.6]), np.array([1, 0]), seed=0)


def test_gc_options_that_cannot_go_together_are_refused_before_any_data_is_read(tmp_path):
    from ienhancer_elm.training.finetuning import FinetuneArguments, finetune

    both = FinetuneArguments(
        output_dir=str(tmp_path), dataset="no/such/dataset", gc_offset=True, gc_balanced_sampling=True
    )
    with pytest.raises(ValueError, match="exclude each other"):
        finetune(both)
    windows = FinetuneArguments(output_dir=str(tmp_path), dataset="no/such/dataset", gc_offset=True, window_bp=100)
    with pytest.raises(ValueError, match="reads its sequences whole"):
        finetune(windows)


def test_a_gc_offset_run_is_refused_as_an_ensemble_member(tmp_path):
    import json

    from ienhancer_elm.training.ensemble import shipped_member

    (tmp_path / "fold0" / "best").mkdir(parents=True)
    (tmp_path / "summary.json").write_text(json.dumps({"member": "fold0/best"}))
    assert shipped_member(tmp_path) == tmp_path / "fold0" / "best"
    (tmp_path / "fold0" / "best" / "gc_offset.json").write_text(json.dumps({"slope": 1.0, "intercept": 0.0}))
    with pytest.raises(ValueError, match="trained with --gc_offset"):
        shipped_member(tmp_path)


def test_a_prepared_loader_draws_anew_each_epoch_and_a_resumed_epoch_goes_on_where_it_stopped():
    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    from ienhancer_elm.training.negatives import GCBalancedSampler

    gc = np.repeat(np.linspace(0.3, 0.6, 8), 4)
    labels = np.tile([1, 0, 0, 1], 8)
    sampler = GCBalancedSampler(gc, labels, seed=3)
    loader = Accelerator(cpu=True).prepare(DataLoader(list(range(32)), batch_size=4, sampler=sampler))
    epochs = []
    for epoch in (0, 1):
        loader.set_epoch(epoch)
        epochs.append([batch.tolist() for batch in loader])
    assert epochs[0] != epochs[1]
    loader.set_epoch(1)
    resumed = [batch.tolist() for batch in Accelerator(cpu=True).skip_first_batches(loader, 3)]
    assert resumed == epochs[1][3:]
