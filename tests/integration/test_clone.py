"""Training from a clone that has no ../shared beside it: the quick try and the recipe's first step."""

import shutil
import subprocess

import pytest
import torch

from .conftest import subprocess_env
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
    assert not (folder.parent / "shared").exists() and not (folder / "models").exists()
    return folder


def run(command, cwd, **environment):
    done = subprocess.run(
        command, cwd=cwd, env=subprocess_env(**environment), capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_quick_try_runs_from_a_clone_and_its_model_predicts_what_pipeline_gives(clone):
    output = run(["bash", "training/quickstart.sh"], clone, **SMALL)
    table = output[output.index("id\tlength") :]  # after what the training steps print
    header, *rows = [line.split("\t") for line in table.splitlines() if line.strip()]
    assert header[:4] == ["id", "length", "probability", "label"] and len(rows) == 6
    model = clone / "runs" / "quickstart" / "model"
    assert {"config.json", "model.safetensors", "cv_results.json"} <= {p.name for p in model.iterdir()}
    from transformers import pipeline

    from ienhancer_elm.runtime import use_bf16
    from ienhancer_elm.sequences import read_records

    # the first example sequence, through transformers' pipeline: the row `predict` printed for it
    record = next(iter(read_records(str(REPO / "examples" / "sample.fasta"))))
    row = dict(zip(header, rows[0]))
    assert row["id"] == record.id
    classifier = pipeline("text-classification", model=str(model))
    scores = {answer["label"]: answer["score"] for answer in classifier(record.sequence, top_k=None)}
    assert set(scores) == {"weak", "strong"}  # fine-tuned on layer 2 here
    tolerance = 0.02 if use_bf16(torch.device("cpu"), "auto") else 1e-5  # predict's default precision: auto
    assert scores["strong"] == pytest.approx(float(row["probability"]), abs=tolerance)
    if abs(float(row["probability"]) - 0.5) > tolerance:
        assert row["label"] == max(scores, key=scores.get)


def test_the_recipes_first_step_reads_only_the_clone(clone):
    out = clone / "runs" / "pretrain_k3"
    flags = ["--output_dir", str(out), "--stop_after_steps", "2", "--stride", "100000"]
    launch = ["accelerate", "launch", "--config_file", "training/accelerate/cpu.yaml"]
    run([*launch, "training/pretrain_mlm.py", "training/configs/pretrain_k3.json", *flags], clone)
    # stopped after two steps, as if killed: a resumable checkpoint at step 2 of epoch 0, and nothing else yet
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint"]
    saved = {p.name for p in (out / "checkpoint").iterdir()}
    assert {"model.safetensors", "optimizer.bin", "custom_checkpoint_0.pkl"} <= saved
    progress = torch.load(out / "checkpoint" / "custom_checkpoint_0.pkl", weights_only=False)
    assert (progress["epoch"], progress["step_in_epoch"], progress["global_step"]) == (0, 2, 2)
    assert progress["finished"] is False
