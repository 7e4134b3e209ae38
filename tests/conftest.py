import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DNABERT_CONFIG = Path(__file__).parent / "data" / "dnabert-config"
TINY = REPO / "hub_configs" / "tiny"


@pytest.fixture
def tiny_folder(tmp_path):
    """A freshly written tiny ensemble folder (k = 3, 4)."""
    from ienhancer_elm.hub_export import tiny_model, write_model_folder

    return write_model_folder(tiny_model(), tmp_path / "tiny")


def run_python(code: str, cwd) -> str:
    """Run `code` in a fresh interpreter, offline, and return its stdout."""
    import subprocess

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(Path(cwd) / "modules")}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout
