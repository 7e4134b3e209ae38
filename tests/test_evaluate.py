"""`evaluate` end to end on a synthetic benchmark laid out like the real one. `release baseline` (5-fold grid
searches, random forests of 500 trees: half a minute) is tests/integration/test_release_baseline.py."""

import json

import pytest

from ienhancer_elm.cli import main

from conftest import TINY, write_synthetic_dataset


def test_evaluate_the_tiny_model(evaluation_dataset, tmp_path, capsys):
    out, plot = tmp_path / "results.json", tmp_path / "curves.png"
    code = main(
        [
            "evaluate",
            "--model",
            str(TINY),
            "--dataset",
            str(evaluation_dataset),
            "--resamples",
            "50",
            "-o",
            str(out),
            "--plot",
            str(plot),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"all", "without_in_train"}
    assert report["results"]["all"]["n"] == 40 and report["threshold"] == 0.5
    assert report["model"]["weights_sha256"] and report["dataset"]["files_sha256"]
    accuracy = report["results"]["all"]["ACC"]
    assert accuracy["ci95"][0] <= accuracy["value"] <= accuracy["ci95"][1]
    assert plot.stat().st_size > 10_000
    assert "without_in_train" in capsys.readouterr().out


def test_sequences_the_model_cannot_take_are_a_clear_error(tmp_path, capsys):
    dataset = write_synthetic_dataset(tmp_path / "long", n_train=4, n_test=4, length=600)
    assert main(["evaluate", "--model", str(TINY), "--dataset", str(dataset), "--resamples", "10"]) == 2
    assert "cannot be scored" in capsys.readouterr().err


def test_the_default_benchmark_is_found_from_any_folder_or_its_absence_explained(tmp_path, monkeypatch):
    from ienhancer_elm import evaluation, paths

    monkeypatch.chdir(tmp_path)
    assert len(evaluation.load_split(evaluation.DEFAULT_DATASET, "layer1", "test")) == 400
    with pytest.raises(evaluation.EvaluationError, match="no layer9/test.parquet; it holds .*layer1/test.parquet"):
        evaluation.load_split(evaluation.DEFAULT_DATASET, "layer9", "test")
    monkeypatch.setattr(paths, "REPOSITORY", tmp_path)  # as installed from a wheel
    with pytest.raises(evaluation.EvaluationError, match="pass --dataset"):
        evaluation.load_split(evaluation.DEFAULT_DATASET, "layer1", "test")
