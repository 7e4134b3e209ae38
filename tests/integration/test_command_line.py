"""The command line in processes of its own: through a pipe, started for --help, and scanning in two processes
under `accelerate launch`."""

import subprocess
import sys

from test_scan import planted_genome, wrap

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
