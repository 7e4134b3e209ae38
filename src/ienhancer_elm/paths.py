"""Where the package finds what the wheel does not carry: the shipped models and the benchmark folder.

The wheel is code only. A shipped model is looked up, in order:
1. the folder named by `IENHANCER_ELM_MODELS` (holding `ienhancer-elm-layer1/`, `ienhancer-elm-layer2/`);
2. `models/` of the source repository, when the package runs from a clone;
3. the Hugging Face Hub at the pinned revision, through `huggingface_hub`'s cache (offline, a cached copy
   is used as it is).
"""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]  # the clone's root when installed from source
SOURCE_MODELS = REPOSITORY / "models"
MODELS_ENVIRONMENT_VARIABLE = "IENHANCER_ELM_MODELS"
DEFAULT_DATASET = "hub_configs/datasets/ienhancer-benchmarks"  # in the source repository, not in the wheel

HUB_ORG = "ienhancer-elm"  # a placeholder until the models are pushed
SHIPPED_MODELS = {"layer1": "ienhancer-elm-layer1", "layer2": "ienhancer-elm-layer2"}
SHIPPED_REPOS = {"layer1": f"{HUB_ORG}/ienhancer-elm", "layer2": f"{HUB_ORG}/ienhancer-elm-layer2"}
SHIPPED_REVISION = "v0.1.0"  # the tag to push the shipped models with (`ienhancer-elm push ... --revision`)


class NoDefaultModel(RuntimeError):
    pass


def shipped_model_path(layer: str = "layer1") -> Path:
    """The folder of the shipped model of `layer` ("layer1" or "layer2"), or `NoDefaultModel` in one line."""
    name = SHIPPED_MODELS[layer]
    for folder in _local_folders(name):
        if (folder / "config.json").is_file():
            return folder
    return _cached_from_hub(layer)


def _local_folders(name: str) -> list[Path]:
    named = os.environ.get(MODELS_ENVIRONMENT_VARIABLE)
    if named and not (Path(named).expanduser() / name / "config.json").is_file():
        # set but wrong: say so, rather than quietly load another copy of the model
        raise NoDefaultModel(f"{MODELS_ENVIRONMENT_VARIABLE}={named} holds no {name}/config.json")
    return ([Path(named).expanduser() / name] if named else []) + [SOURCE_MODELS / name]


def _cached_from_hub(layer: str) -> Path:
    from huggingface_hub import snapshot_download

    repo, name = SHIPPED_REPOS[layer], SHIPPED_MODELS[layer]
    try:
        return Path(snapshot_download(repo, revision=SHIPPED_REVISION))
    except Exception as error:  # offline without a cached copy, no network, or no such repository
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise NoDefaultModel(
            f"the shipped {layer} model is not installed: set {MODELS_ENVIRONMENT_VARIABLE} to a folder holding "
            f"{name}/, run from a clone of the repository (models/{name}), or allow Hub access to fetch "
            f"{repo}@{SHIPPED_REVISION} (it failed: {reason}); or pass --model"
        ) from None


def default_dataset_folder() -> Path | None:
    """The benchmark folder of the source repository, from any working folder; None outside a clone."""
    folder = REPOSITORY / DEFAULT_DATASET
    return folder if folder.is_dir() else None
