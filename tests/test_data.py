"""The benchmark dataset folder: counts, fidelity to the source files, rebuild identity, bad input."""

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from ienhancer_elm.release.benchmark_sources import DataError, read_fasta_strict
from ienhancer_elm.release.dataset_repo import build_dataset_repo

from conftest import REPO

SHARED_DATA = REPO.parent / "shared" / "data"
COMMITTED = REPO / "hub_configs" / "datasets" / "ienhancer-benchmarks"
COUNTS = {"layer1": (2968, 400, 100), "layer2": (1484, 200, 100), "enhancer_if_nhlf": (2924, 2364, 0)}
LABELS = {
    "layer1": ["non-enhancer", "enhancer"],
    "layer2": ["weak", "strong"],
    "enhancer_if_nhlf": ["non-enhancer", "enhancer"],
}
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside this clone")


@pytest.mark.parametrize("config", COUNTS)
def test_committed_folder_loads_offline_with_the_expected_counts(config):
    splits = load_dataset(str(COMMITTED), config)
    train, test, in_train = COUNTS[config]
    assert (len(splits["train"]), len(splits["test"]), sum(splits["test"]["in_train"])) == (train, test, in_train)
    assert not any(splits["train"]["in_train"])
    assert splits["train"].features["label"].names == splits["test"].features["label"].names == LABELS[config]


@needs_shared
def test_sequences_equal_the_source_files():
    layer1 = load_dataset(str(COMMITTED), "layer1")
    for split in ("train", "test"):
        expected = {}
        for group, label in (("strong", 1), ("weak", 1), ("non", 0)):
            for record_id, _, sequence in read_fasta_strict(SHARED_DATA / "ienhancer2l" / f"{split}_{group}.fasta"):
                expected[record_id] = (sequence, label)
        got = {row["id"]: (row["sequence"], row["label"]) for row in layer1[split]}
        assert got == expected
    strong_test = {row["id"] for row in layer1["test"] if row["group"] == "strong"}
    assert {row["id"] for row in layer1["test"] if row["in_train"]} == strong_test


@needs_shared
def test_rebuild_is_identical_to_the_committed_folder(tmp_path):
    build_dataset_repo(SHARED_DATA, tmp_path)
    assert (tmp_path / "README.md").read_text() == (COMMITTED / "README.md").read_text()
    committed = sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*.parquet"))
    assert committed == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    for path in committed:
        assert pq.read_table(tmp_path / path).equals(pq.read_table(COMMITTED / path)), path


@pytest.mark.parametrize(
    "content, message",
    [
        ("ACGT\n>a\nACGT\n", "not FASTA"),
        (">a\nACGT\n>b\nACXGT\n", "record b: invalid character 'X' at position 3"),
        (">a\nACGT\n>a\nACGA\n", "record a: duplicated id"),
        (">a\n\n>b\nACGT\n", "record a: empty sequence"),
    ],
)
def test_bad_source_files_name_the_file_and_record(tmp_path, content, message):
    path = tmp_path / "bad.fasta"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as error:
        read_fasta_strict(path)
    assert "bad.fasta" in str(error.value)


def test_fasta_ids_end_at_any_whitespace_and_damaged_gzip_is_named(tmp_path):
    import gzip as gz
    import random

    from ienhancer_elm.sequences import InputFormatError, fasta_streams, read_fasta, read_records

    path = tmp_path / "tabs.fa"
    path.write_text("\ufeff>a\tfirst record\nACGT\r\n>b second\nTTTT\n")  # a byte-order mark, a tab, CRLF
    assert [(r.id, r.description) for r in fasta_streams(path)] == [("a", "first record"), ("b", "second")]
    assert [(r.id, r.sequence) for r in read_records(path)] == [("a", "ACGT"), ("b", "TTTT")]
    damaged = tmp_path / "cut.fa.gz"
    rng = random.Random(0)
    sequence = "".join(rng.choice("ACGT") for _ in range(20_000))
    damaged.write_bytes(gz.compress(f">a\n{sequence}\n".encode())[:-200])
    for read in (read_fasta, lambda p: [r.sequence() for r in fasta_streams(p)], lambda p: list(read_records(p))):
        with pytest.raises(InputFormatError, match="cut.fa.gz: a damaged gzip file"):
            read(damaged)
