"""Real torch.compile (inductor, a C++ compiler): compiled predict and scan write what the eager ones write."""

import contextlib
from pathlib import Path

from ienhancer_elm.cli import main
from test_cli import read_tsv
from test_scan import planted_genome, read_bed, wrap

from conftest import TINY, compiling_for_real


def test_compiled_predict_gives_the_eager_rows(tmp_path):
    """Two batch shapes: a padded batch (mixed lengths) and a short one of full-length records."""
    records = [("a", "ACGTTGCAGGATTACA" * 12), ("b", "TTGACCA" * 20), ("c", "GATTACA" * 25), ("bad", "ACGTXX")]
    records += [(f"full{i}", "ACGGTCATTG"[i:] + "ACGTTGCAGGATTACA" * 12) for i in range(3)]
    (tmp_path / "in.fa").write_text("".join(f">{name}\n{sequence}\n" for name, sequence in records))
    tables = {}
    for flags in ([], ["--compile"]):
        out = tmp_path / f"out{len(flags)}.tsv"
        arguments = ["predict", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(out), "--batch-size", "4"]
        with compiling_for_real() if flags else contextlib.nullcontext():
            assert main([*arguments, "--precision", "fp32", *flags]) == 1  # "bad" is an error row in both
        tables[bool(flags)] = read_tsv(out)
    eager, compiled = tables[False], tables[True]
    assert [(r["id"], r["label"], r["error"]) for r in eager] == [(r["id"], r["label"], r["error"]) for r in compiled]
    for column in ("probability", "p_k3", "p_k4"):
        pairs = [(float(e[column]), float(c[column])) for e, c in zip(eager, compiled) if not e["error"]]
        assert max(abs(e - c) for e, c in pairs) < 1e-5


def test_compiled_scan_writes_the_eager_output(gata_model, tmp_path):
    (tmp_path / "genome.fa").write_text(f">a\n{wrap(planted_genome(3))}\n")
    outputs = {}
    for flags in ([], ["--compile"]):
        out = tmp_path / f"out{len(flags)}"
        arguments = ["scan", str(tmp_path / "genome.fa"), "--model", str(gata_model), "-o", f"{out}.bed"]
        arguments += ["--bedgraph", f"{out}.bedGraph", "--window", "100", "--stride", "25", "--batch-size", "16"]
        with compiling_for_real() if flags else contextlib.nullcontext():
            assert main([*arguments, "--precision", "fp32", "--no-progress", *flags]) == 0
        outputs[bool(flags)] = (read_bed(Path(f"{out}.bed")), read_bed(Path(f"{out}.bedGraph"))[1:])  # no track line
    (eager_bed, eager_scores), (compiled_bed, compiled_scores) = outputs[False], outputs[True]
    assert [row[:3] for row in eager_bed] == [row[:3] for row in compiled_bed] and eager_bed
    assert [row[:3] for row in eager_scores] == [row[:3] for row in compiled_scores]
    assert max(abs(float(e[3]) - float(c[3])) for e, c in zip(eager_scores, compiled_scores)) < 1e-5
