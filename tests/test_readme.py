import re

from conftest import REPO, run_python


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks
    output = run_python(blocks[0], REPO)
    assert "tensor(" in output and "'label'" in output
