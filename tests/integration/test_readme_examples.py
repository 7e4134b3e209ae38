"""The README's Python examples, run as a reader runs them (a fresh interpreter in the clone), and the figures of
docs/ regenerated from their reports (`docs/figures.py --check`, a process of its own)."""

import ast
import re
import subprocess
import sys

import pytest
import torch

from conftest import REPO, run_python


def test_readme_python_example_prints_the_shipped_models_calls():
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks
    output = run_python(blocks[0], REPO)
    assert "tensor(" in output  # the probabilities of AutoModel's output
    # the last line is the pipeline's answer for the sequences the example passes it
    sequences = eval(re.search(r"classifier\((\[[^\]]*\])", blocks[0]).group(1))  # the README's list of strings
    rows = ast.literal_eval(output.strip().splitlines()[-1])
    from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer
    from ienhancer_elm.paths import shipped_model_path

    model = IEnhancerELMForSequenceClassification.from_pretrained(shipped_model_path("layer1")).eval()
    with torch.no_grad():
        probabilities = model(**KmerTokenizer(kmers=model.config.kmers)(sequences, padding=True, return_tensors="pt"))
    probabilities = probabilities.probabilities.tolist()
    assert [row["label"] for row in rows] == [model.config.id2label[int(p > 0.5)] for p in probabilities]
    assert [row["score"] for row in rows] == pytest.approx([max(p, 1 - p) for p in probabilities], abs=1e-5)


def test_readme_three_entry_points_example_prints_what_the_readme_shows():
    """The second Python block compares predict, pipeline and AutoModel on the shipped model; its output is
    shown in the text block after it, which must be what it prints today."""
    text = (REPO / "README.md").read_text()
    block = r"((?:(?!```).)*)"  # a fenced block's body: no fence inside
    code, shown = re.search(rf"```python\n{block}```\n\n```text\n{block}```", text, flags=re.S).groups()
    assert "predict_records" in code
    output = run_python(code, REPO)
    assert output == shown
    for line in output.splitlines():
        numbers = re.findall(r"\d\.\d{4}", line)
        assert len(numbers) == 3 and len(set(numbers)) == 1, line


def test_figures_match_their_reports():
    done = subprocess.run(
        [sys.executable, str(REPO / "docs" / "figures.py"), "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
