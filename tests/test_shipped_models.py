"""The trained models bundled with the package still give the predictions recorded when they shipped."""

import json

import pytest

from ienhancer_elm.paths import SHIPPED_MODELS, shipped_model_path
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record

from conftest import REPO, shipped_reference

RECIPE = ("layer1", "layer2")  # trained by training/recipe.sh; nhlf has heads fitted on layer 1's encoders
REFERENCE = shipped_reference()


@pytest.mark.parametrize("layer", list(SHIPPED_MODELS))
def test_shipped_model_reproduces_its_recorded_predictions(layer):
    model, tokenizer = load_model(shipped_model_path(layer), "cpu")
    records = [Record(name, sequence) for name, sequence in REFERENCE["sequences"].items()]
    expected = REFERENCE["models"][layer]
    for row in predict_records(model, tokenizer, records, precision="fp32"):
        assert row.label == expected[row.id]["label"], row.id
        assert row.probability == pytest.approx(expected[row.id]["probability"], abs=1e-5), row.id


def test_predict_without_model_uses_the_shipped_layer1_model(tmp_path):
    from ienhancer_elm.cli import main

    assert main(["predict", str(REPO / "examples" / "sample.fasta"), "-o", str(tmp_path / "out.tsv")]) == 0
    rows = [line.split("\t") for line in (tmp_path / "out.tsv").read_text().splitlines()]
    header, body = rows[0], rows[1:]
    expected = {name: found for name, found in REFERENCE["models"]["layer1"].items() if name.startswith("test_")}
    assert [row[0] for row in body] == list(expected)
    assert [row[header.index("label")] for row in body] == [expected[row[0]]["label"] for row in body]


@pytest.mark.parametrize("layer", list(SHIPPED_MODELS))
def test_shipped_folder_carries_the_current_hub_code_and_its_reports(layer):
    folder = shipped_model_path(layer)
    package = REPO / "src" / "ienhancer_elm"
    for name in ("configuration_ienhancer_elm.py", "modeling_ienhancer_elm.py", "tokenization_ienhancer_elm.py"):
        assert (folder / name).read_text() == (package / name).read_text(), f"{layer}: stale {name}"
    reports = {"README.md", "cv_results.json", "model.safetensors"} | ({"training.json"} if layer in RECIPE else set())
    assert reports <= {p.name for p in folder.iterdir()}
    assert not [p for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pkl")]


@pytest.mark.parametrize("layer", RECIPE)
def test_shipped_card_describes_the_recipe_its_members_were_trained_with(layer):
    folder = shipped_model_path(layer)
    training = json.loads((folder / "training.json").read_text())
    both_strands = {m["arguments"].get("reverse_complement_augmentation", False) for m in training["members"].values()}
    assert len(both_strands) == 1
    card = (folder / "README.md").read_text()
    assert ("both strands of every training sequence" in card) == both_strands.pop()
    assert f"logit({json.loads((folder / 'cv_results.json').read_text())['threshold']})" in card


def test_nhlf_card_says_how_long_sequences_are_read_and_warns_of_the_length_leak():
    from ienhancer_elm.models import IEnhancerELMConfig

    folder = shipped_model_path("nhlf")
    config = IEnhancerELMConfig.from_pretrained(folder)
    card = (folder / "README.md").read_text()
    assert config.window_bp == 200 and f"in 200 bp windows every {config.window_stride_bp} bp" in card
    assert f"logit({config.threshold})" in card and "1 (mod 10)" in card
    results = card.split("## Results on the independent test set")[1].split("## Limitations")[0]
    assert "| BACC |" in results  # the test split is 1:2
