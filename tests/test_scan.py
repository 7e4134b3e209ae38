"""`scan`: planted regions found, one process equals two, odd records handled as documented."""

import gzip
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from ienhancer_elm.cli import main

from conftest import GATA_SITE, TINY, random_dna, synthetic_sequences


def exit_code(arguments) -> int:
    try:
        return main(arguments)
    except SystemExit as stop:
        return stop.code


def planted_genome(seed=0):
    """2 kbp of random DNA with a GATA-rich 150 bp stretch at 1000-1150."""
    background = random_dna(2000, seed)
    site = (GATA_SITE + random_dna(17, seed + 1)) * 6
    return background[:1000] + site[:150] + background[1150:]


def wrap(sequence, width=60):
    return "\n".join(sequence[i : i + width] for i in range(0, len(sequence), width))


def read_bed(path):
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_gata_model_learned_the_site(gata_model):
    from ienhancer_elm.predict import load_model, predict_records
    from ienhancer_elm.sequences import Record

    model, tokenizer = load_model(gata_model)
    sequences, labels = synthetic_sequences(64, 100, seed=99)
    rows = predict_records(model, tokenizer, [Record(str(i), s) for i, s in enumerate(sequences)])
    accuracy = sum((row.probability > 0.5) == bool(label) for row, label in zip(rows, labels)) / len(labels)
    assert accuracy > 0.85


def test_scan_finds_the_planted_region(gata_model, tmp_path, capsys):
    with gzip.open(tmp_path / "genome.fa.gz", "wt") as handle:
        handle.write(f">chrTest planted\n{wrap(planted_genome())}\n")
    bed, graph = tmp_path / "out.bed", tmp_path / "out.bedGraph"
    assert (
        main(
            [
                "scan",
                str(tmp_path / "genome.fa.gz"),
                "--model",
                str(gata_model),
                "-o",
                str(bed),
                "--bedgraph",
                str(graph),
                "--window",
                "100",
                "--stride",
                "25",
                "--precision",
                "fp32",
            ]
        )
        == 0
    )
    regions = read_bed(bed)
    assert regions and all(r[0] == "chrTest" and r[5] == "." for r in regions)
    hits = [r for r in regions if int(r[1]) < 1150 and int(r[2]) > 1000]
    assert len(hits) == 1 and int(hits[0][4]) > 500
    covered = sum(int(r[2]) - int(r[1]) for r in regions)
    assert covered < 800  # most of the random background is not called
    bins = [line.split("\t") for line in graph.read_text().splitlines()[1:]]
    assert len(bins) == (2000 - 100) // 25 + 1
    assert all(int(a[2]) == int(b[1]) for a, b in zip(bins, bins[1:]))  # tiling, no overlaps
    assert "scanned 1 record(s), 2000 bp: 77 window(s) scored" in capsys.readouterr().err


def test_regions_bed_restricts_the_scan(gata_model, tmp_path):
    (tmp_path / "genome.fa").write_text(f">chrTest\n{wrap(planted_genome())}\n")
    (tmp_path / "regions.bed").write_text("chrTest\t900\t1300\n")
    out = tmp_path / "out.bed"
    assert (
        main(
            [
                "scan",
                str(tmp_path / "genome.fa"),
                "--model",
                str(gata_model),
                "--regions",
                str(tmp_path / "regions.bed"),
                "-o",
                str(out),
                "--window",
                "100",
                "--stride",
                "25",
            ]
        )
        == 0
    )
    regions = read_bed(out)
    assert regions and all(900 <= int(r[1]) and int(r[2]) <= 1300 for r in regions)


def test_odd_records_are_handled_as_documented(tmp_path, capsys):
    genome = random_dna(600, 3)
    fasta = (
        f">lower\n{genome.lower()}\n>n_run\n{genome[:200]}{'N' * 300}{genome[:200]}\n"
        f">tiny\nACGTAC\n>empty\n\n>last\n{genome}\n"
    )
    (tmp_path / "odd.fa").write_text(fasta)
    out = tmp_path / "out.bedGraph"
    assert (
        main(
            [
                "scan",
                str(tmp_path / "odd.fa"),
                "--model",
                str(TINY),
                "-o",
                str(tmp_path / "out.bed"),
                "--bedgraph",
                str(out),
                "--window",
                "200",
                "--stride",
                "100",
            ]
        )
        == 0
    )
    names = [line.split("\t")[0] for line in out.read_text().splitlines()[1:]]
    assert names.count("lower") == names.count("last") == 5 and "tiny" not in names and "empty" not in names
    err = capsys.readouterr().err
    assert "scanned 5 record(s)" in err and "skipped for N" in err and "2 record(s) shorter than the window" in err
    lower_scores = [line for line in out.read_text().splitlines() if line.startswith("lower")]
    last_scores = [line for line in out.read_text().splitlines() if line.startswith("last")]
    assert [s.split("\t")[3] for s in lower_scores] == [s.split("\t")[3] for s in last_scores]  # case ignored


def test_invalid_letters_name_record_and_position(tmp_path, capsys):
    (tmp_path / "bad.fa").write_text(">ok\n" + "ACGT" * 60 + "\n>broken\nACGTACGTAC\nACGTXACGT\n")
    assert main(["scan", str(tmp_path / "bad.fa"), "--model", str(TINY), "-o", str(tmp_path / "o.bed")]) == 2
    assert "record broken: invalid character 'X' at position 15" in capsys.readouterr().err
    assert list(tmp_path.glob("o.bed*")) == []  # no output that could pass for a finished scan


@pytest.mark.parametrize("interval", ["ok 10 5", "ok 0 1000", "ok -5 20"])
def test_a_bed_interval_outside_its_record_is_refused(tmp_path, capsys, interval):
    (tmp_path / "in.fa").write_text(">ok\n" + "ACGT" * 60 + "\n")
    (tmp_path / "regions.bed").write_text("ok\t0\t200\n" + interval.replace(" ", "\t") + "\n")
    arguments = ["scan", str(tmp_path / "in.fa"), "--regions", str(tmp_path / "regions.bed")]
    assert main([*arguments, "--model", str(TINY), "-o", str(tmp_path / "o.bed"), "--no-progress"]) == 2
    assert f"regions.bed: line 2: {interval} is not an interval within ok (0 to 240)" in capsys.readouterr().err
    assert list(tmp_path.glob("o.bed*")) == []


@pytest.mark.parametrize(
    "option, message",
    [
        (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
        (["--window", "-5"], "argument --window: must be at least 1, got -5"),
        (["--threshold", "1.5"], "argument --threshold: must be between 0 and 1, got 1.5"),
        (["--max-n", "2"], "argument --max-n: must be between 0 and 1, got 2"),
        (["--stride", "300"], "stride must be between 1 and the window (200), got 300"),
    ],
)
def test_out_of_range_settings_are_refused_by_name(tmp_path, capsys, option, message):
    (tmp_path / "in.fa").write_text(">one\n" + "ACGT" * 60 + "\n")
    arguments = ["scan", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "o.bed"), *option]
    assert exit_code(arguments) == 2  # argparse exits, the scan's own checks return
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.bed").exists()


def test_scan_settings_refuse_what_cannot_be_scanned():
    from ienhancer_elm.scan import ScanError, ScanSettings

    for settings in ({"window": 0}, {"stride": 0}, {"threshold": -0.1}, {"max_n_fraction": 1.5}, {"batch_size": 0}):
        with pytest.raises(ScanError):
            ScanSettings(**settings)


@pytest.mark.parametrize("cast_weights", [False, True], ids=["autocast", "bf16-weights"])
def test_bf16_labels_agree_with_fp32(gata_model, cast_weights):
    import torch

    from ienhancer_elm.predict import load_model, predict_records
    from ienhancer_elm.sequences import Record

    model, tokenizer = load_model(gata_model)
    low, _ = load_model(gata_model, precision="bf16") if cast_weights else (model, None)
    assert next(low.parameters()).dtype == (torch.bfloat16 if cast_weights else torch.float32)
    sequences, _ = synthetic_sequences(64, 100, seed=42)
    records = [Record(str(i), s) for i, s in enumerate(sequences)]
    fp32 = list(predict_records(model, tokenizer, records, precision="fp32"))
    bf16 = list(predict_records(low, tokenizer, records, precision="bf16"))
    assert [r.label for r in fp32] == [r.label for r in bf16]
    assert max(abs(a.probability - b.probability) for a, b in zip(fp32, bf16)) < 0.05


def test_windows_across_the_block_boundary_score_as_predicted_alone_and_errors_name_later_blocks(
    tmp_path, capsys, monkeypatch
):
    from ienhancer_elm import scan
    from ienhancer_elm.predict import load_model, predict_records
    from ienhancer_elm.sequences import Record

    # blocks of 4,096 bases instead of 65,536: the same boundary, 16 times fewer windows to score
    monkeypatch.setattr(scan, "BLOCK_BASES", 1 << 12)
    block = scan.BLOCK_BASES
    rng = random.Random(3)
    genome = "".join(rng.choice("ACGT") for _ in range(block + 1000))
    (tmp_path / "g.fa").write_text(f">g\n{wrap(genome)}\n")
    out = tmp_path / "o"
    arguments = ["scan", str(tmp_path / "g.fa"), "--model", str(TINY), "-o", f"{out}.bed", "--bedgraph"]
    assert main([*arguments, f"{out}.bedGraph", "--stride", "100", "--precision", "fp32", "--no-progress"]) == 0
    margin = (200 - 100) // 2  # the bedGraph puts a window's score on its central stride-long bin
    scores = {
        int(line.split("\t")[1]) - margin: float(line.split("\t")[3])
        for line in Path(f"{out}.bedGraph").read_text().splitlines()[1:]
    }
    straddling = [start for start in scores if start < block < start + 200]
    assert straddling  # windows cut from two blocks
    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    for start in straddling:
        (alone,) = predict_records(model, tokenizer, [Record("w", genome[start : start + 200])], precision="fp32")
        assert scores[start] == pytest.approx(alone.probability, abs=1e-5)
    bad = block + 500
    (tmp_path / "bad.fa").write_text(f">g\n{wrap(genome[: bad - 1] + 'X' + genome[bad:])}\n")
    assert main(["scan", str(tmp_path / "bad.fa"), "--model", str(TINY), "-o", str(tmp_path / "b.bed")]) == 2
    assert f"record g: invalid character 'X' at position {bad}" in capsys.readouterr().err


class RecordingBar:
    """Stands in for tqdm: keeps the total of each bar named in `WATCHED` and how far it was advanced."""

    WATCHED = ("scan", "predict")
    made = []

    def __init__(self, iterable=None, total=None, desc=None, **options):
        self.iterable, self.total, self.done = iterable, total, 0
        if desc in self.WATCHED:  # not the bars of transformers' weight loading
            RecordingBar.made.append(self)

    def __iter__(self):
        return iter(self.iterable)

    def update(self, count=1):
        self.done += count

    def write(self, text, file=None, **options):
        print(text, file=file or sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *error):
        return False


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_the_pre_pass_reads_every_name_and_counts_bases_across_chunks(tmp_path, monkeypatch, gzipped):
    from ienhancer_elm import windows

    text = ">one first\nACGT\r\nAC GT\n\n>two\n" + "A" * 50 + "\n>three\n>four x\nNNNN\nacgt"  # no final newline
    path = tmp_path / "in.fa"
    path.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())
    for chunk in (3, 7, 1 << 24):  # headers and lines cut by chunk ends
        monkeypatch.setattr(windows, "INVENTORY_CHUNK", chunk)
        assert windows.fasta_inventory(path) == (["one", "two", "three", "four"], 66)


@pytest.mark.parametrize("regions", [False, True], ids=["fasta", "regions"])
def test_the_scan_bar_has_the_total_and_reaches_it(tmp_path, monkeypatch, capsys, regions):
    genome = random_dna(900, 4)
    fasta = f">a\n{wrap(genome)}\n>n_run\n{genome[:300]}{'N' * 300}{genome[:250]}\n>tiny\nACGTAC\n>empty\n\n"
    (tmp_path / "g.fa").write_text(fasta)
    (tmp_path / "r.bed").write_text("a\t10\t700\nn_run\t0\t850\n")
    monkeypatch.setattr("tqdm.auto.tqdm", RecordingBar)
    RecordingBar.made.clear()
    arguments = ["scan", str(tmp_path / "g.fa"), "--model", str(TINY), "-o", str(tmp_path / "o.bed"), "--stride", "30"]
    assert main([*arguments, "--batch-size", "4", *(["--regions", str(tmp_path / "r.bed")] if regions else [])]) == 0
    (bar,) = RecordingBar.made
    total = 690 + 850 if regions else 900 + 850 + 6
    assert bar.total == bar.done == total
    assert f"{total} bp" in capsys.readouterr().err


def test_bigwig_holds_the_bedgraph_bins_of_every_record_in_order(tmp_path):
    pyBigWig = pytest.importorskip("pyBigWig")
    rng = random.Random(8)
    records = {"chr2": 900, "chr10": 700, "chr1": 1200}  # written out of order: the tracks come out sorted
    (tmp_path / "g.fa").write_text(
        "".join(f">{name}\n{wrap(''.join(rng.choice('ACGT') for _ in range(n)))}\n" for name, n in records.items())
    )
    out = tmp_path / "o"
    arguments = ["scan", str(tmp_path / "g.fa"), "--model", str(TINY), "-o", f"{out}.bed", "--stride", "50"]
    assert main([*arguments, "--bedgraph", f"{out}.bedGraph", "--bigwig", f"{out}.bw", "--no-progress"]) == 0
    bins = [line.split("\t") for line in Path(f"{out}.bedGraph").read_text().splitlines()[1:]]
    track = pyBigWig.open(f"{out}.bw")
    assert list(track.chroms()) == ["chr1", "chr10", "chr2"]
    stored = [(chrom, *entry) for chrom in track.chroms() for entry in track.intervals(chrom)]
    assert [(chrom, start, end) for chrom, start, end, _ in stored] == [(c, int(s), int(e)) for c, s, e, _ in bins]
    np.testing.assert_allclose([value for *_, value in stored], [float(b[3]) for b in bins], atol=1e-6)
    # asked for alone, the bigWig is the same, and the bedGraph it was made from is not left behind
    assert main([*arguments, "--bigwig", f"{out}2.bw", "--no-progress"]) == 0
    alone = pyBigWig.open(f"{out}2.bw")
    assert [alone.intervals(chrom) for chrom in alone.chroms()] == [track.intervals(chrom) for chrom in track.chroms()]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["g.fa", "o.bed", "o.bedGraph", "o.bw", "o2.bw"]


def test_a_bigwig_of_overlapping_regions_or_of_nothing_is_refused_in_one_line(tmp_path, capsys):
    pytest.importorskip("pyBigWig")
    rng = random.Random(9)
    (tmp_path / "g.fa").write_text(f">chr1\n{wrap(''.join(rng.choice('ACGT') for _ in range(1500)))}\n>tiny\nACGT\n")
    (tmp_path / "overlapping.bed").write_text("chr1\t0\t800\nchr1\t400\t1200\n")
    out = tmp_path / "o"
    arguments = ["scan", str(tmp_path / "g.fa"), "--model", str(TINY), "-o", f"{out}.bed", "--no-progress"]
    assert main([*arguments, "--regions", str(tmp_path / "overlapping.bed"), "--bigwig", f"{out}.bw"]) == 2
    assert "the bins overlap, as overlapping --regions intervals make them" in capsys.readouterr().err
    (tmp_path / "short.fa").write_text(">tiny\nACGTACGTAC\n")
    short = ["scan", str(tmp_path / "short.fa"), "--model", str(TINY), "-o", f"{out}.bed", "--no-progress"]
    assert main([*short, "--bigwig", f"{out}.bw"]) == 2
    assert "no window was scored, so there is no bigWig to write" in capsys.readouterr().err
    assert main([*arguments, "--bedgraph", "-", "--bigwig", f"{out}.bw"]) == 2
    assert "--bigwig is made from the bedGraph: give --bedgraph a file" in capsys.readouterr().err
    assert not list(tmp_path.glob("o.*"))  # no output is left, half-written or whole
