"""The three Hub code files: what they import, and the shipped tiny folder. Loading them with trust_remote_code
in a fresh interpreter is tests/integration/test_remote_code.py."""

import ast
import json
import sys

import pytest
import torch

import ienhancer_elm
from ienhancer_elm.hub_export import tiny_model

from conftest import REPO, TINY

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
