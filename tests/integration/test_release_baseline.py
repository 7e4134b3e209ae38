"""`release baseline` end to end: the k-mer spectrum classifier chosen by 5-fold cross-validated grid searches
(logistic regression, an SVM, random forests of 500 trees) on a synthetic benchmark, then evaluated alone and
against the tiny model. In process, but a training run of half a minute on 2 cores: here, not in the default run.
"""

import json

import pytest

from ienhancer_elm.cli import main

from conftest import TINY


def test_baseline_is_chosen_by_cv_and_evaluated(evaluation_dataset, tmp_path):
    assert main(["release", "baseline", "--dataset", str(evaluation_dataset), "-o", str(tmp_path / "baseline")]) == 0
    cv = json.loads((tmp_path / "baseline" / "cv.json").read_text())
    by_candidate = cv["cv_auc_by_candidate"]
    assert cv["chosen"] == max(by_candidate, key=by_candidate.get)  # the best cross-validated AUC
    assert cv["cv_metrics"]["AUC_ROC"] > 0.7
    import joblib
    import numpy as np

    from ienhancer_elm.baseline import refit_chosen
    from ienhancer_elm.evaluation import load_split

    train = load_split(
        str(evaluation_dataset), "layer1", "train"
    )  # what cv.json names, fitted again, is the saved model
    again = refit_chosen(cv, train["sequence"], train["label"])
    saved = joblib.load(tmp_path / "baseline" / "model.joblib")["model"]
    texts = np.asarray(train["sequence"][:10], dtype=object)
    assert np.allclose(again.predict_proba(texts), saved.predict_proba(texts))
    out = tmp_path / "baseline.json"
    model = str(tmp_path / "baseline" / "model.joblib")
    assert (
        main(["evaluate", "--model", model, "--dataset", str(evaluation_dataset), "--resamples", "50", "-o", str(out)])
        == 0
    )
    report = json.loads(out.read_text())
    assert report["model"]["kind"] == "k-mer spectrum baseline"
    assert report["results"]["all"]["AUC_ROC"]["value"] > 0.7  # the planted GATA site is learnable from 5-mers
    compared = tmp_path / "tiny-vs-baseline.json"
    arguments = [
        "evaluate",
        "--model",
        str(TINY),
        "--against",
        model,
        "--dataset",
        str(evaluation_dataset),
        "--resamples",
        "50",
    ]
    assert main([*arguments, "-o", str(compared)]) == 0
    difference = json.loads(compared.read_text())["difference"]
    assert difference["against"]["kind"] == "k-mer spectrum baseline" and difference["against_threshold"] == 0.5
    tiny = json.loads(compared.read_text())["results"]
    for subset, figures in difference["results"].items():
        expected = tiny[subset]["AUC_ROC"]["value"] - report["results"][subset]["AUC_ROC"]["value"]
        assert figures["AUC_ROC"]["value"] == pytest.approx(expected) and figures["n"] == tiny[subset]["n"]
        assert figures["AUC_ROC"]["ci95"][0] <= figures["AUC_ROC"]["value"] <= figures["AUC_ROC"]["ci95"][1]
