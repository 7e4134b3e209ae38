import gzip

import pytest
import torch

from ienhancer_elm import IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.cli import main

from conftest import TINY

FASTA = (
    ">seq1 first\nACGTTGCAGGATTACAACGTTGCAGGATTACA\nACGTTGCAGG\n"
    ">seq2\nTTGACCATTGACCATTGACCA\n>bad\nACGTXXACGT\n>short\nAC\n"
)


def read_tsv(path):
    return read_tsv_text(path.read_text())


def read_tsv_text(text):
    header, *rows = [line.split("\t") for line in text.splitlines()]
    return [dict(zip(header, row)) for row in rows]


@pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")  # scored here directly
def test_predict_fasta_keeps_every_record_in_order(tmp_path, capsys):
    (tmp_path / "in.fa").write_text(FASTA)
    code = main(
        ["predict", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "out.tsv"), "--batch-size", "2"]
        + ["--precision", "fp32"]  # compared below with the model run directly, in fp32
    )
    assert code == 1  # some records could not be scored
    rows = read_tsv(tmp_path / "out.tsv")
    assert [r["id"] for r in rows] == ["seq1", "seq2", "bad", "short"]
    model = IEnhancerELMForSequenceClassification.from_pretrained(TINY).eval()
    for row, sequence in zip(rows[:2], ("ACGTTGCAGGATTACAACGTTGCAGGATTACAACGTTGCAGG", "TTGACCATTGACCATTGACCA")):
        with torch.no_grad():
            output = model(**KmerTokenizer(kmers=(3, 4))(sequence, return_tensors="pt"))
        assert row["length"] == str(len(sequence)) and not row["error"]
        assert float(row["probability"]) == pytest.approx(output.probabilities.item(), abs=1e-5)
        assert row["label"] == model.config.id2label[int(output.probabilities.item() > 0.5)]
        assert [float(row["p_k3"]), float(row["p_k4"])] == pytest.approx(
            output.member_probabilities[0].tolist(), abs=1e-5
        )
    assert rows[2]["probability"] == "" and rows[2]["error"] == "invalid character 'X' at position 5"
    assert "shorter than k=4" in rows[3]["error"]
    err = capsys.readouterr().err
    assert "record bad: invalid character 'X'" in err and "2 record(s) could not be scored" in err


def test_predict_gzip_text_lines_and_stdin_agree(tmp_path, monkeypatch, capsys):
    sequences = ["ACGTTGCAGGATTACA" * 5, "TTGACCA" * 9]
    with gzip.open(tmp_path / "in.fa.gz", "wt") as handle:
        handle.write("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
    (tmp_path / "lines.txt").write_text("\n".join(sequences) + "\n")
    assert main(["predict", str(tmp_path / "in.fa.gz"), "--model", str(TINY), "-o", str(tmp_path / "gz.tsv")]) == 0
    assert main(["predict", str(tmp_path / "lines.txt"), "--model", str(TINY), "-o", str(tmp_path / "txt.tsv")]) == 0
    monkeypatch.setattr("sys.stdin", open(tmp_path / "lines.txt"))
    assert main(["predict", "-", "--model", str(TINY)]) == 0
    stdout_rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    gz, txt = read_tsv(tmp_path / "gz.tsv"), read_tsv(tmp_path / "txt.tsv")
    assert [r["id"] for r in txt] == ["line1", "line2"]
    assert [r["probability"] for r in gz] == [r["probability"] for r in txt] == [row[2] for row in stdout_rows]


@pytest.mark.parametrize(
    "content, message",
    [(None, "no such file"), (b"\xff\xfe\x00binary", "not a text file"), (b">\nACGT\n", "empty header")],
)
def test_unreadable_inputs_are_clear_errors(tmp_path, capsys, content, message):
    path = tmp_path / "in.fa"
    if content is not None:
        path.write_bytes(content)
    assert main(["predict", str(path), "--model", str(TINY)]) == 2
    assert message in capsys.readouterr().err


def test_a_record_some_member_reads_only_as_unknown_gets_an_error_row(tmp_path, capsys):
    """N stands in for a base: fine while every member still reads a k-mer, an error row once one reads none."""
    lines = ["N" * 40, "ACGN" * 10, "ACGTACGTAC" + "N" * 30, "TTGACCA" * 5 + "NNNNN"]
    blind_k3 = "no 3 unambiguous bases (A, C, G, T) in a row: the k=3 member would read only [UNK]"
    blind_k4 = "no 4 unambiguous bases (A, C, G, T) in a row: the k=4 member would read only [UNK]"
    for extra, errors in (([], []), (["NNNX"], ["invalid character 'X' at position 4"])):  # one length; several
        (tmp_path / "in.txt").write_text("\n".join(lines + extra) + "\n")
        assert main(["predict", str(tmp_path / "in.txt"), "--model", str(TINY)]) == 1
        rows = read_tsv_text(capsys.readouterr().out)
        assert [row["error"] for row in rows] == [blind_k3, blind_k4, "", "", *errors]
        assert rows[2]["probability"] and rows[3]["probability"]


def test_empty_input_is_an_error_exit_1_and_no_output_file(tmp_path, capsys):
    (tmp_path / "empty.fa").write_text("\n\n")
    assert main(["predict", str(tmp_path / "empty.fa"), "--model", str(TINY), "-o", str(tmp_path / "o.tsv")]) == 1
    assert f"ienhancer-elm: error: {tmp_path / 'empty.fa'} holds no sequence" in capsys.readouterr().err
    assert list(tmp_path.glob("o.tsv*")) == []


def test_a_failed_run_leaves_no_output_file(tmp_path, capsys):
    (tmp_path / "in.fa").write_text(">a\nACGT\n>\nACGT\n")  # an empty header ends the run
    assert main(["predict", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "o.tsv")]) == 2
    assert "empty header" in capsys.readouterr().err
    assert list(tmp_path.glob("o.tsv*")) == []


def test_without_a_shipped_model_the_message_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    from ienhancer_elm import paths

    monkeypatch.setattr(paths, "SOURCE_MODELS", tmp_path / "no-models")
    monkeypatch.delenv("IENHANCER_ELM_MODELS", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "in.fa").write_text(FASTA)
    assert main(["predict", str(tmp_path / "in.fa")]) == 2
    assert "the shipped layer1 model is not installed: set IENHANCER_ELM_MODELS" in capsys.readouterr().err


@pytest.mark.parametrize(
    "model, message",
    [
        ("missing", "missing: no such model folder"),
        ("empty", "empty: not a model folder (no config.json)"),
        ("org/not-cached", "org/not-cached: no such model folder here, nor a Hub model to be had"),
    ],
)
def test_a_model_that_is_not_there_is_named(tmp_path, capsys, monkeypatch, model, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "in.fa").write_text(FASTA)
    source = f"./{model}" if model == "missing" else model
    assert main(["predict", "in.fa", "--model", source]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:.*shorter than 100 bp:UserWarning")  # scored here directly
def test_predict_strength_calls_layer_two_only_for_enhancers(tmp_path):
    import statistics

    from ienhancer_elm.hub_export import tiny_model, write_model_folder

    sequences = ["ACGTTGCAGGATTACA" * 5, "TTGACCA" * 9, "GGGCCCATAT" * 8, "ACGTXX", "CAGT" * 20]
    (tmp_path / "in.fa").write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
    assert main(["predict", str(tmp_path / "in.fa"), "--model", str(TINY), "-o", str(tmp_path / "p.tsv")]) == 1
    scored = [float(r["probability"]) for r in read_tsv(tmp_path / "p.tsv") if r["probability"]]
    layer1, layer2 = tiny_model(), tiny_model(seed=1)
    layer1.config.threshold = statistics.median(scored)  # a random model: split its calls in two
    layer2.config.labels = ["weak", "strong"]
    write_model_folder(layer1, tmp_path / "layer1")
    write_model_folder(layer2, tmp_path / "layer2")
    common = [str(tmp_path / "in.fa"), "--model", str(tmp_path / "layer1"), "--batch-size", "2", "--precision", "fp32"]
    assert main(["predict", *common, "-o", str(tmp_path / "plain.tsv")]) == 1
    code = main(
        [
            "predict",
            *common,
            "--strength",
            "--strength-model",
            str(tmp_path / "layer2"),
            "-o",
            str(tmp_path / "two.tsv"),
        ]
    )
    assert code == 1
    plain, two = read_tsv(tmp_path / "plain.tsv"), read_tsv(tmp_path / "two.tsv")
    assert [r["id"] for r in two] == [f"s{i}" for i in range(5)]
    assert {r["label"] for r in two} == {"enhancer", "non-enhancer", ""}
    strength = layer2.eval()
    for before, after, sequence in zip(plain, two, sequences):
        assert after["probability"] == before["probability"] and after["error"] == before["error"]
        if after["label"] == "enhancer":  # layer 2's own call on the sequence
            with torch.no_grad():
                (p,) = strength(**KmerTokenizer(kmers=(3, 4))(sequence, return_tensors="pt")).probabilities.tolist()
            assert float(after["strength_probability"]) == pytest.approx(p, abs=1e-5)
            assert after["strength"] == ("strong" if p > 0.5 else "weak")
        else:
            assert after["strength"] == after["strength_probability"] == ""


def test_every_option_of_every_command_is_explained_with_its_default():
    import argparse

    from ienhancer_elm.cli import build_parser

    def commands(parser, prefix=""):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, command in action.choices.items():
                    yield f"{prefix}{name}", command
                    yield from commands(command, f"{prefix}{name} ")

    found = dict(commands(build_parser()))
    assert {"predict", "scan", "release dataset", "motifs", "evaluate"} <= set(found)
    for name, parser in found.items():
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    scan_help = found["scan"].format_help()
    assert "(default: 50)" in scan_help and "(default: 200)" in scan_help
    assert "(default: None)" not in scan_help and "(default: False)" not in scan_help


def test_the_predict_bar_counts_finished_sequences_against_the_file_total(tmp_path, monkeypatch, capsys):
    from test_scan import RecordingBar

    monkeypatch.setattr("tqdm.auto.tqdm", RecordingBar)
    (tmp_path / "in.fa").write_text(FASTA)  # four records, one of them bad
    (tmp_path / "lines.txt").write_text("ACGTTGCAGGATTACA\n\nTTGACCATTGACCA\n")
    for source, total in ((tmp_path / "in.fa", 4), (tmp_path / "lines.txt", 2), ("-", None)):
        RecordingBar.made.clear()
        if source == "-":
            monkeypatch.setattr("sys.stdin", open(tmp_path / "lines.txt"))
        main(["predict", str(source), "--model", str(TINY), "--batch-size", "2"])
        (bar,) = RecordingBar.made
        rows = len(capsys.readouterr().out.splitlines()) - 1
        assert (bar.total, bar.done) == (total, rows) and rows == (total or 2)
