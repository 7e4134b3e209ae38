"""A dataset folder from one's own enhancers, laid out as the benchmark folder the training recipe reads.

`ienhancer-elm dataset POSITIVES --negatives NEGATIVES -o FOLDER --config NAME` takes two FASTA files; with
`--reference GENOME.fa` the inputs are BED files of regions, cut to `--length` bases around their centres, and
without `--negatives` the negatives are drawn from the reference: windows of the same length, A/C/G/T only,
off every positive region, one per positive within 0.01 of its GC share (`genome_regions`). The test split is a
stratified random share of each class, or with `--test-chromosomes` every region on those chromosomes. The folder
holds `NAME/train.parquet`, `NAME/test.parquet`, `NAME/dataset.json` (how it was made) and a card, README.md,
whose YAML makes it loadable with `datasets.load_dataset(FOLDER, NAME)`; several configs can share a folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files import sha256_of
from ..paths import MODEL_FOR_CONFIG
from ..sequences import InputFormatError, gc_fraction, read_fasta, reverse_complement
from ..tokenization_ienhancer_elm import encode_bases
from . import genome_regions

LABEL_NAMES = ["non-enhancer", "enhancer"]
SPLITS = ("train", "test")
BUILD_FILE = "dataset.json"
CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
LONGEST_K = 6  # the members' k run from 3 to 6


class OwnDataError(InputFormatError):
    """Input that cannot become a dataset; the message names the file and the record or line."""


@dataclass
class DatasetRequest:
    """What `ienhancer-elm dataset` was asked for."""

    positives: str
    output: str
    config: str
    negatives: str | None = None
    reference: str | None = None
    length: int = 200
    test_fraction: float = 0.2
    test_chromosomes: list[str] = field(default_factory=list)
    seed: int = 0
    command: str = ""


@dataclass(frozen=True)
class Example:
    id: str
    sequence: str
    label: int
    group: str
    header: str
    source: str  # the file it came from, for messages
    chrom: str = ""


def build_own_dataset(request: DatasetRequest) -> dict:
    """Write the config's splits, its record and the folder's card; returns the record."""
    check_request(request)
    examples, negatives_made = read_examples(request)
    check_examples(examples)
    in_test = test_rows(examples, request)
    folder = Path(request.output) / request.config
    folder.mkdir(parents=True, exist_ok=True)
    counts, sizes = {}, {}
    for split, table in split_tables(examples, in_test).items():
        write_parquet(table, folder / f"{split}.parquet")
        counts[split], sizes[split] = split_summary(table), len(table["id"])
    record = {
        "config": request.config,
        "command": request.command,
        "inputs": input_files(request),
        "length": request.length if request.reference else None,
        "negatives": negatives_made,
        "test_split": test_split_description(request),
        "seed": request.seed,
        "rows": sizes,
        "counts": counts,
    }
    (folder / BUILD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    write_card(Path(request.output))
    return record


def check_request(request: DatasetRequest) -> None:
    if not CONFIG_NAME.fullmatch(request.config):
        raise OwnDataError(f"--config {request.config!r}: use letters, digits, '_', '-' or '.'")
    if request.config in MODEL_FOR_CONFIG:  # a benchmark config: its reports and model cards would read as such
        raise OwnDataError(f"--config {request.config}: a benchmark config's name; give your data its own name")
    if not 0 < request.test_fraction < 1:
        raise OwnDataError(f"--test-fraction must lie between 0 and 1, got {request.test_fraction}")
    if request.reference is None and request.negatives is None:
        raise OwnDataError("give --negatives, or --reference with BED regions to draw negatives from the genome")
    if request.test_chromosomes and request.reference is None:
        raise OwnDataError("--test-chromosomes needs regions on a reference (BED files and --reference)")
    for path in (request.positives, request.negatives, request.reference):
        if path is not None and not Path(path).is_file():
            raise OwnDataError(f"{path}: no such file")
    folder = Path(request.output)
    if (folder / "README.md").is_file() and not list(folder.glob(f"*/{BUILD_FILE}")):  # the benchmark folder, say
        raise OwnDataError(f"{folder}: holds a card this command did not write; give another folder")


def read_examples(request: DatasetRequest) -> tuple[list[Example], str]:
    """The labelled examples, and how the negatives were made (for the card)."""
    if request.reference is None:
        positives = fasta_examples(request.positives, 1, "positive")
        negatives = fasta_examples(request.negatives, 0, "negative")
        return positives + negatives, f"the records of `{Path(request.negatives).name}`"
    return region_examples(request)


def region_examples(request: DatasetRequest) -> tuple[list[Example], str]:
    """The windows of the BED regions, and negatives from a BED file or drawn from the reference."""
    genome = genome_regions.open_genome(request.reference)
    positive_regions = genome_regions.read_bed(request.positives)
    positive_windows = genome_regions.region_windows(positive_regions, genome, request.length, request.positives)
    positives = [region_example(item, 1, "positive", request.positives) for item in positive_windows]
    if request.negatives is not None:
        regions = genome_regions.read_bed(request.negatives)
        windows = genome_regions.region_windows(regions, genome, request.length, request.negatives)
        return positives + [region_example(item, 0, "negative", request.negatives) for item in windows], (
            f"the regions of `{Path(request.negatives).name}`, cut to {request.length} bp around their centres"
        )
    excluded = positive_regions + [window for _, window, _ in positive_windows]
    negatives = drawn_negatives(genome, positives, excluded, request)
    return positives + negatives, drawn_description(request, len(positives), len(negatives))


def fasta_examples(path, label: int, group: str) -> list[Example]:
    """Every record of a FASTA file; a duplicated id, an empty sequence or a letter that is not DNA is refused."""
    try:
        records = read_fasta(path, check_sequence=check_readable)
    except InputFormatError as error:
        hint = " (regions in a BED file need --reference GENOME.fa)" if "not FASTA" in str(error) else ""
        raise OwnDataError(f"{error}{hint}") from None
    if not records:
        raise OwnDataError(f"{path}: holds no FASTA record")
    return [
        Example(i, sequence, label, group, f"{i} {description}".strip(), str(path))
        for i, description, sequence in records
    ]


def check_readable(sequence: str) -> None:
    """Refuse (ValueError) what a member could not read: a letter that is not DNA (the tokenizer's message), or
    no run of 6 unambiguous bases, without which the k = 6 member reads [UNK] alone."""
    encode_bases(sequence)
    if not re.search(f"[ACGT]{{{LONGEST_K}}}", sequence.upper()):
        raise ValueError(f"no {LONGEST_K} unambiguous bases (A, C, G, T) in a row")


def region_example(item, label: int, group: str, source) -> Example:
    region, window, sequence = item
    try:
        check_readable(sequence)
    except ValueError as error:
        raise OwnDataError(f"{source}: line {region.line}: {window.key}: {error}") from None
    header = " ".join(filter(None, [region.name, region.key]))
    return Example(window.key, sequence, label, group, header, str(source), window.chrom)


def drawn_negatives(genome, positives: list[Example], excluded, request: DatasetRequest) -> list[Example]:
    """GC-matched windows of the chromosomes that hold positives; with test chromosomes, the test positives' from
    those chromosomes and the others' from the rest, so that no split borrows from the other's chromosomes."""
    chroms = sorted({example.chrom for example in positives})
    sides = [chroms]
    if request.test_chromosomes:
        sides = [
            [c for c in chroms if c not in request.test_chromosomes],
            [c for c in chroms if c in request.test_chromosomes],
        ]
    drawn = []
    for side in filter(None, sides):
        candidates = genome_regions.candidate_windows(genome, side, request.length, excluded)
        targets = [example.sequence for example in positives if example.chrom in side]
        for window, sequence in genome_regions.gc_matched_negatives(
            genome, candidates, targets, request.length, request.seed
        ):
            header = "drawn from the reference, GC-matched"
            drawn.append(Example(window.key, sequence, 0, "genome", header, request.reference, window.chrom))
    return drawn


def drawn_description(request: DatasetRequest, positives: int, drawn: int) -> str:
    unmatched = f"; {positives - drawn} positive(s) found no window in reach" if drawn < positives else ""
    return (
        f"drawn from `{Path(request.reference).name}` (seed {request.seed}): {request.length} bp windows tiled from "
        "each chromosome's start on the chromosomes that hold positives, holding A, C, G and T only and overlapping "
        f"no positive region, one per positive whose GC share lies within {genome_regions.GC_TOLERANCE} of its own"
        f"{unmatched}"
    )


def check_examples(examples: list[Example]) -> None:
    """Ids must be unique across both inputs, and no sequence may carry both labels."""
    seen_ids, seen_sequences = set(), {}
    for example in examples:
        if example.id in seen_ids:
            raise OwnDataError(f"{example.source}: record {example.id}: duplicated id (within or across the inputs)")
        seen_ids.add(example.id)
        other = seen_sequences.setdefault(example.sequence, example)
        if other.label != example.label:
            raise OwnDataError(
                f"{example.source}: record {example.id}: the same sequence as record {other.id} of {other.source},"
                " which has the other label"
            )


def test_rows(examples: list[Example], request: DatasetRequest) -> np.ndarray:
    """Which examples form the test split; each split must hold both classes."""
    labels = np.array([example.label for example in examples])
    if request.test_chromosomes:
        unknown = set(request.test_chromosomes) - {example.chrom for example in examples}
        if unknown:
            raise OwnDataError(f"--test-chromosomes: no region on {', '.join(sorted(unknown))}")
        in_test = np.array([example.chrom in request.test_chromosomes for example in examples])
    else:
        in_test = stratified_test_rows(labels, request.test_fraction, request.seed)
    for split, rows in (("train", ~in_test), ("test", in_test)):
        if len(set(labels[rows])) < 2:
            raise OwnDataError(f"the {split} split would hold one class only; give more sequences or other settings")
    return in_test


def stratified_test_rows(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """`fraction` of each class, drawn at random with `seed` (at least one row, never the whole class)."""
    rng = np.random.default_rng(seed)
    in_test = np.zeros(len(labels), dtype=bool)
    for label in (0, 1):
        rows = np.flatnonzero(labels == label)
        count = min(max(round(fraction * len(rows)), 1), len(rows) - 1)
        in_test[rng.choice(rows, size=count, replace=False)] = True
    return in_test


def split_tables(examples: list[Example], in_test: np.ndarray) -> dict[str, dict[str, list]]:
    """The benchmark's columns per split; `in_train` marks test rows whose sequence (either strand) is in train."""
    tables = {}
    for split, wanted in (("train", False), ("test", True)):
        chosen = [example for example, test in zip(examples, in_test) if test == wanted]
        tables[split] = {name: [getattr(e, name) for e in chosen] for name in ("id", "sequence", "label", "group")}
        tables[split]["header"] = [example.header for example in chosen]
    training = set(tables["train"]["sequence"])
    for split, table in tables.items():
        table["in_train"] = [
            split == "test" and (s in training or reverse_complement(s) in training) for s in table["sequence"]
        ]
    return tables


def features():
    from datasets import ClassLabel, Features, Value

    return Features(
        id=Value("string"),
        sequence=Value("string"),
        label=ClassLabel(names=LABEL_NAMES),
        group=Value("string"),
        header=Value("string"),
        in_train=Value("bool"),
    )


def write_parquet(table: dict[str, list], path: Path) -> None:
    from datasets import Dataset, disable_progress_bars

    disable_progress_bars()  # a bar per file of a few rows is noise
    Dataset.from_dict(table, features=features()).to_parquet(path)


def split_summary(table: dict[str, list]) -> dict:
    """Per class: rows, length range and mean GC share; and the test rows also in train."""
    summary = {"in_train": int(sum(table["in_train"]))}
    for label, name in enumerate(LABEL_NAMES):
        sequences = [s for s, row_label in zip(table["sequence"], table["label"]) if row_label == label]
        lengths = [len(s) for s in sequences]
        summary[name] = {
            "rows": len(sequences),
            "length": [min(lengths), max(lengths)],
            "mean_gc": round(float(np.mean([gc_fraction(s) for s in sequences])), 3),
        }
    return summary


def input_files(request: DatasetRequest) -> list[dict]:
    roles = (("positives", request.positives), ("negatives", request.negatives), ("reference", request.reference))
    return [{"role": role, "file": Path(path).name, "sha256": sha256_of(path)} for role, path in roles if path]


def test_split_description(request: DatasetRequest) -> str:
    if request.test_chromosomes:
        return f"every sequence on {', '.join(request.test_chromosomes)} (a split by chromosome)."
    advice = (
        " With regions on a genome, a split by chromosome (`--test-chromosomes chr8,chr9`) is the stricter test:"
        " a random split can put overlapping or neighbouring regions on both sides."
        if request.reference
        else ""
    )
    return f"a stratified random {request.test_fraction:.0%} of each class (seed {request.seed}).{advice}"


def write_card(folder: Path) -> Path:
    """README.md for every config of the folder that this command made: YAML configs, then one section each."""
    records = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob(f"*/{BUILD_FILE}"))]
    body = [f"# {folder.resolve().name}", "", LOADING.format(configs=", ".join(r["config"] for r in records)), ""]
    for record in records:
        body += config_section(record)
    path = folder / "README.md"
    path.write_text(card_yaml([r["config"] for r in records]) + "\n".join(body), encoding="utf-8")
    return path


LOADING = """Enhancer classification data of one's own, laid out as the iEnhancer-ELM benchmark folder (configs: {configs}),
built by `ienhancer-elm dataset`. Columns: `id` (unique within a config; `chrom:start-end`, 0-based, for regions),
`sequence` (upper-case DNA), `label` (0 = non-enhancer, 1 = enhancer), `group` (positive, negative, or genome for
negatives drawn from the reference), `header` (the FASTA header or BED name), `in_train` (test rows only: the
sequence, on either strand, is also in the training split).

```python
from datasets import load_dataset

data = load_dataset("<this folder>", "<config>")
```"""


def config_section(record: dict) -> list[str]:
    lines = [
        f"## `{record['config']}`",
        "",
        "| split | class | rows | length (bp) | mean GC |",
        "|---|---|---|---|---|",
    ]
    for split in SPLITS:
        for name in LABEL_NAMES:
            figures = record["counts"][split][name]
            low, high = figures["length"]
            length = f"{low}" if low == high else f"{low}-{high}"
            lines.append(f"| {split} | {name} | {figures['rows']} | {length} | {figures['mean_gc']:.3f} |")
    lines += [
        "",
        f"- Negatives: {record['negatives']}.",
        f"- Test split: {record['test_split']}",
        f"- Test rows whose sequence (either strand) is also in the training split: {record['counts']['test']['in_train']}.",
    ]
    if record["length"]:
        lines.append(
            f"- Regions were cut to {record['length']} bp around their centres (moved inside a chromosome's ends)."
        )
    lines += ["- Inputs:", "", "| role | file | sha256 |", "|---|---|---|"]
    lines += [f"| {i['role']} | `{i['file']}` | `{i['sha256']}` |" for i in record["inputs"]]
    return lines + ["", f"Made by `{record['command']}`.", ""]


def card_yaml(configs: list[str]) -> str:
    """The card's front matter: a `configs:` entry per config (Parquet per split) and its features."""
    lines = ["---", "license: other", "task_categories:", "- text-classification", "tags:", "- biology", "- dna"]
    lines += ["- enhancer", "configs:"]
    for config in configs:
        lines += [f"- config_name: {config}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {config}/{split}.parquet" for split in SPLITS]
    lines.append("dataset_info:")
    for config in configs:
        lines += [f"- config_name: {config}", "  features:"]
        for name in ("id", "sequence", "group", "header"):
            lines += [f"  - name: {name}", "    dtype: string"]
        lines += ["  - name: label", "    dtype:", "      class_label:", "        names:"]
        lines += [f"          '{i}': {label}" for i, label in enumerate(LABEL_NAMES)]
        lines += ["  - name: in_train", "    dtype: bool"]
    return "\n".join(lines + ["---", ""])
