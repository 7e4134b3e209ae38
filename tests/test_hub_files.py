"""The three Hub code files: what they import, the shipped tiny folder, and trust_remote_code loading."""

import ast
import json
import sys

import pytest
import torch

import ienhancer_elm
from ienhancer_elm.hub_export import tiny_model

from conftest import REPO, TINY, run_python

HUB_FILES = ["configuration_ienhancer_elm.py", "modeling_ienhancer_elm.py", "tokenization_ienhancer_elm.py"]
PACKAGE = REPO / "src" / "ienhancer_elm"


@pytest.mark.parametrize("name", HUB_FILES)
def test_hub_files_import_only_stdlib_torch_transformers(name):
    tree = ast.parse((PACKAGE / name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: must name another Hub file
                assert f"{node.module}.py" in HUB_FILES, node.module
                continue
            roots = {node.module.split(".")[0]}
        else:
            continue
        for root in roots:
            assert root in sys.stdlib_module_names or root in {"torch", "transformers"}, f"{name} imports {root}"


def test_shipped_tiny_folder_is_current_and_small():
    assert sum(p.stat().st_size for p in TINY.iterdir()) < 2_000_000
    for name in HUB_FILES:
        assert (TINY / name).read_text() == (PACKAGE / name).read_text(), (
            f"re-run: python -m ienhancer_elm.release.tiny ({name})"
        )
    config = json.loads((TINY / "config.json").read_text())
    assert config["kmers"] == [3, 4] and config["member_configs"]["3"]["hidden_size"] == 32
    assert set(config["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"}
    tokenizer_config = json.loads((TINY / "tokenizer_config.json").read_text())
    assert tokenizer_config["auto_map"]["AutoTokenizer"][0] == "tokenization_ienhancer_elm.KmerTokenizer"
    shipped = ienhancer_elm.IEnhancerELMForSequenceClassification.from_pretrained(TINY)
    assert all(torch.equal(a, b) for a, b in zip(shipped.state_dict().values(), tiny_model().state_dict().values()))


REMOTE_CODE_USER = """
import json, torch
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline
folder = {folder!r}
sequences = {sequences!r}
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
classifier = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
assert type(model) is type(classifier)
with torch.no_grad():
    logits = model(**tokenizer(sequences, padding=True, return_tensors="pt")).logits
clf = pipeline("text-classification", model=folder, trust_remote_code=True)
print(json.dumps({{"logits": logits.tolist(), "one_by_one": clf(sequences), "batched": clf(sequences, batch_size=3)}}))
"""


def test_remote_code_load_and_pipeline_in_a_fresh_process(tiny_folder, tmp_path):
    sequences = ["ACGTTGCAGGATTACA" * 12, "TTGACCA" * 20, "GATTACA" * 9]
    result = json.loads(run_python(REMOTE_CODE_USER.format(folder=str(tiny_folder), sequences=sequences), tmp_path))
    model = ienhancer_elm.IEnhancerELMForSequenceClassification.from_pretrained(tiny_folder).eval()
    tokenizer = ienhancer_elm.KmerTokenizer.from_pretrained(tiny_folder)
    with torch.no_grad():
        output = model(**tokenizer(sequences, padding=True, return_tensors="pt"))
    assert torch.allclose(torch.tensor(result["logits"]), output.logits, atol=1e-6)
    one, batched = result["one_by_one"], result["batched"]
    assert [r["label"] for r in one] == [r["label"] for r in batched]
    assert [r["score"] for r in one] == pytest.approx([r["score"] for r in batched], abs=1e-5)
    labels = [model.config.id2label[int(p > 0.5)] for p in output.probabilities]
    assert [r["label"] for r in one] == labels
    assert [r["score"] for r in one] == pytest.approx([max(p, 1 - p) for p in output.probabilities.tolist()], abs=1e-6)
