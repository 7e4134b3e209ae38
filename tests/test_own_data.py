"""`ienhancer-elm dataset`: a dataset folder from one's own enhancers (two FASTA files, or BED regions on a
reference with GC-matched negatives drawn from it), loadable with `load_dataset` and read by fine-tuning; and every
kind of bad input refused in one line naming the file and the record."""

import json
import random

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from ienhancer_elm.cli import main
from ienhancer_elm.sequences import gc_fraction, reverse_complement

from conftest import biased_dna, random_dna

LENGTH = 100


def write_fasta(path, records: dict[str, str]):
    path.write_text("".join(f">{name} from the lab\n{sequence}\n" for name, sequence in records.items()))
    return path


def fasta_pair(folder, count=20):
    positives = {f"enh{i}": s for i, s in enumerate(biased_dna(count, 0.6, 120, seed=1))}
    negatives = {f"non{i}": s for i, s in enumerate(biased_dna(count, 0.4, 120, seed=2))}
    return write_fasta(folder / "positives.fa", positives), write_fasta(folder / "negatives.fa", negatives)


def write_genome(path, chromosomes=("chr1", "chr2", "chr3"), bases=12_000, seed=3):
    """Chromosomes whose GC share changes every 500 bp (0.3 to 0.7), a run of N in each, 60 bases a line."""
    rng = random.Random(seed)
    text = []
    for name in chromosomes:
        sequence = "".join(
            biased_dna(1, rng.uniform(0.3, 0.7), 500, seed=rng.randrange(10**6))[0] for _ in range(bases // 500)
        )
        sequence = sequence[:3000] + "N" * 150 + sequence[3150:]
        text.append(f">{name}\n" + "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60)) + "\n")
    path.write_text("".join(text))
    return path


def genome_sequences(path) -> dict[str, str]:
    records, name = {}, None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:]
            records[name] = ""
        else:
            records[name] += line
    return records


def write_bed(path, chromosomes=("chr1", "chr2", "chr3"), per_chromosome=6):
    """Regions of 150 to 300 bp every 1,500 bp from 500, one (the last of chr1) ending at the chromosome's end."""
    lines = ["track name=enhancers", "# called by the lab"]
    for chrom in chromosomes:
        lines += [
            f"{chrom}\t{500 + 1500 * i}\t{650 + 1500 * i + 20 * i}\tpeak_{chrom}_{i}" for i in range(per_chromosome)
        ]
    lines.append("chr1\t11950\t12000\tat_the_end")
    path.write_text("\n".join(lines) + "\n")
    return path


def build(tmp_path, *arguments, config="mycells", output="data"):
    return main(["dataset", *map(str, arguments), "-o", str(tmp_path / output), "--config", config])


def splits(folder, config="mycells"):
    return {split: pq.read_table(folder / config / f"{split}.parquet").to_pylist() for split in ("train", "test")}


def test_two_fasta_files_make_a_folder_that_load_dataset_reads(tmp_path):
    positives, negatives = fasta_pair(tmp_path)
    assert build(tmp_path, positives, "--negatives", negatives, "--test-fraction", "0.25") == 0
    folder = tmp_path / "data"
    loaded = load_dataset(str(folder), "mycells")
    assert (len(loaded["train"]), len(loaded["test"])) == (30, 10)
    assert loaded["train"].features["label"].names == ["non-enhancer", "enhancer"]
    assert loaded["train"].column_names == ["id", "sequence", "group", "header", "label", "in_train"]
    for split in ("train", "test"):  # stratified: a quarter of each class held out
        assert sorted(loaded[split]["label"]) == sorted([0, 1] * (len(loaded[split]) // 2))
    rows = {row["id"]: row for split in loaded.values() for row in split}
    assert rows["enh3"]["header"] == "enh3 from the lab" and rows["enh3"]["group"] == "positive"
    assert rows["non0"]["label"] == 0 and rows["non0"]["sequence"] == biased_dna(20, 0.4, 120, seed=2)[0]
    card = (folder / "README.md").read_text()
    assert "config_name: mycells" in card and "path: mycells/train.parquet" in card
    record = json.loads((folder / "mycells" / "dataset.json").read_text())
    assert [entry["file"] for entry in record["inputs"]] == ["positives.fa", "negatives.fa"]
    from ienhancer_elm.files import sha256_of

    assert record["inputs"][0]["sha256"] == sha256_of(positives) and record["inputs"][0]["sha256"] in card
    assert f"ienhancer-elm dataset {positives} --negatives {negatives}" in card
    assert "a stratified random 25% of each class (seed 0)" in card


def test_a_second_config_joins_the_folder_and_a_test_copy_of_training_is_marked(tmp_path):
    positives, negatives = fasta_pair(tmp_path)
    build(tmp_path, positives, "--negatives", negatives)
    enhancers = {f"e{i}": s for i, s in enumerate(biased_dna(10, 0.6, 120, seed=5))}
    enhancers["copy"] = reverse_complement(enhancers["e0"])  # the same DNA, the other strand
    write_fasta(tmp_path / "other.fa", enhancers)
    write_fasta(tmp_path / "other_neg.fa", {f"n{i}": s for i, s in enumerate(biased_dna(11, 0.4, 120, seed=6))})
    arguments = (tmp_path / "other.fa", "--negatives", tmp_path / "other_neg.fa", "--test-fraction", "0.5")
    assert build(tmp_path, *arguments, "--seed", "7", config="second") == 0
    card = (tmp_path / "data" / "README.md").read_text()
    assert "config_name: mycells" in card and "config_name: second" in card
    assert len(load_dataset(str(tmp_path / "data"), "mycells")["train"]) == 32
    second = splits(tmp_path / "data", "second")
    training = {row["sequence"] for row in second["train"]}
    marked = [row["id"] for row in second["test"] if row["in_train"]]
    assert marked == [r["id"] for r in second["test"] if {r["sequence"], reverse_complement(r["sequence"])} & training]
    assert marked in (["e0"], ["copy"])  # with seed 7 the two strands fall into different splits
    assert not any(row["in_train"] for row in second["train"])


def test_regions_on_a_reference_are_centred_and_gc_matched_negatives_drawn_off_them(tmp_path):
    genome = write_genome(tmp_path / "genome.fa")
    bed = write_bed(tmp_path / "regions.bed")
    assert build(tmp_path, bed, "--reference", genome, "--length", LENGTH) == 0
    rows = [row for split in splits(tmp_path / "data").values() for row in split]
    chromosomes = genome_sequences(genome)
    positives = [row for row in rows if row["label"] == 1]
    negatives = [row for row in rows if row["label"] == 0]
    assert len(positives) == 19
    first = next(row for row in positives if row["header"].startswith("peak_chr1_0 "))
    assert first["id"] == "chr1:525-625" and first["header"] == "peak_chr1_0 chr1:500-650"  # centre 575
    end = next(row for row in positives if row["header"].startswith("at_the_end"))
    assert end["id"] == "chr1:11900-12000"  # moved inside the chromosome
    regions = [line.split("\t") for line in bed.read_text().splitlines()[2:]]
    for row in rows:
        chrom, span = row["id"].split(":")
        start, stop = map(int, span.split("-"))
        assert row["sequence"] == chromosomes[chrom][start:stop].upper() and len(row["sequence"]) == LENGTH
    assert len(negatives) == len(positives) and {row["group"] for row in negatives} == {"genome"}
    positive_gc = sorted(gc_fraction(row["sequence"]) for row in positives)
    for row in negatives:
        chrom, span = row["id"].split(":")
        start, stop = map(int, span.split("-"))
        assert set(row["sequence"]) <= set("ACGT") and start % LENGTH == 0
        assert not any(c == chrom and start < int(e) and int(s) < stop for c, s, e, *_ in regions), row["id"]
        assert min(abs(gc_fraction(row["sequence"]) - gc) for gc in positive_gc) <= 0.01 + 1e-9
    # every positive has its own match: the two GC lists pair off in order within the tolerance
    assert np.all(np.abs(np.array(positive_gc) - sorted(gc_fraction(r["sequence"]) for r in negatives)) <= 0.01 + 1e-9)
    card = (tmp_path / "data" / "README.md").read_text()
    assert "drawn from `genome.fa` (seed 0)" in card and "within 0.01 of its own" in card
    assert "a split by chromosome (`--test-chromosomes chr8,chr9`) is the stricter test" in card


def test_the_same_seed_gives_the_same_folder_and_another_seed_other_negatives(tmp_path):
    genome = write_genome(tmp_path / "genome.fa")
    bed = write_bed(tmp_path / "regions.bed")
    for output, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert build(tmp_path, bed, "--reference", genome, "--length", LENGTH, "--seed", seed, output=output) == 0
    a, b, c = (splits(tmp_path / output) for output in "abc")
    assert a == b
    drawn = {
        name: {row["id"] for s in split.values() for row in s if row["group"] == "genome"}
        for name, split in zip("ac", (a, c))
    }
    assert drawn["a"] != drawn["c"]


def test_test_chromosomes_hold_out_their_regions_with_negatives_from_them(tmp_path):
    genome = write_genome(tmp_path / "genome.fa")
    bed = write_bed(tmp_path / "regions.bed")
    assert build(tmp_path, bed, "--reference", genome, "--length", LENGTH, "--test-chromosomes", "chr3") == 0
    found = splits(tmp_path / "data")
    assert {row["id"].split(":")[0] for row in found["test"]} == {"chr3"}
    assert "chr3" not in {row["id"].split(":")[0] for row in found["train"]}
    assert sorted(row["label"] for row in found["test"]) == [0] * 6 + [1] * 6
    assert "every sequence on chr3 (a split by chromosome)" in (tmp_path / "data" / "README.md").read_text()


def test_a_fine_tuning_run_reads_the_folder_and_starts_from_an_ensembles_member(tmp_path, tiny_folder):
    import torch

    from ienhancer_elm.models import IEnhancerELMForSequenceClassification
    from ienhancer_elm.training.finetuning import FinetuneArguments, label_names, new_member

    positives, negatives = fasta_pair(tmp_path)
    build(tmp_path, positives, "--negatives", negatives)
    arguments = FinetuneArguments(
        output_dir=str(tmp_path / "run"), k=4, init=str(tiny_folder), dataset=str(tmp_path / "data"), config="mycells"
    )
    assert label_names(arguments) == ["non-enhancer", "enhancer"]
    member = new_member(arguments)
    donor = IEnhancerELMForSequenceClassification.from_pretrained(tiny_folder).member(4)
    assert member.config.kmers == [4] and member.config.labels == ["non-enhancer", "enhancer"]
    assert all(torch.equal(a, b) for a, b in zip(member.member(4).state_dict().values(), donor.state_dict().values()))
    with pytest.raises(ValueError, match="has no k=6 member"):
        new_member(FinetuneArguments(**{**vars(arguments), "k": 6}))


BAD_FASTA = {
    "duplicate": (">a\nACGTACGTAC\n>a\nACGTACGTAA\n", "positives.fa: record a: duplicated id"),
    "empty": (">a\nACGTACGTAC\n>b\n\n>c\nACGTACGTAC\n", "positives.fa: record b: empty sequence"),
    "letter": (">a\nACGTACGTAC\n>b\nACGTXACGTA\n", "positives.fa: record b: invalid character 'X' at position 5"),
    "rna": (">a\nACGUACGUAC\n", "positives.fa: record a: invalid character 'U' at position 4 (RNA?"),
    "unreadable": (">a\nACGNNNNACG\n", "positives.fa: record a: no 6 unambiguous bases (A, C, G, T) in a row"),
    "none": ("\n", "positives.fa: holds no FASTA record"),
    "bed": ("chr1\t10\t200\n", "not FASTA: expected a '>' header line, found 'chr1\\t10\\t200' (regions in a BED"),
}


@pytest.mark.parametrize("case", BAD_FASTA)
def test_bad_fasta_input_is_one_line_naming_the_file_and_record(tmp_path, capsys, case):
    content, message = BAD_FASTA[case]
    (tmp_path / "positives.fa").write_text(content)
    negatives = write_fasta(tmp_path / "negatives.fa", {"n": random_dna(50, seed=1)})
    assert build(tmp_path, tmp_path / "positives.fa", "--negatives", negatives) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "Traceback" not in error
    assert not (tmp_path / "data" / "mycells").exists()


def test_the_same_id_or_sequence_in_both_files_is_refused(tmp_path, capsys):
    sequence = random_dna(60, seed=2)
    positives = write_fasta(tmp_path / "positives.fa", {"x": sequence, "y": random_dna(60, seed=3)})
    write_fasta(tmp_path / "negatives.fa", {"x": random_dna(60, seed=4)})
    assert build(tmp_path, positives, "--negatives", tmp_path / "negatives.fa") == 2
    assert "negatives.fa: record x: duplicated id" in capsys.readouterr().err
    write_fasta(tmp_path / "negatives.fa", {"z": sequence})
    assert build(tmp_path, positives, "--negatives", tmp_path / "negatives.fa") == 2
    assert "negatives.fa: record z: the same sequence as record x of" in capsys.readouterr().err


BAD_REGIONS = {
    "fields": ("chr1\t100\n", "regions.bed: line 1: a BED line needs chrom, start and end"),
    "number": ("chr1\t100\t2x0\n", "regions.bed: line 1: start and end must be whole numbers"),
    "order": ("chr1\t100\t300\nchr1\t300\t300\n", "regions.bed: line 2: start 300 is not below end 300"),
    "chromosome": ("chr1\t100\t300\nchrX\t100\t300\n", "regions.bed: line 2: chrX is not in the reference"),
    "past_end": ("chr1\t11900\t12100\n", "regions.bed: line 1: ends at 12100, past chr1's end"),
    "gap": ("chr1\t3000\t3150\n", "regions.bed: line 1: chr1:3025-3125: no 6 unambiguous bases"),
    "twice": ("chr1\t100\t300\nchr1\t110\t290\n", "regions.bed: record chr1:150-250: duplicated id"),
    "none": ("track name=x\n", "regions.bed: holds no BED region"),
}


@pytest.mark.parametrize("case", BAD_REGIONS)
def test_bad_regions_are_one_line_naming_the_file_and_line(tmp_path, capsys, case):
    content, message = BAD_REGIONS[case]
    (tmp_path / "regions.bed").write_text(content)
    genome = write_genome(tmp_path / "genome.fa")
    assert build(tmp_path, tmp_path / "regions.bed", "--reference", genome, "--length", LENGTH) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error, error


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--config", "layer1"], "--config layer1: a benchmark config's name"),
        (["--config", "my cells"], "--config 'my cells': use letters, digits"),
        ([], "give --negatives, or --reference with BED regions"),
        (["--negatives", "N.fa", "--test-chromosomes", "chr8"], "--test-chromosomes needs regions on a reference"),
        (["--negatives", "N.fa", "--test-fraction", "1"], "--test-fraction must lie between 0 and 1"),
        (["--negatives", "missing.fa"], "missing.fa: no such file"),
        (["--reference", "plain.fa.gz"], "plain.fa.gz is plain gzip: a compressed reference must be bgzip"),
    ],
)
def test_requests_that_cannot_work_are_refused_before_reading(tmp_path, capsys, monkeypatch, arguments, message):
    import gzip

    monkeypatch.chdir(tmp_path)
    positives, _ = fasta_pair(tmp_path)
    (tmp_path / "N.fa").write_text((tmp_path / "negatives.fa").read_text())
    with gzip.open(tmp_path / "plain.fa.gz", "wt") as handle:
        handle.write(">chr1\n" + random_dna(500, seed=1) + "\n")
    if arguments[:1] == ["--reference"]:
        (tmp_path / "regions.bed").write_text("chr1\t100\t300\n")
        positives = tmp_path / "regions.bed"
    config = [] if "--config" in arguments else ["--config", "mycells"]
    assert main(["dataset", str(positives), *arguments, "-o", "data", *config]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error, error


def test_a_folder_with_a_card_of_another_kind_is_left_alone(tmp_path, capsys):
    positives, negatives = fasta_pair(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "README.md").write_text("the benchmark's card")
    assert build(tmp_path, positives, "--negatives", negatives) == 2
    assert "holds a card this command did not write" in capsys.readouterr().err
    assert (tmp_path / "data" / "README.md").read_text() == "the benchmark's card"


def test_a_test_chromosome_without_regions_or_a_split_of_one_class_is_refused(tmp_path, capsys):
    genome = write_genome(tmp_path / "genome.fa")
    bed = write_bed(tmp_path / "regions.bed", chromosomes=("chr1", "chr2"))
    assert build(tmp_path, bed, "--reference", genome, "--test-chromosomes", "chr3") == 2
    assert "--test-chromosomes: no region on chr3" in capsys.readouterr().err
    positives = write_fasta(tmp_path / "p.fa", {"p": random_dna(60, seed=1)})
    negatives = write_fasta(tmp_path / "n.fa", {"n": random_dna(60, seed=2)})
    assert build(tmp_path, positives, "--negatives", negatives) == 2
    assert "the test split would hold one class only" in capsys.readouterr().err


def test_the_candidate_pool_keeps_windows_for_rare_gc_and_drops_those_out_of_reach():
    from ienhancer_elm.training.genome_regions import POOL_PER_POSITIVE, candidate_pool

    rng = np.random.default_rng(0)
    window_gc = np.concatenate([rng.uniform(0.3, 0.5, 10_000), [0.705, 0.71]])  # two GC-rich windows only
    pool = candidate_pool(window_gc, [0.4, 0.41, 0.71], seed=0)
    assert {10_000, 10_001} <= set(pool.tolist())
    assert len(pool) <= 3 * 3 * POOL_PER_POSITIVE + 2
    assert np.all(np.abs(window_gc[pool][:, None] - np.array([0.4, 0.41, 0.71])).min(axis=1) < 0.02 + 1e-9)
