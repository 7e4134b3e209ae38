"""Training runs as a user starts them, under `accelerate launch` with the shipped configs: resumability,
data-parallel equivalence, extra negatives, window training, pretraining's budget, and the full recipe
(pretrain, fine-tune, assemble, rescore, refit, card, pipeline)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from .conftest import subprocess_env
from conftest import REPO, genome_fasta, synthetic_sequences, write_synthetic_dataset

TINY_RUN = {
    "k": 3,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "hidden_dropout_prob": 0.0,
    "head_dropout": 0.0,
    "folds": 2,
    "batch_size": 8,
    "eval_batch_size": 32,
    "epochs": 2,
    "learning_rate": 0.003,
    "patience": 0,
    "seed": 3,
}  # no "cpu": the launch must find out by itself that there is no GPU


@pytest.fixture
def dataset(training_dataset):
    """32 training and 8 test sequences (tests/conftest.py)."""
    return training_dataset


def launch(script, settings, tmp_path, processes=1):
    """Run a training script as a user would, with the shipped accelerate configs (one or two CPU processes)."""
    config = tmp_path / f"run-{len(list(tmp_path.glob('run-*.json')))}.json"
    config.write_text(json.dumps(settings))
    accelerate_config = REPO / "training" / "accelerate" / ("cpu_2proc.yaml" if processes == 2 else "cpu.yaml")
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config)]
    command += ["--num_cpu_threads_per_process", "1", str(REPO / "training" / script), str(config)]
    done = subprocess.run(command, env=subprocess_env(), cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def score_heldout(runs, dataset, tmp_path) -> dict:
    """experiments/recipe_variants/score_heldout.py on the runs' held-out folds."""
    script = REPO / "experiments" / "recipe_variants" / "score_heldout.py"
    output = tmp_path / "heldout.json"
    command = [sys.executable, str(script), *runs, "--dataset", str(dataset), "-o", str(output)]
    done = subprocess.run(command, env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(output.read_text())


def final_weights(run_dir):
    return load_file(run_dir / "fold0" / "checkpoint" / "model.safetensors")


def assert_same_weights(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.allclose(a[name], b[name], atol=atol, rtol=0), name


@pytest.mark.parametrize("sampling", [{}, {"gc_balanced_sampling": True}], ids=["shuffled", "gc_balanced"])
def test_killed_and_resumed_run_ends_with_the_same_weights(dataset, tmp_path, sampling):
    settings = {**TINY_RUN, "dataset": str(dataset), "only_fold": 0, **sampling}
    launch("finetune.py", {**settings, "output_dir": str(tmp_path / "straight")}, tmp_path)
    # 16 training sequences, batch 8: 2 steps an epoch; stop mid-epoch 1 (after step 3), then resume.
    launch("finetune.py", {**settings, "output_dir": str(tmp_path / "resumed"), "stop_after_steps": 3}, tmp_path)
    stopped = json.loads((tmp_path / "resumed" / "fold0" / "metrics.jsonl").read_text().splitlines()[-1])
    assert stopped["epoch"] == 0
    resumed = launch("finetune.py", {**settings, "output_dir": str(tmp_path / "resumed")}, tmp_path)
    assert "resumed at epoch 1, step 1" in resumed.stdout + resumed.stderr
    assert_same_weights(final_weights(tmp_path / "straight"), final_weights(tmp_path / "resumed"))
    logged = [json.loads(line) for line in (tmp_path / "straight" / "fold0" / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in logged] == [0, 1]
    assert all(m["train_loss"] > 0 and m["seconds"] >= 0 and 0 <= m["valid_auc"] <= 1 for m in logged), logged
    assert all(m["valid_gc_matched_auc"] is None or 0 <= m["valid_gc_matched_auc"] <= 1 for m in logged), logged
    if importlib.util.find_spec("tensorboard"):
        assert list((tmp_path / "straight" / "fold0" / "tensorboard").glob("events.out.tfevents.*"))


def test_two_processes_equal_one_with_the_same_global_batch(dataset, tmp_path):
    settings = {**TINY_RUN, "dataset": str(dataset), "only_fold": 0, "epochs": 1}
    launch("finetune.py", {**settings, "output_dir": str(tmp_path / "one"), "batch_size": 8}, tmp_path)
    two_processes = launch(
        "finetune.py", {**settings, "output_dir": str(tmp_path / "two"), "batch_size": 4}, tmp_path, processes=2
    )
    assert "weights agree across 2 processes" in two_processes.stdout
    # DDP keeps both ranks equal by construction; check it, and compare with the one-process run.
    two = final_weights(tmp_path / "two")
    rank_files = sorted((tmp_path / "two" / "fold0" / "checkpoint").glob("model*.safetensors"))
    assert len(rank_files) == 1  # only the main process writes the model state
    assert_same_weights(final_weights(tmp_path / "one"), two, atol=1e-5)


def test_fine_tuning_with_extra_negatives_trains_on_them_and_validates_on_the_benchmark_fold(dataset, tmp_path):
    fasta = genome_fasta(tmp_path / "genome.fa", bases=4000)
    settings = {**TINY_RUN, "dataset": str(dataset), "only_fold": 0, "epochs": 1, "output_dir": str(tmp_path / "run")}
    launch("finetune.py", {**settings, "extra_negatives": [str(fasta)], "extra_negatives_per_sequence": 0.5}, tmp_path)
    logged = json.loads((tmp_path / "run" / "fold0" / "metrics.jsonl").read_text())
    assert logged["step"] == 3  # 16 training sequences and 8 genome windows, batch 8
    validation = (tmp_path / "run" / "fold0" / "validation_predictions.tsv").read_text().splitlines()[1:]
    assert len(validation) == 16 and all(line.startswith("train_") for line in validation)
    arguments = json.loads((tmp_path / "run" / "arguments.json").read_text())
    assert arguments["extra_negatives"] == [str(fasta)]


@pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")
def test_fine_tuning_with_a_gc_offset_validates_the_member_plus_its_offset(dataset, tmp_path):
    from ienhancer_elm.evaluation import load_split
    from ienhancer_elm.predict import load_model
    from ienhancer_elm.sequences import gc_fraction
    from ienhancer_elm.training.gc_offset import fit_gc_log_odds

    run = tmp_path / "run"
    settings = {**TINY_RUN, "dataset": str(dataset), "only_fold": 0, "refit": False, "epochs": 1}
    launch("finetune.py", {**settings, "output_dir": str(run), "gc_offset": True}, tmp_path)
    offset = json.loads((run / "fold0" / "best" / "gc_offset.json").read_text())
    model, tokenizer = load_model(run / "fold0" / "best", "cpu", precision="fp32")
    train = load_split(str(dataset), "layer1", "train")
    sequence_of = dict(zip(train["id"], train["sequence"]))
    rows = (run / "fold0" / "validation_predictions.tsv").read_text().splitlines()[1:]
    ids, saved = [row.split("\t")[0] for row in rows], torch.tensor([float(row.split("\t")[2]) for row in rows])
    with torch.no_grad():
        member = model(**tokenizer([sequence_of[i] for i in ids], return_tensors="pt")).probabilities
    gc = torch.tensor([gc_fraction(sequence_of[i]) for i in ids])
    combined = torch.sigmoid(torch.logit(member.double()) + offset["slope"] * gc + offset["intercept"])
    assert torch.allclose(saved.double(), combined, atol=1e-5)
    fit_rows = [i for i in train["id"] if i not in set(ids)]  # folds 1-4: the offset never saw the held-out fold
    expected = fit_gc_log_odds(
        [gc_fraction(sequence_of[i]) for i in fit_rows], [train["label"][train["id"].index(i)] for i in fit_rows]
    )
    assert (offset["slope"], offset["intercept"]) == pytest.approx(expected, rel=1e-5)
    # a refit on the whole split ships its member with the offset of all the rows beside it
    launch(
        "finetune.py",
        {**settings, "output_dir": str(tmp_path / "refit"), "gc_offset": True, "refit_epochs": 1},
        tmp_path,
    )
    refitted = json.loads((tmp_path / "refit" / "refit" / "member" / "gc_offset.json").read_text())
    expected = fit_gc_log_odds([gc_fraction(s) for s in train["sequence"]], train["label"])
    assert (refitted["slope"], refitted["intercept"]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")
def test_fine_tuning_on_windows_ships_a_member_that_reads_whole_sequences_in_windows(tmp_path):
    dataset = write_synthetic_dataset(tmp_path / "long", n_train=24, n_test=4, length=180)
    run = tmp_path / "finetune_windows"
    settings = {**TINY_RUN, "dataset": str(dataset), "output_dir": str(run), "epochs": 1, "window_bp": 60}
    launch("finetune.py", {**settings, "only_fold": 0, "refit": False, "window_training": "random"}, tmp_path)
    from ienhancer_elm.predict import load_model

    model, tokenizer = load_model(run / "fold0" / "best", "cpu", precision="fp32")
    assert (model.config.window_bp, model.config.window_stride_bp) == (60, 30)
    sequence = synthetic_sequences(1, 180, seed=9)[0][0]
    with torch.no_grad():
        whole = model(**tokenizer([sequence], return_tensors="pt")).member_probabilities
        windows = [sequence[start : start + 60] for start in range(0, 121, 30)]
        parts = model(**tokenizer(windows, return_tensors="pt")).member_probabilities
    assert torch.allclose(whole[0], parts.mean(dim=0), atol=1e-5)
    # whole sequences read in windows, trained through the combined output, here of pooled states
    whole_run = tmp_path / "finetune_whole"
    states = {"window_training": "whole", "window_combination": "states", "window_stride_bp": 60}
    launch(
        "finetune.py", {**settings, "output_dir": str(whole_run), "only_fold": 0, "refit": False, **states}, tmp_path
    )
    config = load_model(whole_run / "fold0" / "best", "cpu")[0].config
    assert (config.window_bp, config.window_stride_bp, config.window_combination) == (60, 60, "states")
    assert json.loads((whole_run / "summary.json").read_text())["member"] == "fold0/best"


def test_pretraining_logs_heldout_masked_lm_loss_and_stops_on_its_budget(tmp_path):
    sequences, _ = synthetic_sequences(30, 120, seed=7)
    (tmp_path / "corpus.fa").write_text(">long\n" + "".join(sequences) + "\n")
    out = tmp_path / "pretrain"
    settings = {**{key: TINY_RUN[key] for key in ("k", "hidden_size", "num_attention_heads", "intermediate_size")}}
    settings |= {"num_hidden_layers": 1, "output_dir": str(out), "corpus": [str(tmp_path / "corpus.fa")]}
    settings |= {"window": 60, "stride": 30, "validation_bp": 600, "batch_size": 8, "epochs": 50}
    launch("pretrain_mlm.py", {**settings, "max_minutes": 1e-6}, tmp_path)  # spent during the first epoch
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    summary = json.loads((out / "corpus.json").read_text())
    assert len(epochs) == 1 and summary["epochs_trained"] == 1 and summary["stopped_by_budget"]
    assert summary["validation_windows"] == 2 * 600 // 60
    assert 0 < epochs[0]["valid_masked_accuracy"] < 1 and epochs[0]["valid_mlm_loss"] > 0
    assert (out / "member" / "model.safetensors").is_file()


def test_pretrain_finetune_ensemble_pipeline_end_to_end(dataset, tmp_path):
    sequences, _ = synthetic_sequences(40, 120, seed=5)
    (tmp_path / "corpus.fa").write_text("".join(f">c{i}\n{s}\n" for i, s in enumerate(sequences)))
    size = {
        key: TINY_RUN[key] for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
    }
    members = []
    # k = 3: every fold, then a refit on all data; k = 4: one hold-out fold whose best model ships (cropped).
    policies = {3: {}, 4: {"only_fold": 0, "refit": False, "random_crop": 6}}
    for k in (3, 4):
        pretrained = tmp_path / f"pretrain_k{k}"
        launch(
            "pretrain_mlm.py",
            {
                **size,
                "k": k,
                "output_dir": str(pretrained),
                "corpus": [str(tmp_path / "corpus.fa")],
                "window": 60,
                "stride": 30,
                "batch_size": 8,
                "epochs": 1,
                "warmup_steps": 2,
            },
            tmp_path,
        )
        assert (pretrained / "member" / "vocab.txt").is_file()
        run = tmp_path / f"finetune_k{k}"
        launch(
            "finetune.py",
            {
                **TINY_RUN,
                "k": k,
                "dataset": str(dataset),
                "init": str(pretrained / "member"),
                "output_dir": str(run),
                "epochs": 1,
                **policies[k],
            },
            tmp_path,
        )
        summary = json.loads((run / "summary.json").read_text())
        assert summary["member"] == ("refit/member" if k == 3 else "fold0/best")
        members.append(str(run))
    launch("build_ensemble.py", {"output_dir": str(tmp_path / "ensemble"), "members": members}, tmp_path)
    report = json.loads((tmp_path / "ensemble" / "cv_results.json").read_text())
    assert set(report["chosen_kmers"]) <= {3, 4} and 0 < report["threshold"] < 1
    assert report["cv_at_threshold"]["n"] == 16  # the ids held out by both: fold 0 of k = 4 (k = 3 covers all 32)
    rescored = score_heldout(members, dataset, tmp_path)
    assert rescored["n"] == 16
    one_fold_run = members[1]  # k = 4: rescoring its fold model in fp32 gives back the AUC it was selected by
    selected_by = json.loads((Path(one_fold_run) / "summary.json").read_text())["best_valid_auc"]["0"]
    assert rescored["member_auc"][one_fold_run] == pytest.approx(selected_by, abs=1e-6)
    refit_members_and_swap_them_in(tmp_path / "ensemble", dataset, tmp_path)
    from ienhancer_elm.cli import main

    widget = str(REPO / "examples" / "sample.fasta")
    assert main(["release", "card", str(tmp_path / "ensemble"), "--repo-id", "t/x", "--widget", widget]) == 0
    card = (tmp_path / "ensemble" / "README.md").read_text()
    assert "then fine-tuned with stratified 2-fold cross-validation" in card and "| 3, 4 |" in card
    assert (
        "epochs on the whole split" in card
        and "that the members, before their refit on the whole split, did not" in card
    )
    from transformers import pipeline

    from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer

    classifier = pipeline("text-classification", model=str(tmp_path / "ensemble"))
    predictions = classifier(sequences[:3])
    ensemble = IEnhancerELMForSequenceClassification.from_pretrained(tmp_path / "ensemble").eval()
    tokenizer = KmerTokenizer(kmers=ensemble.config.kmers)
    with torch.no_grad():
        probabilities = ensemble(**tokenizer(sequences[:3], padding=True, return_tensors="pt")).probabilities.tolist()
    assert [p["label"] for p in predictions] == [ensemble.config.id2label[int(p > 0.5)] for p in probabilities]
    assert [p["score"] for p in predictions] == pytest.approx([max(p, 1 - p) for p in probabilities], abs=1e-5)


def refit_members_and_swap_them_in(ensemble: Path, dataset, tmp_path):
    """What refit_members.sh and refit_encoders.py do: each member again on all the data for its chosen epochs,
    its encoder swapped in and its head fitted on the new features; then nothing may choose on fold 0 with it."""
    import numpy as np

    from ienhancer_elm.evaluation import load_split
    from ienhancer_elm.models import IEnhancerELMForSequenceClassification
    from ienhancer_elm.predict import load_model
    from ienhancer_elm.training.heads import HeadSettings
    from ienhancer_elm.training.refit import (
        check_refit_run,
        record_refit,
        require_fold_encoders,
        swap_in_refitted_encoders,
    )

    training = json.loads((ensemble / "training.json").read_text())
    model, tokenizer = load_model(ensemble, "cpu", precision="fp32")
    refit_runs, refits = {}, {}
    runs = {k: training["members"][str(k)]["arguments"]["output_dir"] for k in model.config.kmers}
    for k, fold_run in runs.items():
        settings = json.loads((Path(fold_run) / "arguments.json").read_text())
        epochs = max(training["members"][str(k)]["summary"]["best_epochs"].values()) + 1
        refit_runs[k] = tmp_path / f"refit_k{k}"
        launch("finetune.py", {**settings, "output_dir": str(refit_runs[k]), "refit_epochs": epochs}, tmp_path)
        assert not list(refit_runs[k].glob("fold*"))  # no cross-validation: the epochs were chosen already
        refits[k] = check_refit_run(k, refit_runs[k], training["members"][str(k)])
    k = min(runs)
    with pytest.raises(ValueError, match="differs from the member's fold run in learning_rate"):
        changed = {**training["members"][str(k)], "arguments": {**refits[k]["arguments"], "learning_rate": 1.0}}
        check_refit_run(k, refit_runs[k], changed)
    heads_before = model.member(k).head[1].weight.clone()
    train = load_split(str(dataset), "layer1", "train")
    settings = HeadSettings(steps=20)
    swap_in_refitted_encoders(
        model, tokenizer, refit_runs, settings, list(train["sequence"]), np.asarray(train["label"])
    )
    model.save_pretrained(ensemble)
    record_refit(ensemble, refits, "refit_encoders.py")
    swapped = IEnhancerELMForSequenceClassification.from_pretrained(ensemble)
    for member_k, run in refit_runs.items():
        refitted = IEnhancerELMForSequenceClassification.from_pretrained(run / "refit" / "member")
        for name, value in refitted.member(member_k).bert.state_dict().items():
            assert torch.equal(swapped.member(member_k).bert.state_dict()[name], value), name
    assert not torch.equal(swapped.member(k).head[1].weight, heads_before)
    assert json.loads((ensemble / "cv_results.json").read_text())["refitted_encoders"]["epochs"] == {
        str(k): refit["summary"]["refit_epochs"] for k, refit in refits.items()
    }
    with pytest.raises(SystemExit, match="refitted on the whole training split"):
        require_fold_encoders(ensemble)
