"""Write the benchmarks as a Hub dataset folder (Parquet + README card with YAML configs)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..evaluation import CLASS_NAMES
from ..files import sha256_of
from .benchmark_sources import SPLITS, benchmark_sources, benchmark_tables

TASKS = {
    "layer1": "enhancer vs non-enhancer (iEnhancer-2L)",
    "layer2": "strong vs weak enhancer (iEnhancer-2L)",
    "enhancer_if_nhlf": "enhancer vs non-enhancer, NHLF cells (Enhancer-IF)",
}


def features_for(config: str):
    from datasets import ClassLabel, Features, Value

    return Features(
        id=Value("string"),
        sequence=Value("string"),
        label=ClassLabel(names=CLASS_NAMES[config]),
        group=Value("string"),
        header=Value("string"),
        in_train=Value("bool"),
    )


def build_dataset_repo(data_dir: str | Path, out_dir: str | Path) -> Path:
    """Write every config's splits as `{config}/{split}.parquet` and the card `README.md`."""
    from datasets import Dataset

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    counts = {}
    for config in CLASS_NAMES:
        tables = benchmark_tables(data_dir, config)
        (out_dir / config).mkdir(parents=True, exist_ok=True)
        for split, table in tables.items():
            Dataset.from_dict(table, features=features_for(config)).to_parquet(out_dir / config / f"{split}.parquet")
        counts[config] = (len(tables["train"]["id"]), len(tables["test"]["id"]), sum(tables["test"]["in_train"]))
    (out_dir / "README.md").write_text(dataset_card(data_dir, counts), encoding="utf-8")
    return out_dir


def dataset_card(data_dir: Path, counts: dict[str, tuple[int, int, int]]) -> str:
    template = (
        resources.files("ienhancer_elm.release").joinpath("templates/dataset_card.md").read_text(encoding="utf-8")
    )
    sources = sorted({s.path for config in CLASS_NAMES for split in SPLITS for s in benchmark_sources(config, split)})
    body = template.format(
        counts_table="\n".join(f"| `{c}` | {TASKS[c]} | {n[0]} | {n[1]} | {n[2]} |" for c, n in counts.items()),
        label_names="; ".join(f"`{c}`: 0 = {names[0]}, 1 = {names[1]}" for c, names in CLASS_NAMES.items()),
        checksums_table="\n".join(f"| `{path}` | `{sha256_of(data_dir / path)}` |" for path in sources),
    )
    return card_yaml(list(CLASS_NAMES)) + body


def card_yaml(configs: list[str]) -> str:
    """The card's front matter: one `configs:` entry per config (Parquet per split) and its features."""
    lines = [
        "---",
        "license: other",
        "pretty_name: Enhancer identification benchmarks",
        "task_categories:",
        "- text-classification",
        "tags:",
        "- biology",
        "- genomics",
        "- dna",
        "- enhancer",
        "configs:",
    ]
    for config in configs:
        lines += [f"- config_name: {config}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {config}/{split}.parquet" for split in SPLITS]
    lines.append("dataset_info:")
    for config in configs:
        lines += [f"- config_name: {config}", "  features:"]
        for name in ("id", "sequence", "group", "header"):
            lines += [f"  - name: {name}", "    dtype: string"]
        lines += ["  - name: label", "    dtype:", "      class_label:", "        names:"]
        lines += [f"          '{i}': {label}" for i, label in enumerate(CLASS_NAMES[config])]
        lines += ["  - name: in_train", "    dtype: bool"]
    return "\n".join(lines + ["---", ""])
