import contextlib
import os
import sys
import warnings
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
    import tempfile

    # Remote code is copied into HF_MODULES_CACHE; keep it out of the repository when cwd is the repo.
    with tempfile.TemporaryDirectory() as modules_cache:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": modules_cache}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


GATA_SITE = "AGATAAGG"


def synthetic_sequences(n: int, length: int, seed: int, motif: str = GATA_SITE):
    """Random DNA; the positive half carries `motif` (several copies) at random places."""
    import random

    rng = random.Random(seed)
    sequences, labels = [], []
    for i in range(n):
        sequence = [rng.choice("ACGT") for _ in range(length)]
        label = i % 2
        if label:
            for _ in range(3):
                start = rng.randrange(0, length - len(motif))
                sequence[start : start + len(motif)] = motif
        sequences.append("".join(sequence))
        labels.append(label)
    return sequences, labels


def write_synthetic_dataset(folder, n_train=64, n_test=32, length=60, motif=GATA_SITE):
    """A dataset folder laid out like the shipped benchmarks (config `layer1`), for training tests."""
    from datasets import Dataset

    from ienhancer_elm.release.dataset_repo import card_yaml, features_for

    for split, n, seed in (("train", n_train, 0), ("test", n_test, 1)):
        sequences, labels = synthetic_sequences(n, length, seed, motif)
        table = {
            "id": [f"{split}_{i}" for i in range(n)],
            "sequence": sequences,
            "label": labels,
            "group": ["synthetic"] * n,
            "header": [""] * n,
            "in_train": [False] * n,
        }
        (Path(folder) / "layer1").mkdir(parents=True, exist_ok=True)
        Dataset.from_dict(table, features=features_for("layer1")).to_parquet(
            Path(folder) / "layer1" / f"{split}.parquet"
        )
    (Path(folder) / "README.md").write_text(card_yaml(["layer1"]) + "Synthetic data for tests.\n")
    return Path(folder)


@pytest.fixture(scope="session")
def gata_model(tmp_path_factory):
    """A tiny k=3 ensemble trained for seconds to tell sequences carrying GATA sites from random ones."""
    import torch

    from ienhancer_elm.hub_export import tiny_model, write_model_folder
    from ienhancer_elm.tokenization_ienhancer_elm import KmerTokenizer

    torch.manual_seed(0)
    model = tiny_model(kmers=(3,)).train()
    tokenizer = KmerTokenizer(kmers=(3,))
    sequences, labels = synthetic_sequences(512, 100, seed=11)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(4):
        order = torch.randperm(len(sequences)).tolist()
        for start in range(0, len(order), 32):
            batch = [order[i] for i in range(start, min(start + 32, len(order)))]
            inputs = tokenizer([sequences[i] for i in batch], return_tensors="pt")
            loss = model(**inputs, labels=torch.tensor([labels[i] for i in batch])).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    return write_model_folder(model, tmp_path_factory.mktemp("gata") / "model")


@contextlib.contextmanager
def compiling_for_real():
    """Around a `--compile` run: skips the test when compiling fell back to the eager members (no working C++
    compiler), since the comparison would then be eager against eager."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("torch.compile failed")]
    if fallbacks:
        pytest.skip(f"compiling fell back to eager here: {fallbacks[0]}")
