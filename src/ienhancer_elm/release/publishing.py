"""Publishing to the Hugging Face Hub: model and dataset folders, and ensemble members as standalone
DNABERT-layout repositories.

Everything goes through `huggingface_hub` (`create_repo`, `upload_folder`, `create_tag`), so `HF_ENDPOINT`
and `HF_TOKEN` work as they do for any Hub client. Only safetensors weights are published.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from ..models import IEnhancerELMForSequenceClassification
from ..tokenization_ienhancer_elm import SPECIAL_TOKENS, kmer_vocabulary
from .model_card import member_card

PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
NEVER_PUSHED = ["checkpoint/*", "checkpoint.tmp/*", "*__pycache__/*", "*.pyc", ".git/*"]  # fnmatch: * spans /


class PublishError(ValueError):
    pass


@dataclass
class PushResult:
    repo_id: str
    repo_type: str
    commit: str
    files: list[str]
    tag: str | None = None

    def line(self) -> str:
        tagged = f", tagged {self.tag}" if self.tag else ""
        return f"pushed {len(self.files)} file(s) to {self.repo_type} {self.repo_id} at {self.commit}{tagged}"


def repo_type_of(folder: Path) -> str:
    """`model` for a folder with `config.json`, `dataset` for a Parquet dataset folder with a card, `space` for
    an app whose card names its `sdk`."""
    if (folder / "config.json").is_file():
        return "model"
    if (folder / "README.md").is_file() and any(folder.glob("**/*.parquet")):
        return "dataset"
    if (folder / "app.py").is_file() and space_sdk(folder):
        return "space"
    raise PublishError(
        f"{folder}: neither a model folder (config.json), a dataset folder (README.md + Parquet) nor a Space "
        "(app.py + a README.md whose front matter names the sdk)"
    )


def space_sdk(folder: Path) -> str | None:
    """The `sdk:` of a Space card's YAML front matter (gradio, streamlit, docker, static), or None."""
    from huggingface_hub import SpaceCard

    card = folder / "README.md"
    return SpaceCard.load(card).data.get("sdk") if card.is_file() else None


def files_to_push(folder: Path) -> list[str]:
    """The files `upload_folder` will send, after checking that the folder is safe to publish."""
    if not folder.is_dir():
        raise PublishError(f"{folder}: no such folder")
    from huggingface_hub.utils import filter_repo_objects  # the filter upload_folder applies

    every_file = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    files = list(filter_repo_objects(every_file, ignore_patterns=NEVER_PUSHED))
    pickled = [name for name in files if name.endswith(PICKLED_SUFFIXES)]
    if pickled:
        raise PublishError(f"{folder}: pickled files are never published (use safetensors): {', '.join(pickled)}")
    if "README.md" not in files:
        raise PublishError(f"{folder}: no README.md; every published repository carries its card")
    return files


def push_folder(
    folder: str | Path,
    repo_id: str,
    tag: str | None = None,
    private: bool = False,
    repo_type: str | None = None,
    token: str | None = None,
) -> PushResult:
    """Create the repository if missing, upload the folder as one commit, and tag that commit."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    repo_type = repo_type or repo_type_of(folder)
    files = files_to_push(folder)
    api = HfApi(token=token)
    try:
        # private=None leaves an existing repository's visibility as it is
        sdk = space_sdk(folder) if repo_type == "space" else None
        api.create_repo(repo_id, repo_type=repo_type, private=private or None, exist_ok=True, space_sdk=sdk)
        commit = api.upload_folder(
            folder_path=folder,
            repo_id=repo_id,
            repo_type=repo_type,
            ignore_patterns=NEVER_PUSHED,
            commit_message=f"Upload {folder.name} with ienhancer-elm",
        )
        if tag:
            api.create_tag(repo_id, tag=tag, revision=commit.oid, repo_type=repo_type)
    except Exception as error:  # HTTP, transport and auth errors of huggingface_hub's HTTP client alike
        raise PublishError(f"pushing {folder} to {repo_id} at {api.endpoint} failed: {error}") from error
    return PushResult(repo_id, repo_type, commit.oid, files, tag)


def export_member(model: IEnhancerELMForSequenceClassification, k: int, folder: str | Path) -> Path:
    """One member's encoder as a DNABERT-layout folder: `BertModel` weights (safetensors), `config.json`,
    `vocab.txt` and a `BertTokenizer` config with `do_lower_case=False` (lower-casing maps every k-mer to
    [UNK]). Input: space-separated k-mers, as for DNABERT; the classification head is not included.
    """
    folder = Path(folder)
    encoder = model.member(k).bert
    callers_config = encoder.config
    encoder.config = copy.deepcopy(callers_config)  # save_pretrained writes into the config it saves
    encoder.config.architectures = ["BertModel"]
    try:
        encoder.save_pretrained(folder)
    finally:
        encoder.config = callers_config
    (folder / "vocab.txt").write_text("\n".join(kmer_vocabulary(k)) + "\n", encoding="utf-8")
    pad, unk, cls, sep, mask = SPECIAL_TOKENS
    tokenizer_config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": False,
        "do_basic_tokenize": True,
        "tokenize_chinese_chars": False,
        "model_max_length": encoder.config.max_position_embeddings,
        "pad_token": pad,
        "unk_token": unk,
        "cls_token": cls,
        "sep_token": sep,
        "mask_token": mask,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")
    return folder


def export_members(model_folder: str | Path, output: str | Path, name: str | None = None) -> list[Path]:
    """Every member of an ensemble folder as `OUTPUT/NAME-k{k}/` (DNABERT layout, with a short card)."""

    model_folder = Path(model_folder)
    model = IEnhancerELMForSequenceClassification.from_pretrained(model_folder)
    name = name or model_folder.name
    folders = []
    for k in model.config.kmers:
        folder = export_member(model, k, Path(output) / f"{name}-k{k}")
        (folder / "README.md").write_text(member_card(model.config, k, name), encoding="utf-8")
        folders.append(folder)
    return folders
