"""Training from a clone that has no ../shared beside it: the quick try and the recipe's first step."""

import os
import shutil
import subprocess

import pytest

from conftest import REPO

SMALL = {  # the quick try's own settings, cut down to seconds
    "QUICKSTART_PRETRAIN_FLAGS": "--stride 100000 --dataset_configs layer2 --warmup_steps 2",
    "QUICKSTART_FINETUNE_FLAGS": "--epochs 1 --warmup_steps 2 --config layer2",
}


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The repository's files (tracked and new, not ignored), the shipped models left out, in a folder with no
    ../shared beside it."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    folder = tmp_path_factory.mktemp("elsewhere") / "clone"
    for name in listed:
        if name.startswith("models/") or not (REPO / name).is_file():
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, folder / name)
    assert not (folder.parent / "shared").exists()
    return folder


def run(command, cwd, **environment):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **environment}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_quick_try_runs_from_a_clone_and_its_model_predicts(clone):
    output = run(["bash", "training/quickstart.sh"], clone, **SMALL)
    table = output[output.index("id\tlength") :]  # after what the training steps print
    rows = [line.split("\t") for line in table.splitlines() if line.strip()]
    assert rows[0][:4] == ["id", "length", "probability", "label"] and len(rows) == 7
    model = clone / "runs" / "quickstart" / "model"
    assert {"config.json", "model.safetensors", "cv_results.json"} <= {p.name for p in model.iterdir()}
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(model))
    assert classifier("ACGTTGCAGGATTACA" * 12)[0]["label"] in {"strong", "weak"}  # fine-tuned on layer 2 here


def test_the_recipes_first_step_reads_only_the_clone(clone):
    out = clone / "runs" / "pretrain_k3"
    flags = ["--output_dir", str(out), "--stop_after_steps", "2", "--stride", "100000"]
    launch = ["accelerate", "launch", "--config_file", "training/accelerate/cpu.yaml"]
    run([*launch, "training/pretrain_mlm.py", "training/configs/pretrain_k3.json", *flags], clone)
    assert (out / "metrics.jsonl").is_file() or (out / "checkpoint").is_dir()


def test_building_over_a_shipped_model_needs_the_release_flag(clone):
    from ienhancer_elm.paths import SOURCE_MODELS
    from ienhancer_elm.training.ensemble import check_output_dir

    with pytest.raises(SystemExit, match="is a shipped model"):
        check_output_dir(SOURCE_MODELS / "ienhancer-elm-layer1", release=False)
    check_output_dir(SOURCE_MODELS / "ienhancer-elm-layer1", release=True)
    check_output_dir(clone / "runs" / "ensemble_layer1", release=False)
