"""Publishing: what a push refuses, standalone member exports, and model cards rendered from reports. Pushes
through the real command line to a local stand-in of the Hub API are in tests/integration/test_hub_stub.py."""

import json

import pytest
import torch

from ienhancer_elm.cli import main
from ienhancer_elm.release.publishing import PublishError, export_member, files_to_push

from conftest import REPO, TINY

SEQUENCES = ["ACGTTGCAGGATTACA" * 12, "TTGACCA" * 20 + "GATTACA"]


def test_push_refuses_pickles_and_folders_without_a_card(tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "README.md").write_text("card")
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(PublishError, match="pickled files are never published"):
        files_to_push(folder)
    (folder / "pytorch_model.bin").unlink()
    (folder / "README.md").unlink()
    assert main(["release", "push", str(folder), "--repo-id", "a/b"]) == 2
    assert "no README.md" in capsys.readouterr().err


def test_member_export_loads_with_stock_classes_and_matches_the_ensemble(tmp_path):
    from transformers import AutoModel, BertTokenizer

    from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer

    ensemble = IEnhancerELMForSequenceClassification.from_pretrained(TINY).eval()
    for k in (3, 4):
        folder = export_member(ensemble, k, tmp_path / f"k{k}")
        stock_model = AutoModel.from_pretrained(folder).eval()
        stock_tokenizer = BertTokenizer.from_pretrained(folder)
        sequence = SEQUENCES[1]
        kmers = " ".join(sequence[i : i + k] for i in range(len(sequence) - k + 1))
        stock_ids = stock_tokenizer(kmers, return_tensors="pt")["input_ids"]
        ours = KmerTokenizer(kmers=(k,))(sequence, return_tensors="pt")["input_ids"]
        assert torch.equal(stock_ids, ours) and not (stock_ids == 1).any()  # no [UNK]
        with torch.no_grad():
            expected = ensemble.member(k).bert(input_ids=ours).last_hidden_state
            assert torch.allclose(stock_model(input_ids=stock_ids).last_hidden_state, expected, atol=1e-6)


def test_export_members_cli_writes_one_folder_per_member_with_a_card(tmp_path, capsys):
    assert main(["release", "export-members", str(TINY), "-o", str(tmp_path), "--name", "tiny"]) == 0
    for k in (3, 4):
        folder = tmp_path / f"tiny-k{k}"
        assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "README.md"} <= {
            p.name for p in folder.iterdir()
        }
        assert json.loads((folder / "tokenizer_config.json").read_text())["do_lower_case"] is False
        assert f"4^{k} k-mers" in (folder / "README.md").read_text()


def test_card_figures_come_from_the_evaluation_report(tmp_path):
    report = json.loads((REPO / "results" / "baseline-layer1-test.json").read_text())
    (tmp_path / "report.json").write_text(json.dumps(report))
    card_path = tmp_path / "README.md"
    args = ["release", "card", str(TINY), "--repo-id", "test-org/x", "--evaluation", str(tmp_path / "report.json")]
    assert main([*args, "-o", str(card_path), "--widget", str(REPO / "examples" / "sample.fasta")]) == 0
    card = card_path.read_text()
    front, body = card.split("---\n")[1], card.split("---\n", 2)[2]
    assert "library_name: transformers" in front and "pipeline_tag: text-classification" in front
    acc = report["results"]["all"]["ACC"]
    assert f"{acc['value']:.3f} [{acc['ci95'][0]:.3f}, {acc['ci95'][1]:.3f}]" in body
    assert report["command"] in body and "without `in_train`" in body


def test_card_says_how_much_of_the_figures_gc_share_explains_from_the_gc_table(tmp_path):
    gc_table = REPO / "experiments" / "beyond_gc" / "gc-table.json"
    report = REPO / "results" / "ienhancer-elm-layer1-test.json"
    shipped = REPO / "models" / "ienhancer-elm-layer1"
    args = ["release", "card", str(shipped), "--repo-id", "test-org/x", "--evaluation", str(report)]
    assert main([*args, "-o", str(tmp_path / "README.md"), "--gc-table", str(gc_table)]) == 0
    card = (tmp_path / "README.md").read_text()
    figures = json.loads(gc_table.read_text())["configs"]["layer1"]["subsets"]
    cell = lambda entry: f"{entry['value']:.3f} [{entry['ci95'][0]:.3f}, {entry['ci95'][1]:.3f}]"  # noqa: E731
    assert "### How much of it is GC content" in card
    for subset, label in (("all", "all (400)"), ("without_in_train", "without `in_train` (300)")):
        alone, model = figures[subset]["GC share alone"], figures[subset]["shipped ensemble"]
        cells = [cell(alone["AUC_ROC"]), cell(model["AUC_ROC"]), cell(alone["AUC_GC"]), cell(model["AUC_GC"])]
        assert f"| {label} | " + " | ".join(cells) + f" | {model['AUC_GC']['pairs']:,} |" in card
    assert main([*args, "-o", str(tmp_path / "plain.md")]) == 0  # without the table, no such section
    assert "How much of it is GC content" not in (tmp_path / "plain.md").read_text()
    # the table scored the shipped model: a card of another folder does not borrow its figures
    other = ["release", "card", str(TINY), "--repo-id", "test-org/x", "--evaluation", str(report)]
    assert main([*other, "-o", str(tmp_path / "tiny.md"), "--gc-table", str(gc_table)]) == 0
    assert "How much of it is GC content" not in (tmp_path / "tiny.md").read_text()


def test_a_card_whose_test_split_shares_nothing_with_training_shows_its_gc_rows_once(tmp_path):
    gc_table = REPO / "experiments" / "beyond_gc" / "gc-table.json"
    report = REPO / "results" / "ienhancer-elm-nhlf-test.json"
    args = ["release", "card", str(REPO / "models" / "ienhancer-elm-nhlf"), "--repo-id", "test-org/x"]
    assert (
        main([*args, "--evaluation", str(report), "-o", str(tmp_path / "README.md"), "--gc-table", str(gc_table)]) == 0
    )
    section = (tmp_path / "README.md").read_text().split("### How much of it is GC content")[1].split("\n## ")[0]
    assert "| all (2364) |" in section and "without `in_train`" not in section
    assert "No test sequence is also a training sequence." in section


def test_card_shows_the_paired_difference_against_a_second_model(tmp_path):
    report = json.loads((REPO / "results" / "baseline-layer1-test.json").read_text())
    auc = {"value": -0.021, "ci95": [-0.05, 0.01]}
    figures = {"ACC": auc, "MCC": auc, "Sn": auc, "Sp": auc, "AUC_ROC": auc, "AUC_PR": auc, "n": 400}
    report["difference"] = {
        "against": {
            "kind": "k-mer spectrum baseline",
            "source": "runs/baseline-layer1/model.joblib",
            "chosen": "svm_rbf",
        },
        "against_threshold": 0.5,
        "results": {"all": figures},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    args = ["release", "card", str(TINY), "--repo-id", "test-org/x", "--evaluation", str(tmp_path / "report.json")]
    assert main([*args, "-o", str(tmp_path / "README.md")]) == 0
    card = (tmp_path / "README.md").read_text()
    assert "| all: this model minus the k-mer spectrum baseline | 400 | -0.021 [-0.050, +0.010] |" in card
    assert (
        "paired bootstrap differences against the k-mer spectrum baseline `runs/baseline-layer1/model.joblib`" in card
    )
    assert "svm_rbf chosen by 5-fold CV on the training split" in card


def test_card_of_a_folder_without_a_model_is_refused(tmp_path, capsys):
    assert main(["release", "card", str(tmp_path), "--repo-id", "org/name"]) == 2
    assert "not a model folder (no config.json)" in capsys.readouterr().err
    assert not (tmp_path / "README.md").exists()
