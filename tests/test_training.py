"""Training, in this process: extra negatives, the pretraining corpus filter and masking, crops and windows,
starting a member, saved arguments, and the shipped-model guard. Runs under `accelerate launch` (resumability,
data-parallel equivalence, the full recipe) are in tests/integration/test_training_runs.py."""

import json
from pathlib import Path

import pytest
import torch

from ienhancer_elm.sequences import reverse_complement
from ienhancer_elm.tokenization_ienhancer_elm import KmerTokenizer
from ienhancer_elm.training.finetuning import (
    FinetuneArguments,
    crop_ends,
    random_ends,
    random_window,
    with_extra_negatives,
)
from ienhancer_elm.training.pretraining import corpus_windows, hold_out_tails, mask_kmer_spans

from conftest import genome_fasta, synthetic_sequences


def test_extra_negatives_are_windows_of_the_fasta_labelled_zero(training_dataset, tmp_path):
    from ienhancer_elm.training.pretraining import dataset_records

    planted = dataset_records(str(training_dataset), "layer1", "train")[5][1]
    fasta = genome_fasta(tmp_path / "genome.fa", planted=planted)
    text = fasta.read_text().split("\n")[1].upper()
    pool = {text[start : start + 200] for start in (0, 200, 800)}  # 400: N; 600: a benchmark sequence inside
    sequences, labels = ["ACGT" * 15] * 6, [1, 0, 1, 0, 1, 0]
    args = FinetuneArguments(
        output_dir=str(tmp_path),
        dataset=str(training_dataset),
        extra_negatives=[str(fasta)],
        extra_negatives_per_sequence=0.5,
    )
    rows, row_labels = with_extra_negatives(args, sequences, labels)
    assert rows[:6] == sequences and row_labels.tolist() == labels + [0, 0, 0]
    assert set(rows[6:]) == pool
    assert with_extra_negatives(args, sequences, labels)[0] == rows  # the run's seed decides
    plain = FinetuneArguments(output_dir=str(tmp_path), dataset=str(training_dataset))
    assert with_extra_negatives(plain, sequences, labels)[0] == sequences
    args.extra_negatives_per_sequence = 1
    with pytest.raises(ValueError, match="6 extra negatives asked for, but the FASTA files hold only 3 windows"):
        with_extra_negatives(args, sequences, labels)


def test_corpus_filter_drops_every_window_touching_a_test_sequence():
    test_sequence = "ACGTTGCAAC" * 3
    genome = "GATTACA" * 20 + reverse_complement(test_sequence) + "CCGGAATT" * 20 + "N" * 30 + "TTAGGC" * 20
    windows, counts = corpus_windows([("chr", genome)], {test_sequence}, window=40, stride=10)
    assert counts["overlapping_excluded"] > 0 and counts["with_n"] > 0
    assert (
        counts["kept_both_strands"]
        == len(windows)
        == 2 * (counts["windows"] - counts["with_n"] - counts["overlapping_excluded"])
    )
    for window in windows:
        for part in (test_sequence[:10], reverse_complement(test_sequence)[:10]):
            assert part not in window
        assert "N" not in window


def test_masking_covers_whole_kmer_spans_and_never_specials():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 69, (64, 100), generator=generator)
    ids[:, 0], ids[:, -1], ids[:, -6:-1] = 2, 3, 0  # [CLS], [SEP], padding
    corrupted, labels = mask_kmer_spans(ids, k=3, vocab_size=69, probability=0.15, generator=generator)
    masked = labels != -100
    assert not masked[:, 0].any() and not masked[:, -6:].any()
    assert 0.10 < masked[:, 1:-6].float().mean() < 0.20
    assert torch.equal(labels[masked], ids[masked])
    assert (corrupted[masked] == 4).float().mean() > 0.7
    runs = [len(run) for row in masked.int().tolist() for run in "".join(map(str, row)).split("0") if run]
    assert min(runs) >= 2 and sum(r >= 3 for r in runs) / len(runs) > 0.8  # spans of k, clipped only at edges


def test_cropped_ids_are_the_ids_of_the_cropped_sequence():
    tokenizer = KmerTokenizer(kmers=(3, 6))
    sequence = synthetic_sequences(1, 60, seed=1)[0][0]
    for left, right in ((0, 0), (3, 0), (0, 5), (4, 7)):
        cropped = crop_ends(tokenizer.encode_sequence(sequence), left, right)
        expected = tokenizer.encode_sequence(sequence[left : len(sequence) - right])
        assert all(torch.equal(cropped[k], expected[k]) for k in (3, 6))
    torch.manual_seed(0)
    draws = [random_ends(10) for _ in range(500)]
    assert all(left >= 0 and right >= 0 and left + right <= 10 for left, right in draws)
    assert {left + right for left, right in draws} == set(range(11))


def test_a_random_window_is_the_ids_of_a_stretch_of_that_many_bases():
    tokenizer = KmerTokenizer(kmers=(3, 6), model_max_length=10_000)
    sequence = synthetic_sequences(1, 700, seed=2)[0][0]
    encoded = tokenizer.encode_sequence(sequence)
    torch.manual_seed(0)
    lefts = set()
    for _ in range(50):
        left, right = random_window(encoded, 200)
        assert left + right == 500
        window = crop_ends(encoded, left, right)
        assert all(torch.equal(window[k], tokenizer.encode_sequence(sequence[left : left + 200])[k]) for k in (3, 6))
        lefts.add(left)
    assert len(lefts) > 40
    assert random_window(tokenizer.encode_sequence(sequence[:150]), 200) == (0, 0)  # shorter: read whole


def test_held_out_tails_never_overlap_training_and_short_records_stay_whole():
    records = [("chr", "ACGT" * 100), ("short", "ACGTA" * 10)]
    training, heldout = hold_out_tails(records, validation_bp=100)
    assert training == [("chr", "ACGT" * 75), ("short", "ACGTA" * 10)] and heldout == [("chr", "ACGT" * 25)]
    assert hold_out_tails(records, 0) == (records, [])


def test_a_member_can_start_with_the_head_of_an_ensembles_member(tiny_folder, tmp_path):
    from ienhancer_elm.models import IEnhancerELMForSequenceClassification
    from ienhancer_elm.release.publishing import export_members
    from ienhancer_elm.training.finetuning import FinetuneArguments, new_member

    exported = {Path(folder).name[-2:]: folder for folder in export_members(tiny_folder, tmp_path / "members")}
    arguments = FinetuneArguments(output_dir=str(tmp_path / "run"), k=4, init=str(exported["k4"]), window_bp=200)
    donor = IEnhancerELMForSequenceClassification.from_pretrained(tiny_folder).member(4)
    fresh = new_member(arguments).member(4)
    started = new_member(FinetuneArguments(**{**vars(arguments), "init_head": str(tiny_folder)})).member(4)
    assert all(torch.equal(a, b) for a, b in zip(started.head.state_dict().values(), donor.head.state_dict().values()))
    assert not torch.equal(fresh.head[1].weight, donor.head[1].weight)
    assert all(torch.equal(a, b) for a, b in zip(started.bert.state_dict().values(), donor.bert.state_dict().values()))


def test_an_ensemble_starts_fine_tuning_given_by_folder_or_hub_id_and_a_dnabert_checkpoint_is_no_ensemble(
    tiny_folder, tmp_path, monkeypatch
):
    import shutil

    import huggingface_hub

    from ienhancer_elm.release.publishing import export_members
    from ienhancer_elm.training.finetuning import is_ensemble

    member = export_members(tiny_folder, tmp_path / "members")[0]
    assert is_ensemble(str(tiny_folder)) and not is_ensemble(str(member))
    assert not is_ensemble(str(tmp_path / "nothing-here"))
    # a Hub id, as the Hub's cache holds it (HF_HUB_OFFLINE=1: read from the cache, never downloaded)
    repo = tmp_path / "hub" / "models--test-org--an-ensemble"
    shutil.copytree(tiny_folder, repo / "snapshots" / ("0" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert is_ensemble("test-org/an-ensemble")
    assert not is_ensemble("test-org/not-cached")


def test_a_runs_saved_arguments_parse_back_to_the_same_arguments(tmp_path):
    from dataclasses import asdict

    from ienhancer_elm.training.arguments import parse_arguments

    for genome in ([], ["a.fa", "b.fa"]):
        saved = FinetuneArguments(output_dir="runs/x", extra_negatives=genome, reverse_complement_augmentation=True)
        path = tmp_path / "arguments.json"
        path.write_text(json.dumps(asdict(saved)))
        assert parse_arguments(FinetuneArguments, [str(path)]) == saved


def test_building_over_a_shipped_model_needs_the_release_flag(tmp_path):
    from ienhancer_elm.paths import SOURCE_MODELS
    from ienhancer_elm.training.ensemble import check_output_dir

    shipped = SOURCE_MODELS / "ienhancer-elm-layer1"
    with pytest.raises(SystemExit, match=f"{shipped} is a shipped model: build into runs/ instead"):
        check_output_dir(shipped, release=False)
    assert check_output_dir(shipped, release=True) is None  # on purpose: allowed
    assert check_output_dir(tmp_path / "runs" / "ensemble_layer1", release=False) is None  # anywhere else: allowed
    assert check_output_dir(SOURCE_MODELS, release=False) is None  # the folder of the models is not one of them
