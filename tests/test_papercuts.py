"""The papercuts a new user hit on the command line (issue 35, item 5), one test each, named after what the user
sees. The Space's papercuts are its own tests' (tests/test_space.py, tests/integration/test_space_browser.py)."""

import gzip
import io
import sys

import pytest

from ienhancer_elm import cli
from ienhancer_elm.cli import main

from conftest import TINY, random_dna, windowed_tiny


def standard_input(monkeypatch, data: bytes) -> None:
    """Standard input as a process gets it: bytes behind a text layer, which `open_text` peeks at for gzip."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)), encoding="utf-8"))


def fasta_text(records: dict[str, str]) -> str:
    return "".join(f">{name}\n{sequence}\n" for name, sequence in records.items())


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ienhancer-elm: error:")]


UNSORTED = {"chrB": random_dna(480, 1), "chr2": random_dna(450, 2), "chrA": random_dna(400, 3)}  # at most 512 3-mers


@pytest.mark.parametrize(
    "command, refused",
    [
        (["predict", "in.fa", "-o", "missing/out.tsv"], "missing/out.tsv: no such folder: missing"),
        (["scan", "in.fa", "-o", "out.bed", "--bedgraph", "missing/g.bg"], "missing/g.bg: no such folder: missing"),
        (["background", "no-model", "in.fa", "-o", "missing/bg.json"], "missing/bg.json: no such folder: missing"),
        (["evaluate", "--plot", "missing/curves.png"], "missing/curves.png: no such folder: missing"),
        (["explain", "ACGT" * 30, "-o", "missing/attention.png"], "missing/attention.png: no such folder: missing"),
        (["motifs", "-o", "in.fa/motifs"], "in.fa/motifs: in.fa is not a folder"),  # a folder it would make
        (["predict", "in.fa", "-o", "."], ".: a folder, not a file"),
    ],
    ids=["predict", "scan", "background", "evaluate", "explain", "motifs", "a-folder"],
)
def test_an_output_that_cannot_be_written_is_named_before_the_model_loads(
    tmp_path, monkeypatch, capsys, command, refused
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.fa").write_text(">a\nACGT\n")
    model = [] if command[0] == "background" else ["--model", "no-model"]  # loaded first, its error would show
    assert main([*command, *model]) == 2
    assert error_lines(capsys.readouterr().err) == [f"ienhancer-elm: error: {refused}"]


def test_a_library_write_to_a_missing_folder_names_the_output_not_its_partial_file(tmp_path):
    from ienhancer_elm.files import OutputPathError, written_whole

    with pytest.raises(OutputPathError, match=r"out.tsv: no such folder: .*missing$"):
        with written_whole(tmp_path / "missing" / "out.tsv"):
            pass


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_standard_input_plain_or_gzipped_is_read_by_predict_and_scan(tmp_path, monkeypatch, capsys, gzipped):
    text = fasta_text(UNSORTED)
    (tmp_path / "in.fa").write_text(text)
    data = gzip.compress(text.encode()) if gzipped else text.encode()
    for source, name in ((str(tmp_path / "in.fa"), "file"), ("-", "stdin")):
        standard_input(monkeypatch, data)
        assert main(["predict", source, "--model", str(TINY), "-o", str(tmp_path / f"{name}.tsv")]) == 0
        scan = ["scan", source, "--model", str(TINY), "--stride", "100", "-o", str(tmp_path / f"{name}.bed")]
        standard_input(monkeypatch, data)
        assert main([*scan, "--bedgraph", str(tmp_path / f"{name}.bedGraph"), "--no-progress"]) == 0
    for suffix in ("tsv", "bed", "bedGraph"):
        assert (tmp_path / f"stdin.{suffix}").read_text() == (tmp_path / f"file.{suffix}").read_text()
    assert len((tmp_path / "stdin.tsv").read_text().splitlines()) == 1 + len(UNSORTED)
    capsys.readouterr()
    # read once, standard input is checked as it comes: a repeated name stops the scan, no output is left
    standard_input(monkeypatch, (text + fasta_text({"chr2": "ACGT" * 60})).encode())
    assert main(["scan", "-", "--model", str(TINY), "-o", str(tmp_path / "twice.bed")]) == 2
    assert "-: 1 record name(s) appear more than once (chr2)" in capsys.readouterr().err
    assert list(tmp_path.glob("twice.bed*")) == []
    assert main(["scan", "-", "--regions", "r.bed", "--model", str(TINY), "-o", str(tmp_path / "r.bed")]) == 2
    assert "--regions reads the FASTA through its index" in capsys.readouterr().err


def test_an_empty_input_stops_predict_and_scan_alike_with_exit_1_and_no_output(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty.fa").write_text("\n\n")
    for source, name in ((str(tmp_path / "empty.fa"), str(tmp_path / "empty.fa")), ("-", "standard input")):
        for command in ("predict", "scan", "attribute"):
            standard_input(monkeypatch, b"")
            assert main([command, source, "--model", str(TINY), "-o", str(tmp_path / "out")]) == 1
            assert error_lines(capsys.readouterr().err) == [f"ienhancer-elm: error: {name} holds no sequence"]
            assert list(tmp_path.glob("out*")) == []


def test_ctrl_c_prints_one_line_exits_130_and_leaves_no_output(tmp_path, monkeypatch, capsys):
    from ienhancer_elm import runtime
    from ienhancer_elm.files import written_whole

    def interrupted_scan(args):
        with written_whole(args.output) as handle:
            handle.write("chr1\t0\t200\n")
            raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_scan", interrupted_scan)
    monkeypatch.setattr(runtime, "keep_freed_memory", lambda: False)  # process-wide settings: not in the tests' process
    monkeypatch.setattr("transformers.utils.logging.disable_progress_bar", lambda: None)
    monkeypatch.setattr(sys, "argv", ["ienhancer-elm", "scan", "in.fa", "-o", str(tmp_path / "out.bed")])
    with pytest.raises(SystemExit) as stop:
        cli.console_main()
    assert stop.value.code == 130
    assert capsys.readouterr().err == "ienhancer-elm: interrupted\n"
    assert list(tmp_path.iterdir()) == []


def test_strength_on_records_longer_than_its_training_length_warns_once_by_name(tmp_path, capsys):
    from ienhancer_elm.hub_export import tiny_model, write_model_folder

    layer1 = tiny_model()
    layer1.config.threshold = 1e-3  # every record is called an enhancer, so layer 2 reads every one
    write_model_folder(layer1, tmp_path / "layer1")
    write_model_folder(windowed_tiny(window=120, stride=60), tmp_path / "layer2")  # trained on 120 bp, says its config
    records = {"short": random_dna(110, 1), "long": random_dna(300, 2), "longer": random_dna(400, 3)}
    strength = ["--model", str(tmp_path / "layer1"), "--strength", "--strength-model", str(tmp_path / "layer2")]
    for chosen in (records, {"short": records["short"]}):
        (tmp_path / "in.fa").write_text(fasta_text(chosen))
        assert main(["predict", str(tmp_path / "in.fa"), *strength, "-o", str(tmp_path / "out.tsv")]) == 0
        warnings = [line for line in capsys.readouterr().err.splitlines() if "was trained on" in line]
        if len(chosen) == 1:
            assert warnings == []  # nothing longer than 120 bp
        else:
            (warning,) = warnings
            assert warning.startswith(f"ienhancer-elm: warning: the strength model {tmp_path / 'layer2'} was trained")
            assert "trained on 120 bp sequences; record long is 300 bp" in warning


def test_predict_keeps_every_row_of_a_repeated_id_and_names_the_ids_once(tmp_path, capsys):
    names = ["a", "b", "a", "c", "b", "a"]
    (tmp_path / "in.fa").write_text("".join(f">{name}\n{random_dna(150, i)}\n" for i, name in enumerate(names)))
    assert main(["predict", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "out.tsv")]) == 0
    assert [line.split("\t")[0] for line in (tmp_path / "out.tsv").read_text().splitlines()[1:]] == names
    warnings = [line for line in capsys.readouterr().err.splitlines() if "more than once" in line]
    assert warnings == [
        "ienhancer-elm: warning: 2 record id(s) appear more than once (a, b); each record keeps its own row"
    ]


def progress_lines(text: str, name: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith(f"{name}:")]


def test_scan_and_evaluate_show_progress_lines_off_a_terminal_unless_told_not_to(tmp_path, capsys, evaluation_dataset):
    (tmp_path / "in.fa").write_text(fasta_text(UNSORTED))
    scan = ["scan", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "out.bed")]
    evaluate = ["evaluate", "--model", str(TINY), "--dataset", str(evaluation_dataset), "--resamples", "5"]
    for command, bars in ((scan, ["scan"]), (evaluate, ["score", "bootstrap"])):
        assert main(command) == 0
        out, err = capsys.readouterr()  # captured: not a terminal
        for bar in bars:
            lines = progress_lines(err, bar)
            assert lines and "100%" in lines[-1] and not any("\r" in line for line in lines), err
            assert not progress_lines(out, bar)  # standard output holds the results alone
        assert main([*command, "--no-progress"]) == 0
        assert not any(progress_lines(capsys.readouterr().err, bar) for bar in bars)


def test_off_a_terminal_each_redraw_is_a_line_of_its_own(monkeypatch, capsys):
    from ienhancer_elm import progress

    monkeypatch.setattr(progress, "LOG_INTERVAL_S", 0)
    with progress.progress_bar(total=3, desc="work", unit="step") as bar:
        for _ in range(3):
            bar.update()
    lines = capsys.readouterr().err.split("\n")
    assert lines[0].startswith("work:   0%") and lines[-2].startswith("work: 100%") and lines[-1] == ""
    assert len(lines) == len(set(lines)) and not any("\r" in line for line in lines)


def test_pipeline_names_the_one_bad_sequence_in_a_list_by_its_start_and_length():
    # transformers' text-classification pipeline hands the tokenizer one sequence at a time, without its index
    from transformers import pipeline

    from ienhancer_elm.predict import load_model

    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer)
    with pytest.raises(
        ValueError,
        match=r"^sequence 'ACGUACGUACGUACGUACGU\.\.\.' \(120 characters\): invalid character 'U' at position 4",
    ):
        classify(["ACGT" * 30, "ACGU" * 30, "ACGT" * 30])


def test_a_missing_extra_names_the_install_from_the_index_and_from_a_clone(monkeypatch, capsys):
    def needs_scikit_learn(args):
        raise ModuleNotFoundError("No module named 'sklearn'", name="sklearn")

    monkeypatch.setattr(cli, "run_evaluate", needs_scikit_learn)
    assert main(["evaluate"]) == 2
    (line,) = error_lines(capsys.readouterr().err)
    assert line == (
        "ienhancer-elm: error: `evaluate` needs the module 'sklearn': pip install \"ienhancer-elm[data]\""
        ' (or, in a clone of the repository, pip install -e ".[data]")'
    )


def sorted_by_name_then_start(lines: list[str]) -> bool:
    keys = [(line.split("\t")[0], int(line.split("\t")[1])) for line in lines]
    return keys == sorted(keys)  # `LC_ALL=C sort -k1,1 -k2,2n`


def scan_outputs(fasta, folder, *options) -> tuple[list[str], list[str]]:
    """(BED lines, bedGraph lines after its track line) of a scan calling every window of the tiny model."""
    bed, graph = folder / "out.bed", folder / "out.bedGraph"
    called = ["--threshold", "0", "--stride", "100", "--no-progress"]
    assert (
        main(["scan", str(fasta), "--model", str(TINY), "-o", str(bed), "--bedgraph", str(graph), *called, *options])
        == 0
    )
    track, *windows = graph.read_text().splitlines()
    assert track.startswith("track type=bedGraph")
    return bed.read_text().splitlines(), windows


def test_scan_writes_bed_and_bedgraph_sorted_by_name_then_start_as_bedtobigbed_wants(tmp_path, monkeypatch):
    from ienhancer_elm import genome_order

    monkeypatch.setattr(genome_order, "COPY_BYTES", 5)  # blocks copied in pieces that cut a UTF-8 name
    records = UNSORTED | {"chr10": random_dna(700, 4), "chré": random_dna(300, 5)}
    (tmp_path / "unsorted.fa").write_text(fasta_text(records))
    (tmp_path / "sorted.fa").write_text(fasta_text(dict(sorted(records.items()))))
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    bed, graph = scan_outputs(tmp_path / "unsorted.fa", tmp_path / "a")
    assert sorted_by_name_then_start(bed) and sorted_by_name_then_start(graph)
    assert [line.split("\t")[0] for line in bed] == ["chr10", "chr2", "chrA", "chrB", "chré"]  # a region each
    in_order_bed, in_order_graph = scan_outputs(tmp_path / "sorted.fa", tmp_path / "b")
    assert graph == in_order_graph
    without_name = lambda lines: [line.split("\t")[:3] + line.split("\t")[4:] for line in lines]  # noqa: E731
    assert without_name(bed) == without_name(in_order_bed)  # regions are numbered in the order they were scanned
    (tmp_path / "regions.bed").write_text("chrB\t0\t400\nchr10\t300\t700\nchr10\t0\t250\n")
    bed, graph = scan_outputs(tmp_path / "sorted.fa", tmp_path / "a", "--regions", str(tmp_path / "regions.bed"))
    assert sorted_by_name_then_start(bed) and sorted_by_name_then_start(graph)
    assert [line.split("\t")[:3] for line in bed] == [
        ["chr10", "0", "200"],
        ["chr10", "300", "700"],
        ["chrB", "0", "400"],
    ]
