import contextlib
import os
import sys
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# On 2 cores shared with other work, OpenMP threads that spin while they wait for each other stall torch: the
# session's gata_model trained in 7 s on one thread, in 6 s on two that wait passively, and in 110 s on two that
# spin (libgomp's default). Set before torch loads it, and inherited by the processes the tests start.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

# The tests' models are tiny: one intra-op thread in this process does as well, and times the same on idle cores
# and busy ones.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
DNABERT_CONFIG = Path(__file__).parent / "data" / "dnabert-config"
TINY = REPO / "hub_configs" / "tiny"
SHIPPED_PREDICTIONS = REPO / "tests" / "data" / "shipped_predictions.json"


def shipped_reference() -> dict:
    """The predictions recorded when the shipped models shipped: {"sequences": {name: sequence},
    "models": {layer: {name: {"label", "probability"}}}}."""
    import json

    return json.loads(SHIPPED_PREDICTIONS.read_text())


@pytest.fixture
def tiny_folder(tmp_path):
    """A freshly written tiny ensemble folder (k = 3, 4)."""
    from ienhancer_elm.hub_export import tiny_model, write_model_folder

    return write_model_folder(tiny_model(), tmp_path / "tiny")


def run_python(code: str, cwd, *arguments: str) -> str:
    """Run `code` in a fresh interpreter, offline, with `arguments` in sys.argv[1:], and return its stdout."""
    import subprocess
    import tempfile

    # Remote code is copied into HF_MODULES_CACHE; keep it out of the repository when cwd is the repo.
    with tempfile.TemporaryDirectory() as modules_cache:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": modules_cache}
        done = subprocess.run(
            [sys.executable, "-c", code, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


def random_dna(length: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


# One validation for every entry point: `predict`, the tokenizer under AutoModel, and `pipeline` refuse these with
# these messages (tests/test_validation.py, and tests/integration/test_remote_code.py for the remote code).
GOOD_SEQUENCE = "ACGTTGCAGGATTACA" * 12
SHORT_SEQUENCE = "ACGT" * 10  # 40 bp: scored, with a warning
BAD_SEQUENCES = {
    "all_n": ("N" * 200, "no 3 unambiguous bases (A, C, G, T) in a row: the k=3 member would read only [UNK]"),
    "rna": ("ACGU" * 50, "invalid character 'U' at position 4 (RNA? the models read DNA: write T for U)"),
    "n_every_third": ("ACN" * 70, "no 3 unambiguous bases (A, C, G, T) in a row"),
    "letter": ("ACGTXACGT" * 20, "invalid character 'X' at position 5"),
    "too_short": ("ACG", "sequence of 3 bp is shorter than k=4"),
}


@pytest.fixture(scope="module")
def tiny_predictions():
    """`predict_records` (what `ienhancer-elm predict` writes) on the shipped tiny folder, for BAD_SEQUENCES and
    the ids "good" and "short": {id: Prediction}."""
    from ienhancer_elm.predict import load_model, predict_records
    from ienhancer_elm.sequences import Record

    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    records = [Record(name, sequence) for name, (sequence, _) in BAD_SEQUENCES.items()]
    records += [Record("good", GOOD_SEQUENCE), Record("short", SHORT_SEQUENCE)]
    return {row.id: row for row in predict_records(model, tokenizer, records, precision="fp32")}


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
def training_dataset(tmp_path_factory):
    """A small synthetic benchmark (32 training and 8 test sequences of 60 bp) for the training tests."""
    return write_synthetic_dataset(tmp_path_factory.mktemp("data"), n_train=32, n_test=8)


@pytest.fixture(scope="session")
def evaluation_dataset(tmp_path_factory):
    """A synthetic benchmark (80 training and 40 test sequences of 60 bp, GATA sites planted) for `evaluate`."""
    return write_synthetic_dataset(tmp_path_factory.mktemp("evaluation"), n_train=80, n_test=40)


def genome_fasta(path: Path, bases: int = 1000, seed: int = 5, planted: str = "") -> Path:
    """One soft-masked record; its third 200 bp window holds N, and `planted` (reverse-complemented) sits in the
    fourth."""
    import random

    from ienhancer_elm.sequences import reverse_complement

    rng = random.Random(seed)
    sequence = "".join(rng.choice("ACGTacgt") for _ in range(bases))
    sequence = sequence[:400] + "N" * 20 + sequence[420:]
    if planted:
        sequence = sequence[:610] + reverse_complement(planted) + sequence[610 + len(planted) :]
    path.write_text(">piece\n" + sequence + "\n")
    return path


def windowed_tiny(combination="probability", window=120, stride=50):
    """The tiny ensemble (k = 3, 4) set to read sequences longer than `window` bp in windows."""
    from ienhancer_elm.hub_export import tiny_model

    model = tiny_model(kmers=(3, 4))
    model.config.window_bp, model.config.window_stride_bp = window, stride
    model.config.window_combination = combination
    return model


SPECTRUM_KMERS = (3, 4)


def biased_dna(count: int, gc: float, length: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    weights = [1 - gc, gc, gc, 1 - gc]
    return ["".join(rng.choices("ACGT", weights=weights, k=length)) for _ in range(count)]


def spectrum_tiny():
    """A spectrum pipeline that tells GC-rich from balanced DNA, and the tiny ensemble carrying it (share 0.5)."""
    from ienhancer_elm.hub_export import tiny_model
    from ienhancer_elm.training.spectrum import fit_spectrum, spectrum_features, with_spectrum

    sequences = biased_dna(60, 0.5, 150, seed=0) + biased_dna(60, 0.6, 150, seed=1)
    labels = [0] * 60 + [1] * 60
    pipeline = fit_spectrum(spectrum_features(sequences, SPECTRUM_KMERS), labels).best_estimator_
    return pipeline, with_spectrum(tiny_model(SPECTRUM_KMERS), pipeline, SPECTRUM_KMERS, weight=0.5)


SPACE = REPO / "hub_configs" / "space"


def load_space_app():
    """hub_configs/space/app.py, imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("space_app", SPACE / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """The Space running on a free port of 127.0.0.1 in this process (a server thread): (its module, its URL)."""
    pytest.importorskip("gradio")
    app = load_space_app()
    demo = app.build_demo()
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        max_file_size=app.MAX_INPUT_BYTES,
    )
    yield app, f"http://127.0.0.1:{port}/"
    demo.close()


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
