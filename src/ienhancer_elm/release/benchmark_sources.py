"""The benchmarks as a Hub dataset repository: Parquet files per config and split, and a card.

`build_dataset_repo("../shared/data", "out")` writes a folder that `datasets.load_dataset("out", "layer1")`
reads offline. Loading scripts are gone from `datasets`, so the folder is data files plus README YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..evaluation import CLASS_NAMES
from ..sequences import InputFormatError, read_fasta, reverse_complement
from ..tokenization_ienhancer_elm import encode_bases

SPLITS = ("train", "test")


class DataError(InputFormatError):
    """A source file that cannot become a benchmark: names the file and the record."""


@dataclass(frozen=True)
class Source:
    """One FASTA file and the label its records get (or a header prefix -> label map)."""

    path: str
    label: int | None = None
    header_labels: tuple[tuple[str, int], ...] = ()
    group: str = ""


def benchmark_sources(config: str, split: str) -> list[Source]:
    """Which source files (relative to the shared data folder) make one config's split."""
    if config == "layer1":
        return [Source(f"ienhancer2l/{split}_{c}.fasta", int(c != "non"), group=c) for c in ("strong", "weak", "non")]
    if config == "layer2":
        return [Source(f"ienhancer2l/{split}_{c}.fasta", int(c == "strong"), group=c) for c in ("strong", "weak")]
    if config == "enhancer_if_nhlf":
        labels = (("Positive_", 1), ("Negative_", 0))
        return [Source(f"enhancer_if_nhlf/NHLF_{split}.fasta", header_labels=labels, group="NHLF")]
    raise DataError(f"unknown config {config!r}; choose from {sorted(CLASS_NAMES)}")


def read_fasta_strict(path: Path) -> list[tuple[str, str, str]]:
    """(id, description, sequence) of every record; malformed files, empty or invalid sequences and
    duplicated ids raise `DataError` naming the file and record."""
    try:
        return read_fasta(path, check_sequence=encode_bases)
    except InputFormatError as error:
        raise DataError(str(error)) from None


def split_rows(data_dir: Path, config: str, split: str) -> dict[str, list]:
    """Columns of one split: id, sequence, label, group, source header, and `in_train` (filled later)."""
    columns = {"id": [], "sequence": [], "label": [], "group": [], "header": []}
    for source in benchmark_sources(config, split):
        for record_id, description, sequence in read_fasta_strict(data_dir / source.path):
            columns["id"].append(record_id)
            columns["sequence"].append(sequence)
            columns["label"].append(_label_of(source, record_id, data_dir))
            columns["group"].append(source.group)
            columns["header"].append(f"{record_id} {description}".strip())
    if len(set(columns["id"])) != len(columns["id"]):
        raise DataError(f"{config}/{split}: the same id occurs in two source files")
    return columns


def _label_of(source: Source, record_id: str, data_dir: Path) -> int:
    if source.label is not None:
        return source.label
    for prefix, label in source.header_labels:
        if record_id.startswith(prefix):
            return label
    raise DataError(f"{data_dir / source.path}: record {record_id}: no label in its header")


def benchmark_tables(data_dir: str | Path, config: str) -> dict[str, dict[str, list]]:
    """Both splits of one config; test rows mark sequences that also occur in training (either strand)."""
    data_dir = Path(data_dir)
    tables = {split: split_rows(data_dir, config, split) for split in SPLITS}
    training = set(tables["train"]["sequence"])
    for split, table in tables.items():
        table["in_train"] = [
            split == "test" and (s in training or reverse_complement(s) in training) for s in table["sequence"]
        ]
    return tables
