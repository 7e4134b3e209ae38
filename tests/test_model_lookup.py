"""Where the shipped models are found: a named folder, the source tree, or the Hub at the pinned revision
(a local stand-in here), and a one-line error offline without them; the wheel carries code only."""

import os
import subprocess
import sys
import zipfile

from hub_stub import HubStub

from conftest import REPO, TINY

LOOKUP = """
import ienhancer_elm.paths as paths
paths.SOURCE_MODELS = paths.Path({missing!r})  # as in an installed wheel: no source tree
print(paths.shipped_model_path("layer1"))
"""


def lookup(tmp_path, **environment):
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "cache"), **environment}
    env.pop("IENHANCER_ELM_MODELS", None) if "IENHANCER_ELM_MODELS" not in environment else None
    code = LOOKUP.format(missing=str(tmp_path / "no-source-tree"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_the_source_tree_is_found_from_any_working_folder(tmp_path, monkeypatch):
    from ienhancer_elm.paths import shipped_model_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IENHANCER_ELM_MODELS", raising=False)
    assert shipped_model_path("layer2") == REPO / "models" / "ienhancer-elm-layer2"


def test_a_folder_named_by_the_environment_comes_first(tmp_path, monkeypatch):
    from ienhancer_elm.paths import shipped_model_path

    (tmp_path / "ienhancer-elm-layer1").symlink_to(TINY, target_is_directory=True)
    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    assert shipped_model_path("layer1") == tmp_path / "ienhancer-elm-layer1"


def test_offline_without_the_models_the_error_is_one_line_saying_how_to_get_them(tmp_path):
    done = lookup(tmp_path, HF_HUB_OFFLINE="1")
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()[-1]
    assert "NoDefaultModel: the shipped layer1 model is not installed: set IENHANCER_ELM_MODELS" in message
    assert "ienhancer-elm/ienhancer-elm@v0.1.0" in message


def test_the_models_are_fetched_from_the_hub_at_the_pinned_revision_then_used_offline(tmp_path):
    from ienhancer_elm.paths import SHIPPED_REPOS, SHIPPED_REVISION

    with HubStub() as stub:
        env = {"HF_ENDPOINT": stub.url, "HF_TOKEN": "hf_stub_token", "HF_HUB_OFFLINE": "0"}
        command = [
            sys.executable,
            "-m",
            "ienhancer_elm.cli",
            "release",
            "push",
            str(TINY),
            "--repo-id",
            SHIPPED_REPOS["layer1"],
        ]
        pushed = subprocess.run(
            [*command, "--revision", SHIPPED_REVISION], env={**os.environ, **env}, capture_output=True, text=True
        )
        assert pushed.returncode == 0, pushed.stderr[-2000:]
        fetched = lookup(tmp_path, **env)
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        assert any(
            path.startswith(f"/api/models/{SHIPPED_REPOS['layer1']}/revision/{SHIPPED_REVISION}")
            for _, path in stub.requests
        )
    folder = fetched.stdout.strip().splitlines()[-1]
    assert (TINY / "config.json").read_bytes() == open(f"{folder}/config.json", "rb").read()
    again = lookup(tmp_path, HF_HUB_OFFLINE="1")  # the stub is gone: the cached copy serves
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == folder


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
    assert "ienhancer_elm/paths.py" in names and "ienhancer_elm/templates/model_card.md" in names


def test_a_wrong_folder_in_the_environment_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    import pytest

    from ienhancer_elm.paths import NoDefaultModel, shipped_model_path

    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    with pytest.raises(NoDefaultModel, match="holds no ienhancer-elm-layer1/config.json"):
        shipped_model_path("layer1")


def test_a_shipped_models_short_name_is_that_model_unless_a_folder_here_has_the_name(tmp_path, monkeypatch):
    from ienhancer_elm.evaluation import load_scorer
    from ienhancer_elm.paths import resolve_model

    (tmp_path / "ienhancer-elm-nhlf").symlink_to(TINY, target_is_directory=True)
    monkeypatch.setenv("IENHANCER_ELM_MODELS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert resolve_model("nhlf") == str(tmp_path / "ienhancer-elm-nhlf")
    assert resolve_model(None, "nhlf") == str(tmp_path / "ienhancer-elm-nhlf")
    scorer = load_scorer(None, "cpu", config="enhancer_if_nhlf")  # evaluate's default for that config
    assert scorer.description["source"] == str(tmp_path / "ienhancer-elm-nhlf")
    (tmp_path / "nhlf").mkdir()  # a folder of that name here wins: it is what the user pointed at
    assert resolve_model("nhlf") == "nhlf"
