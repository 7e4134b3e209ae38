"""Publishing and fetching through the real command line and huggingface_hub client, in processes of their own,
against a local stand-in of the Hub API (tests/hub_stub.py)."""

import json
import subprocess
import sys

from hub_stub import HubStub
from ienhancer_elm.release.publishing import files_to_push

from .conftest import subprocess_env
from conftest import REPO, TINY

DATASET = REPO / "hub_configs" / "datasets" / "ienhancer-benchmarks"
HUB = {"HF_TOKEN": "hf_stub_token", "HF_HUB_OFFLINE": "0"}


def push(folder, repo_id, stub, *flags):
    """`ienhancer-elm release push` in a fresh process, as a user runs it, against the stub."""
    command = [sys.executable, "-m", "ienhancer_elm.cli", "release", "push", str(folder), "--repo-id", repo_id, *flags]
    env = subprocess_env(HF_ENDPOINT=stub.url, **HUB)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def local_files(folder):
    return {name: (folder / name).read_bytes() for name in files_to_push(folder)}


LOOKUP = """
import ienhancer_elm.paths as paths
paths.SOURCE_MODELS = paths.Path({missing!r})  # as in an installed wheel: no source tree
print(paths.shipped_model_path("layer1"))
"""


def lookup(tmp_path, **environment):
    """`shipped_model_path("layer1")` in a fresh process, as from an installed wheel, with its own Hub cache."""
    env = subprocess_env(HF_HUB_CACHE=str(tmp_path / "cache"), **environment)
    if "IENHANCER_ELM_MODELS" not in environment:
        env.pop("IENHANCER_ELM_MODELS", None)
    code = LOOKUP.format(missing=str(tmp_path / "no-source-tree"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def test_pushed_model_and_dataset_arrive_byte_identical_and_load(remote_code):
    """What arrives is the folder's files byte for byte, and exactly the files remote_code loads as "pushed" (it
    gives the local folder's logits: tests/integration/test_remote_code.py)."""
    with HubStub() as stub:
        out = push(TINY, "test-org/ienhancer-elm-tiny", stub, "--revision", "v0.1.0")
        push(DATASET, "test-org/ienhancer-benchmarks", stub, "--private")
    model_repo = stub.repos[("model", "test-org/ienhancer-elm-tiny")]
    dataset_repo = stub.repos[("dataset", "test-org/ienhancer-benchmarks")]
    assert model_repo.files == local_files(TINY) and "model.safetensors" in model_repo.files
    assert dataset_repo.files == local_files(DATASET) and "layer1/test.parquet" in dataset_repo.files
    assert model_repo.tags == {"v0.1.0": model_repo.commits[-1]} and model_repo.commits[-1] in out
    assert dataset_repo.private and not model_repo.private
    loaded = remote_code["pushed"]["folder"]
    assert {str(p.relative_to(loaded)): p.read_bytes() for p in loaded.rglob("*") if p.is_file()} == model_repo.files


def test_the_space_and_the_metric_are_pushed_as_spaces_with_their_sdk():
    space, metric = REPO / "hub_configs" / "space", REPO / "hub_configs" / "metric" / "ienhancer_metrics"
    with HubStub() as stub:
        push(space, "test-org/ienhancer-elm-demo", stub)
        push(metric, "test-org/ienhancer_metrics", stub, "--repo-type", "space")
    created = [json.loads(body) for body in stub.created]
    assert [(c["type"], c.get("sdk")) for c in created] == [("space", "gradio"), ("space", "gradio")]
    assert stub.repos[("space", "test-org/ienhancer-elm-demo")].files == local_files(space)
    assert stub.repos[("space", "test-org/ienhancer_metrics")].files == local_files(metric)


def test_push_to_an_unreachable_hub_is_a_clear_error():
    env = subprocess_env(HF_ENDPOINT="http://127.0.0.1:9", **HUB)
    command = [sys.executable, "-m", "ienhancer_elm.cli", "release", "push", str(TINY), "--repo-id", "a/b"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pushing" in done.stderr and "a/b at http://127.0.0.1:9 failed" in done.stderr


def test_offline_without_the_models_the_error_is_one_line_saying_how_to_get_them(tmp_path):
    done = lookup(tmp_path, HF_HUB_OFFLINE="1")
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()[-1]
    assert "NoDefaultModel: the shipped layer1 model is not installed: set IENHANCER_ELM_MODELS" in message
    assert "ienhancer-elm/ienhancer-elm@v0.1.0" in message


def test_the_models_are_fetched_from_the_hub_at_the_pinned_revision_then_used_offline(tmp_path):
    from ienhancer_elm.paths import SHIPPED_REPOS, SHIPPED_REVISION

    with HubStub() as stub:
        push(TINY, SHIPPED_REPOS["layer1"], stub, "--revision", SHIPPED_REVISION)
        fetched = lookup(tmp_path, HF_ENDPOINT=stub.url, **HUB)
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        assert any(
            path.startswith(f"/api/models/{SHIPPED_REPOS['layer1']}/revision/{SHIPPED_REVISION}")
            for _, path in stub.requests
        )
    folder = fetched.stdout.strip().splitlines()[-1]
    assert (TINY / "config.json").read_bytes() == open(f"{folder}/config.json", "rb").read()
    again = lookup(tmp_path, HF_HUB_OFFLINE="1")  # the stub is gone: the cached copy serves
    assert again.returncode == 0 and again.stdout.strip().splitlines()[-1] == folder
