"""The layout of docs/layout.md holds: imports run one way, and the experiments stay out of the package."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_imports_keep_the_contracts_of_pyproject():
    from importlinter.cli import lint_imports

    here = Path.cwd()
    os.chdir(REPO)  # the contracts are read from pyproject.toml in the working folder
    try:
        assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True, no_logo=True) == 0
    finally:
        os.chdir(here)


def test_the_metric_modules_citation_is_the_cards():
    """The metric module runs from the Hub on its own, so it carries a copy of the one citation; kept equal here."""
    import ast

    from ienhancer_elm.release.model_card import CITATION

    metric = REPO / "hub_configs" / "metric" / "ienhancer_metrics" / "ienhancer_metrics.py"
    assigned = {
        node.targets[0].id: node.value.value
        for node in ast.parse(metric.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    }
    assert assigned["_CITATION"] == CITATION + "\n"
