"""The command line in processes of its own: through a pipe, started for --help, and scan, variants and attribute
in two processes under `accelerate launch` (each writing what one process writes)."""

import subprocess
import sys

import numpy as np

from test_scan import planted_genome, wrap
from test_variants import random_variants, write_reference, write_vcf

from .conftest import subprocess_env
from conftest import REPO, TINY, random_dna


def test_a_closed_pipe_ends_predict_quietly(tmp_path):
    (tmp_path / "in.fa").write_text("".join(f">r{i}\n{'ACGTTGCAGGATTACA' * 12}\n" for i in range(400)))
    command = f"ienhancer-elm predict {tmp_path / 'in.fa'} --model {TINY} --no-progress | head -n 2"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=300, env=subprocess_env()
    )
    assert done.stdout.splitlines()[0].startswith("id\tlength") and len(done.stdout.splitlines()) == 2
    assert done.stdout.splitlines()[1].startswith("r0\t192\t")  # the first record's row, whole
    assert "Broken pipe" not in done.stderr and "Traceback" not in done.stderr
    assert done.returncode in (0, 141)  # head's status, or SIGPIPE's where the writer is killed first


def test_help_starts_without_importing_torch():
    code = "import sys; from ienhancer_elm.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_two_processes_write_the_same_scan_output(gata_model, tmp_path):
    sequence = planted_genome(5) + random_dna(3000, 6)
    (tmp_path / "genome.fa").write_text(f">a\n{wrap(sequence)}\n>b\n{wrap(planted_genome(7))}\n")
    outputs = {}
    for processes in (1, 2):
        out = tmp_path / f"p{processes}"
        config = REPO / "training" / "accelerate" / ("cpu_2proc.yaml" if processes == 2 else "cpu.yaml")
        command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config)]
        command += [
            "--num_cpu_threads_per_process",
            "1",
            "-m",
            "ienhancer_elm.cli",
            "scan",
            str(tmp_path / "genome.fa"),
        ]
        command += ["--model", str(gata_model), "-o", f"{out}.bed", "--bedgraph", f"{out}.bedGraph", "--window", "100"]
        command += ["--stride", "25", "--batch-size", "8", "--precision", "fp32"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=subprocess_env())
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stderr.count("ienhancer-elm: scanned") == 1  # one scan in shares, not one per process
        outputs[processes] = (out.with_suffix(".bed").read_text(), out.with_suffix(".bedGraph").read_text())
    assert outputs[1] == outputs[2]
    assert outputs[1][0]  # regions were called: the planted stretches
    assert not list(tmp_path.glob("*.part*"))


def launched(processes: int, *arguments: str) -> subprocess.CompletedProcess:
    """`ienhancer-elm ARGUMENTS` under `accelerate launch` with this many CPU processes, one thread each."""
    config = REPO / "training" / "accelerate" / ("cpu_2proc.yaml" if processes == 2 else "cpu.yaml")
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config)]
    command += ["--num_cpu_threads_per_process", "1", "-m", "ienhancer_elm.cli", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=subprocess_env())


def test_two_processes_write_the_same_variant_table(tmp_path):
    contigs = {"chr1": random_dna(3000, 11), "chr2": random_dna(2000, 12)}
    reference = write_reference(tmp_path / "genome.fa", contigs)
    records = random_variants(contigs["chr1"], "chr1", 40, 1) + random_variants(contigs["chr2"], "chr2", 30, 2)
    records.insert(5, "chrX\t100\tunknown\tA\tG")  # an error row keeps its place
    vcf = write_vcf(tmp_path / "calls.vcf", records)
    tables = {}
    for processes in (1, 2):
        out = tmp_path / f"p{processes}.tsv"
        arguments = ["variants", str(vcf), "--reference", str(reference), "--model", str(TINY), "-o", str(out)]
        done = launched(processes, *arguments, "--batch-size", "4", "--precision", "fp32", "--no-progress")
        assert done.returncode == 1, done.stderr[-2000:]  # 1: the unknown contig's error row
        said = [line for line in done.stderr.splitlines() if line.startswith("ienhancer-elm:")]
        assert sum("could not be scored" in line for line in said) == 1  # one voice, not one per process
        tables[processes] = out.read_text()
    assert tables[1] == tables[2]
    assert len(tables[1].splitlines()) > 1 + 70  # every ALT allele of every record, and the header
    assert not list(tmp_path.glob("*.part*"))


def test_two_processes_write_the_same_attributions(tmp_path):
    sequences = [random_dna(120, seed) for seed in range(9)]
    sequences[4] = "ACGU" * 30  # an error row keeps its place
    (tmp_path / "in.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
    outputs = {}
    for processes in (1, 2):
        out = tmp_path / f"p{processes}"
        arguments = ["attribute", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(out)]
        done = launched(processes, *arguments, "--batch-size", "2", "--logos", "2")
        assert done.returncode == 1, done.stderr[-2000:]  # 1: the RNA record's error row
        with np.load(out / "attributions.npz") as arrays:
            outputs[processes] = {key: arrays[key] for key in arrays.files}
        outputs[processes]["table"] = (out / "attributions.tsv").read_text()
        outputs[processes]["logos"] = sorted(path.name for path in (out / "logos").iterdir())
    one, two = outputs[1], outputs[2]
    assert one.keys() == two.keys()
    for key in one:
        if key.startswith("scores_"):  # fp32 sums differ in their last bits from one process's memory to another's
            np.testing.assert_allclose(one[key], two[key], rtol=0, atol=1e-6)
        else:
            assert np.array_equal(one[key], two[key]), key
    assert len(one["table"].splitlines()) == 1 + 9
    assert "scores_4" not in one  # the RNA record: an error row, no arrays
    assert list(one["logos"]) == ["1_s0.png", "2_s1.png"]
    assert not list((tmp_path / "p2").glob("*.part*"))
