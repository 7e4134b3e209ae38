"""The held-out measures and the rule by which a layer-1 model trained with genome negatives would ship, and
the scripts that fine-tune and score the members."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ienhancer_elm.training.ensemble import logged_seconds
from ienhancer_elm.training.negatives import fasta_windows

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the folder's scripts import each other by name, as when run

from genome_check import (  # noqa: E402
    ALL_MEMBERS,
    CALIBRATION_PIECES,
    HELD_OUT_GENOME,
    PLAIN,
    WITH_GENOME,
    add_to_member_record,
    checkpoint_sha256,
    compare_members,
    genome_check,
    inputs_fingerprint,
    load_member_scores,
    mean_of_members,
    recorded_negatives,
    refuse_held_out_genome,
    refuse_unlike_arms,
    save_member_scores,
    scores_up_to_date,
    training_pieces,
    verdict,
)

FOLD_LABELS = np.array([1, 1, 1, 0, 0, 0])


def test_genome_check_counts_pairs_exactly():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])  # 8 of 9 enhancer-negative pairs ordered
    genome = np.array([0.85, 0.2, 0.1, 0.05])  # enhancers above genome in 10 of 12 pairs
    assert genome_check(FOLD_LABELS, fold, genome) == {
        "held_out_fold_auc": pytest.approx(8 / 9),
        "enhancers_vs_held_out_genome_auc": pytest.approx(10 / 12),
    }


def test_the_rule_ships_a_gain_on_genome_without_a_loss_on_the_fold():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])
    plain = (fold, np.array([0.85, 0.2, 0.1, 0.05]))
    better_on_genome = (fold, np.array([0.3, 0.2, 0.1, 0.05]))
    worse_on_fold = (np.array([0.9, 0.3, 0.4, 0.5, 0.8, 0.1]), plain[1])
    shipped = verdict(FOLD_LABELS, plain=plain, with_genome=better_on_genome)
    assert shipped["ships"] and shipped["gain_a"] == pytest.approx(2 / 12) and shipped["loss_b"] == 0
    assert shipped["gain_a_ci95"][0] <= shipped["gain_a"] <= shipped["gain_a_ci95"][1]
    refused = verdict(FOLD_LABELS, plain=plain, with_genome=worse_on_fold)
    assert not refused["ships"] and refused["gain_a"] == 0 and refused["loss_b"] == pytest.approx(8 / 9 - 5 / 9)
    assert not verdict(FOLD_LABELS, plain=plain, with_genome=plain)["ships"]


def test_the_rule_holds_on_its_bounds_despite_rounding():
    fold = np.array([0.9, 0.8, 0.4, 0.5, 0.3, 0.1])
    genome = np.linspace(0.0, 0.95, 50)  # 3 enhancers x 50 windows: a step of 1/150 in AUC
    plain, with_genome = (fold, genome), (fold, genome.copy())
    with_genome[1][[46, 47, 48]] = 0.0  # three pairs won: +0.02, computed as a difference of floats
    assert verdict(FOLD_LABELS, plain=plain, with_genome=with_genome)["ships"]


def test_contigs_resampled_whole_keep_the_point_and_widen_the_interval():
    rng = np.random.default_rng(1)
    fold = rng.random(6)
    contigs = np.repeat(np.arange(6), 20)
    plain = (fold, rng.random(120) + 0.3 * (contigs % 2))  # contigs differ in level: windows are not independent
    with_genome = (fold, plain[1] - 0.2 * (contigs == 1))
    by_window = verdict(FOLD_LABELS, plain=plain, with_genome=with_genome)
    by_contig = verdict(FOLD_LABELS, plain=plain, with_genome=with_genome, genome_groups=contigs)
    assert by_contig["gain_a"] == by_window["gain_a"]
    width = {name: np.diff(found["gain_a_ci95"])[0] for name, found in (("window", by_window), ("contig", by_contig))}
    assert width["contig"] > width["window"]


def test_held_out_genome_windows_leave_out_n_and_benchmark_sequences_on_either_strand(tmp_path):
    """The chr21 windows are drawn as the training negatives are (`finetune.py --extra_negatives`)."""
    from ienhancer_elm.sequences import reverse_complement

    rng = np.random.default_rng(2)
    first, second = ("".join(rng.choice(list("ACGT"), 600)) for _ in range(2))
    first = first[:250] + "N" + first[251:]
    planted = second[420:480]
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">one\n{first.lower()}\n>two\n{second}\n>short\n{second[:150]}\n")
    windows, names = fasta_windows([fasta], {reverse_complement(planted)})
    assert windows == [first[:200].upper(), first[400:600].upper(), second[:200], second[200:400]]
    assert names == ["one", "one", "two", "two"]


def test_members_saved_in_different_sessions_average_into_one_soft_vote(tmp_path):
    fingerprint = inputs_fingerprint(["ACGT", "TTGA"], ["GGCC", "ATAT", "CCCA"])
    variants = {
        3: {"plain": {"fold_scores": [0.2, 0.6], "genome_scores": [0.1, 0.3, 0.5], "best_epoch": 2}},
        4: {"plain": {"fold_scores": np.array([0.4, 0.8]), "genome_scores": np.array([0.3, 0.1, 0.7])}},
    }
    for k, found in variants.items():
        save_member_scores(k, fingerprint, found, tmp_path)
    members = load_member_scores(fingerprint, folder=tmp_path)
    assert list(members) == [3, 4] and members[3]["variants"]["plain"]["best_epoch"] == 2
    fold, genome = mean_of_members(members, "plain")
    assert fold == pytest.approx([0.3, 0.7]) and genome == pytest.approx([0.2, 0.2, 0.6])
    add_to_member_record(3, {"plain": {"epoch_seconds": [160.2, 158.9]}}, tmp_path)  # a later session's timings
    again = load_member_scores(fingerprint, folder=tmp_path)[3]["variants"]["plain"]
    assert again == members[3]["variants"]["plain"] | {"epoch_seconds": [160.2, 158.9]}


def test_a_member_scored_on_other_rows_is_refused(tmp_path):
    save_member_scores(
        3, inputs_fingerprint(["ACGT"], ["GGCC"]), {"plain": {"fold_scores": [1], "genome_scores": [0]}}, tmp_path
    )
    assert inputs_fingerprint(["ACGT"], ["GGCC"]) != inputs_fingerprint(["ACGT", "GGCC"], [])
    with pytest.raises(ValueError, match="k3.json was scored on other held-out rows"):
        load_member_scores(inputs_fingerprint(["ACGT"], ["GGCA"]), folder=tmp_path)


def test_saved_scores_are_reused_only_for_the_same_checkpoints_and_inputs(tmp_path):
    checkpoint = tmp_path / "best"
    checkpoint.mkdir()
    (checkpoint / "model.safetensors").write_bytes(b"weights")
    (checkpoint / "vocab.txt").write_text("AAA\n")
    fingerprint, scores_folder = inputs_fingerprint(["ACGT"], ["GGCC"]), tmp_path / "scores"
    digest = {PLAIN: checkpoint_sha256(checkpoint)}
    assert not scores_up_to_date(3, fingerprint, digest, scores_folder)  # nothing saved yet
    found = {"fold_scores": [0.5], "genome_scores": [0.1]}
    save_member_scores(3, fingerprint, {PLAIN: found}, scores_folder)
    assert not scores_up_to_date(3, fingerprint, digest, scores_folder)  # saved before digests were recorded
    save_member_scores(3, fingerprint, {PLAIN: found | {"checkpoint_sha256": digest[PLAIN]}}, scores_folder)
    assert scores_up_to_date(3, fingerprint, digest, scores_folder)
    assert not scores_up_to_date(3, inputs_fingerprint(["ACGT"], ["GGCA"]), digest, scores_folder)
    assert not scores_up_to_date(3, fingerprint, digest | {WITH_GENOME: digest[PLAIN]}, scores_folder)
    (checkpoint / "vocab.txt").write_text("AAC\n")  # a retrained or edited checkpoint, weights unchanged
    assert not scores_up_to_date(3, fingerprint, {PLAIN: checkpoint_sha256(checkpoint)}, scores_folder)


def _member(rng, plain_genome_shift=0.0, per_sequence=1.0):
    def arm(genome_shift, negatives):
        return {
            "fold_scores": rng.random(6),
            "genome_scores": rng.random(8) * 0.5 + genome_shift,
            "best_epoch": 3,
            "hardware": "cpu",
            "genome_negatives": negatives,
            "genome_negatives_per_sequence": per_sequence,
        }

    return {"variants": {PLAIN: arm(plain_genome_shift, []), WITH_GENOME: arm(0.0, ["chr2.fa"])}}


def test_the_rule_waits_for_all_four_members_and_then_decides():
    rng = np.random.default_rng(3)
    members = {k: _member(rng, plain_genome_shift=0.5) for k in (6, 3)}
    provisional = compare_members(FOLD_LABELS, members)
    assert provisional["members"] == [3, 6] and not provisional["decided"] and provisional["ships"] is None
    assert provisional["gain_a"] > 0.02  # it leans one way, yet decides nothing
    assert provisional["genome_negatives"] == ["chr2.fa"] and provisional["genome_negatives_per_sequence"] == 1.0
    assert provisional["results"][PLAIN]["k3"]["best_epoch"] == 3
    assert "epoch_seconds" not in provisional["results"][PLAIN]["k3"]  # a record saved before timings were kept
    members[6]["variants"][PLAIN] |= {"epoch_seconds": [190.5, 188.0], "pretraining_seconds": 1138.7}
    timed = compare_members(FOLD_LABELS, members)["results"][PLAIN]["k6"]
    assert timed["epoch_seconds"] == [190.5, 188.0] and timed["pretraining_seconds"] == 1138.7
    members |= {k: _member(rng, plain_genome_shift=0.5) for k in (4, 5)}
    decided = compare_members(FOLD_LABELS, members)
    assert decided["members"] == list(ALL_MEMBERS) and decided["decided"]
    assert (
        decided["ships"]
        == verdict(
            FOLD_LABELS,
            plain=tuple(
                np.mean([m["variants"][PLAIN][s] for m in members.values()], axis=0)
                for s in ("fold_scores", "genome_scores")
            ),
            with_genome=tuple(
                np.mean([m["variants"][WITH_GENOME][s] for m in members.values()], axis=0)
                for s in ("fold_scores", "genome_scores")
            ),
        )["ships"]
    )


def test_members_with_negatives_drawn_differently_are_not_averaged():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="drawn differently"):
        compare_members(FOLD_LABELS, {3: _member(rng), 4: _member(rng, per_sequence=0.5)})


def test_a_members_two_fine_tunes_may_differ_only_in_their_negatives():
    plain = {"output_dir": "runs/a", "learning_rate": 1e-4, "mixed_precision": "no", "genome_negatives": []}
    refuse_unlike_arms(3, plain, plain | {"output_dir": "runs/b", "genome_negatives": ["x.fa"]})
    with pytest.raises(ValueError, match="k = 3: the two fine-tunes differ in mixed_precision"):
        refuse_unlike_arms(3, plain, plain | {"mixed_precision": "bf16", "genome_negatives": ["x.fa"]})


def test_epoch_times_count_an_epoch_logged_twice_once(tmp_path):
    assert logged_seconds(tmp_path) is None  # no log: nothing to say, and no error
    lines = [{"epoch": 0, "seconds": 190.1}, {"epoch": 1, "seconds": 80.0}, {"epoch": 1, "seconds": 191.5}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert logged_seconds(tmp_path) == [190.1, 191.5]  # killed after logging epoch 1, which then ran again


def test_training_times_read_a_pretraining_folder_and_nothing_for_a_scratch_start(tmp_path, monkeypatch):
    import genome_negative_members as members

    pretraining = tmp_path / "pretrain_k3"
    (pretraining / "member").mkdir(parents=True)
    (pretraining / "corpus.json").write_text(json.dumps({"hardware": "cpu, 2 threads"}))
    (pretraining / "metrics.jsonl").write_text(json.dumps({"epoch": 0, "seconds": 960.0}) + "\n")
    for name, init in (("plain", pretraining / "member"), ("genome", "scratch")):
        (tmp_path / name / "fold0").mkdir(parents=True)
        (tmp_path / name / "arguments.json").write_text(json.dumps({"init": str(init)}))
        (tmp_path / name / "fold0" / "metrics.jsonl").write_text(json.dumps({"epoch": 0, "seconds": 160.0}) + "\n")
    monkeypatch.setattr(members, "RUNS", {PLAIN: str(tmp_path / "plain"), WITH_GENOME: str(tmp_path / "genome")})
    monkeypatch.chdir(tmp_path)  # a scratch start must not read a log that happens to lie in the working folder
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"epoch": 0, "seconds": 5.0}) + "\n")
    times = members.training_times(3)
    assert times[PLAIN] == {
        "epoch_seconds": [160.0],
        "pretraining_seconds": 960.0,
        "pretraining_hardware": "cpu, 2 threads",
    }
    assert times[WITH_GENOME] == {"epoch_seconds": [160.0]}


def test_the_held_out_genome_is_refused_as_training_negatives():
    refuse_held_out_genome(CALIBRATION_PIECES)
    with pytest.raises(ValueError, match="grch38_chr21_contigs.fa.gz is the genome piece kept out of every fitting"):
        refuse_held_out_genome(["elsewhere/grch38_chr21_contigs.fa.gz"])  # wherever it lies
    assert training_pieces() == CALIBRATION_PIECES
    with pytest.raises(ValueError, match="kept out of every fitting step"):
        training_pieces([*CALIBRATION_PIECES, HELD_OUT_GENOME])


def test_runs_from_before_and_after_the_option_rename_record_their_negatives_alike():
    before = {"genome_negatives": ["a.fa"], "genome_negatives_per_sequence": 0.5, "learning_rate": 1e-4}
    after = {"extra_negatives": ["a.fa"], "extra_negatives_per_sequence": 0.5, "learning_rate": 1e-4}
    recorded = {"genome_negatives": ["a.fa"], "genome_negatives_per_sequence": 0.5}
    assert recorded_negatives(before) == recorded_negatives(after) == recorded
    assert recorded_negatives({"extra_negatives": [], "extra_negatives_per_sequence": 1.0})["genome_negatives"] == []
    plain = {"output_dir": "runs/a", "learning_rate": 1e-4, "extra_negatives": []}
    refuse_unlike_arms(3, plain, plain | {"output_dir": "runs/b", "extra_negatives": ["a.fa"]})
    refuse_unlike_arms(3, before | {"genome_negatives": []}, after)  # a plain run kept from before the rename


@pytest.mark.integration  # it runs the shell script in subprocesses
def test_the_member_script_refuses_the_held_out_piece_first_and_passes_the_others_as_extra_negatives(tmp_path):
    """genome_negative_members.sh, run in a copy of the files it reads, with `accelerate` replaced by a recorder."""
    copy = tmp_path / "repo"
    (copy / "training" / "configs").mkdir(parents=True)
    shutil.copytree(HERE, copy / "experiments" / "genome_negatives", ignore=shutil.ignore_patterns("*.json", "test_*"))
    config = HERE.parents[1] / "training" / "configs" / "finetune_k3_layer1.json"
    shutil.copy(config, copy / "training" / "configs")
    (tmp_path / "bin").mkdir()
    recorder = tmp_path / "bin" / "accelerate"
    recorder.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "launches"}\n')
    recorder.chmod(0o755)
    path = os.pathsep.join([str(tmp_path / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]])
    environment = os.environ | {"KMERS": "3", "PATH": path}  # the script's `python` is this interpreter
    script = copy / "experiments" / "genome_negatives" / "genome_negative_members.sh"
    subprocess.run(["bash", str(script), "--mixed_precision", "no"], env=environment, check=False)
    assert not (tmp_path / "launches").exists()  # flags before the accelerate config are refused
    subprocess.run(["bash", str(script), "cpu.yaml", "--mixed_precision", "no"], env=environment, check=True)
    launches = (tmp_path / "launches").read_text().splitlines()
    assert launches[0].startswith("launch --config_file cpu.yaml training/pretrain_mlm.py")
    assert launches[-1] == (
        "launch --config_file cpu.yaml training/finetune.py training/configs/finetune_k3_layer1.json "
        "--output_dir runs/genome_negatives_k3_layer1 --extra_negatives "
        + " ".join(CALIBRATION_PIECES)
        + " --mixed_precision no"
    )
    (copy / "experiments" / "genome_negatives" / "genome_check.py").write_text(
        (HERE / "genome_check.py").read_text().replace(CALIBRATION_PIECES[0], HELD_OUT_GENOME)
    )
    (tmp_path / "launches").unlink()
    refused = subprocess.run(["bash", str(script)], env=environment, capture_output=True, text=True)
    assert refused.returncode != 0 and "kept out of every fitting step" in refused.stderr
    assert not (tmp_path / "launches").exists()
