"""Where the package finds what the wheel does not carry: the shipped models and the benchmark folder.

The wheel is code only. A shipped model is looked up, in order:
1. the folder named by `IENHANCER_ELM_MODELS` (holding `ienhancer-elm-layer1/`, `ienhancer-elm-layer2/`,
   `ienhancer-elm-nhlf/`);
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
SHIPPED_MODELS = {"layer1": "ienhancer-elm-layer1", "layer2": "ienhancer-elm-layer2", "nhlf": "ienhancer-elm-nhlf"}
SHIPPED_REPOS = {
    "layer1": f"{HUB_ORG}/ienhancer-elm",
    "layer2": f"{HUB_ORG}/ienhancer-elm-layer2",
    "nhlf": f"{HUB_ORG}/ienhancer-elm-nhlf",
}
# The shipped model that `evaluate` scores a benchmark config with by default.
MODEL_FOR_CONFIG = {"layer1": "layer1", "layer2": "layer2", "enhancer_if_nhlf": "nhlf"}
SHIPPED_REVISION = "v0.1.0"  # the tag to push the shipped models with (`ienhancer-elm release push ... --revision`)


class NoDefaultModel(RuntimeError):
    pass


def resolve_model(name_or_path: str | Path | None, default: str = "layer1") -> str:
    """A model argument as a folder or Hub id: None is the shipped `default`, and a shipped model's short name
    (layer1, layer2, nhlf) that is not a folder here is that shipped model."""
    if name_or_path is None:
        return str(shipped_model_path(default))
    if str(name_or_path) in SHIPPED_MODELS and not Path(name_or_path).exists():
        return str(shipped_model_path(str(name_or_path)))
    return str(name_or_path)


def shipped_model_path(layer: str = "layer1") -> Path:
    """The folder of the shipped model `layer` ("layer1", "layer2" or "nhlf"), or `NoDefaultModel` in one line."""
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


def model_file(source: str, filename: str, revision: str | None = None) -> Path | None:
    """A file of a model folder or cached Hub model, or None where it has none."""
    from transformers.utils import cached_file

    found = cached_file(
        str(source),
        filename,
        revision=revision,
        _raise_exceptions_for_missing_entries=False,
        _raise_exceptions_for_connection_errors=False,
    )
    return Path(found) if found else None
