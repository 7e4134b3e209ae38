"""Integration tests: whatever starts other processes (`accelerate launch`, a fresh interpreter loading remote
code, a copy of the repository running the quick start, a wheel build, the command line through a pipe, the Hub
stand-in's clients), compiles for real, or trains for minutes. Every test under this folder is marked
`integration` by the hook below (a test elsewhere that starts processes carries the marker itself); the default
run (`python -m pytest`) leaves them out. Run them with `python -m pytest -m "integration and not slow"` (.ci/run
does, after the default run; the browser test is also marked slow and skips without Chromium).
"""

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import (
    BAD_SEQUENCES,
    GOOD_SEQUENCE,
    SHORT_SEQUENCE,
    TINY,
    run_python,
    shipped_reference,
    spectrum_tiny,
    windowed_tiny,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


def subprocess_env(**environment) -> dict:
    """This environment, offline, with this interpreter's scripts (`accelerate`, `ienhancer-elm`) on PATH even
    when the virtual environment was not activated."""
    scripts = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
        **environment,
    }


# What each model folder is asked in the one fresh interpreter: sequences to score, and whether to load it as
# AutoModelForSequenceClassification and through `pipeline` too (the shipped NHLF model is large: AutoModel only).
REMOTE_SEQUENCES = ["ACGTTGCAGGATTACA" * 12, "TTGACCA" * 20, "GATTACA" * 9]


@pytest.fixture(scope="session")
def remote_code(tmp_path_factory):
    """Every model folder the tests load as a Hub user would (AutoTokenizer, AutoModel,
    AutoModelForSequenceClassification and `pipeline`, with trust_remote_code), loaded in ONE fresh interpreter
    in which importing ienhancer_elm is blocked: the Hub files must stand alone.

    Returns {name: {"folder": Path, "model": the model written there (None for a shipped folder),
    "sequences": [...], "remote": what the fresh interpreter found}} and, under "process", that interpreter's own
    findings (whether ienhancer_elm was imported)."""
    from ienhancer_elm.hub_export import tiny_model, write_model_folder
    from ienhancer_elm.paths import shipped_model_path
    from ienhancer_elm.release.publishing import files_to_push

    from conftest import biased_dna, random_dna

    root = tmp_path_factory.mktemp("remote_code")
    pushed = root / "pushed"  # exactly the files `release push` sends (tests/integration/test_hub_stub.py)
    for name in files_to_push(TINY):
        (pushed / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TINY / name, pushed / name)
    spectrum_model = spectrum_tiny()[1]
    long = random_dna(1500, seed=9)
    reference = shipped_reference()
    nhlf_names = [name for name in reference["sequences"] if name.startswith("nhlf_")]
    jobs = {
        # a folder written now by write_model_folder
        "fresh_tiny": dict(model=tiny_model(), sequences=REMOTE_SEQUENCES, classifier=True, pipeline=True),
        # the shipped tiny folder: the entry points' messages, warnings and scores
        "tiny": dict(
            folder=TINY,
            sequences=[GOOD_SEQUENCE],
            pipeline=True,
            refused={name: sequence for name, (sequence, _) in BAD_SEQUENCES.items()},
            short=SHORT_SEQUENCE,
        ),
        "pushed": dict(folder=pushed, sequences=REMOTE_SEQUENCES[:2]),
        "spectrum": dict(
            model=spectrum_model,
            sequences=biased_dna(3, 0.5, 200, seed=8) + biased_dna(3, 0.6, 200, seed=9),
            pipeline=True,
        ),
        "windowed": dict(model=windowed_tiny(), sequences=[long, long[:300]], pipeline=True),
        "nhlf": dict(folder=shipped_model_path("nhlf"), sequences=[reference["sequences"][n] for n in nhlf_names]),
    }
    for name, job in jobs.items():
        if "model" in job:
            job["folder"] = write_model_folder(job["model"], root / name)
        else:
            job["model"] = None
    spec = {name: {**job, "folder": str(job["folder"]), "model": None} for name, job in jobs.items()}
    (root / "jobs.json").write_text(json.dumps(spec))
    user = (HERE / "remote_code_user.py").read_text()
    found = json.loads(run_python(user, root, str(root / "jobs.json")).splitlines()[-1])
    for name, job in jobs.items():
        job["remote"] = found["jobs"][name]
    jobs["nhlf"]["names"] = nhlf_names
    return {**jobs, "process": found["process"]}
