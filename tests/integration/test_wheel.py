"""The wheel: built from the source tree, code only and small (the shipped models live in models/)."""

import subprocess
import sys
import zipfile

from conftest import REPO


def test_the_wheel_is_code_only_and_small(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.stat().st_size < 5_000_000
    assert not [n for n in names if n.endswith((".safetensors", ".parquet", ".bin"))]
    assert "ienhancer_elm/paths.py" in names and "ienhancer_elm/release/templates/model_card.md" in names
    assert not [n for n in names if n.startswith(("experiments/", "tests/", "training/"))]  # not installed
