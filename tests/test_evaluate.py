"""`evaluate` and `baseline` end to end on a synthetic benchmark laid out like the real one."""

import json

import pytest

from ienhancer_elm.cli import main

from conftest import TINY, write_synthetic_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_synthetic_dataset(tmp_path_factory.mktemp("data"), n_train=80, n_test=40)


def test_evaluate_the_tiny_model(dataset, tmp_path, capsys):
    out, plot = tmp_path / "results.json", tmp_path / "curves.png"
    code = main(
        [
            "evaluate",
            "--model",
            str(TINY),
            "--dataset",
            str(dataset),
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


def test_baseline_is_chosen_by_cv_and_evaluated(dataset, tmp_path):
    assert main(["release", "baseline", "--dataset", str(dataset), "-o", str(tmp_path / "baseline")]) == 0
    cv = json.loads((tmp_path / "baseline" / "cv.json").read_text())
    assert cv["chosen"] in cv["cv_auc_by_candidate"] and cv["cv_metrics"]["AUC_ROC"] > 0.7
    import joblib
    import numpy as np

    from ienhancer_elm.baseline import refit_chosen
    from ienhancer_elm.evaluation import load_split

    train = load_split(str(dataset), "layer1", "train")  # what cv.json names, fitted again, is the saved model
    again = refit_chosen(cv, train["sequence"], train["label"])
    saved = joblib.load(tmp_path / "baseline" / "model.joblib")["model"]
    texts = np.asarray(train["sequence"][:10], dtype=object)
    assert np.allclose(again.predict_proba(texts), saved.predict_proba(texts))
    out = tmp_path / "baseline.json"
    model = str(tmp_path / "baseline" / "model.joblib")
    assert main(["evaluate", "--model", model, "--dataset", str(dataset), "--resamples", "50", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["model"]["kind"] == "k-mer spectrum baseline"
    assert report["results"]["all"]["AUC_ROC"]["value"] > 0.7  # the planted GATA site is learnable from 5-mers
    compared = tmp_path / "tiny-vs-baseline.json"
    arguments = ["evaluate", "--model", str(TINY), "--against", model, "--dataset", str(dataset), "--resamples", "50"]
    assert main([*arguments, "-o", str(compared)]) == 0
    difference = json.loads(compared.read_text())["difference"]
    assert difference["against"]["kind"] == "k-mer spectrum baseline" and difference["against_threshold"] == 0.5
    tiny = json.loads(compared.read_text())["results"]
    for subset, figures in difference["results"].items():
        expected = tiny[subset]["AUC_ROC"]["value"] - report["results"][subset]["AUC_ROC"]["value"]
        assert figures["AUC_ROC"]["value"] == pytest.approx(expected) and figures["n"] == tiny[subset]["n"]
        assert figures["AUC_ROC"]["ci95"][0] <= figures["AUC_ROC"]["value"] <= figures["AUC_ROC"]["ci95"][1]


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
