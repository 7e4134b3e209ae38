"""The Space (hub_configs/space/app.py), served on 127.0.0.1 (fixture `served` in conftest.py) and asked through
gradio_client, answers what `ienhancer-elm predict --strength` and `ienhancer-elm explain` answer, with the
shipped models.

The page in headless Chromium (the slow test that saves docs/images/space.png) is
tests/integration/test_space_browser.py.
"""

import pytest

from ienhancer_elm.cli import main

from conftest import REPO, SPACE

SAMPLE = REPO / "examples" / "sample.fasta"
# Error rows (a letter the tokenizer refuses, a sequence shorter than k) and a short one predict warns about.
BAD_RECORDS = ">has_X\nACGTXACGTTGCAGGATTACAACGTTGCAGG\n>too_short\nAC\n>short_60\n" + "ACGGTCATTG" * 6 + "\n"


@pytest.fixture
def client(served):
    gradio_client = pytest.importorskip("gradio_client")
    return gradio_client.Client(served[1], verbose=False)


def cli_predict(path, tmp_path, capsys):
    """`ienhancer-elm predict PATH --strength`: (exit code, TSV text, stderr)."""
    output = tmp_path / "cli.tsv"
    code = main(["predict", str(path), "--strength", "-o", str(output), "--no-progress"])
    return code, output.read_text(encoding="utf-8") if output.exists() else "", capsys.readouterr().err


def test_the_space_answers_the_rows_and_tsv_of_predict_strength(client, tmp_path, capsys):
    text = SAMPLE.read_text() + BAD_RECORDS
    (tmp_path / "in.fa").write_text(text)
    code, cli_tsv, cli_stderr = cli_predict(tmp_path / "in.fa", tmp_path, capsys)
    assert code == 1  # two records could not be scored
    warnings = [line.removeprefix("ienhancer-elm: ") for line in cli_stderr.splitlines() if ": warning: " in line]

    table, tsv_path, status, _ = client.predict(text, None, api_name="/predict")

    header, *rows = [line.split("\t") for line in cli_tsv.splitlines()]
    assert table["headers"] == header and table["data"] == rows
    assert open(tsv_path, encoding="utf-8").read() == cli_tsv  # the download is the CLI's file, byte for byte
    errors = {row[0]: row[-1] for row in rows if row[-1]}
    assert errors["has_X"] == "invalid character 'X' at position 5" and "too_short" in errors
    strength = header.index("strength")
    assert {row[strength] for row in rows} >= {"strong", ""}  # layer 2 ran, for the enhancers only
    assert warnings and "short_60" in warnings[0]  # the CLI's per-record warnings are listed under the count
    assert status == "9 record(s); 2 could not be scored, see the error column" + "".join(f"\n- {w}" for w in warnings)


def test_an_uploaded_file_is_read_like_the_cli_reads_it(client, tmp_path, capsys):
    from gradio_client import handle_file

    _, cli_tsv, _ = cli_predict(SAMPLE, tmp_path, capsys)
    table, tsv_path, _, _ = client.predict("", handle_file(str(SAMPLE)), api_name="/predict")
    assert open(tsv_path, encoding="utf-8").read() == cli_tsv and len(table["data"]) == 6


def test_a_whole_input_problem_is_the_cli_message_not_a_traceback(served, client, tmp_path, capsys):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    app = served[0]
    bad = tmp_path / "bad.fa"
    bad.write_text(">\nACGTACGTACGT\n")
    code, _, stderr = cli_predict(bad, tmp_path, capsys)
    assert code == 2
    cli_message = stderr.strip().splitlines()[-1].removeprefix("ienhancer-elm: error: ")
    with pytest.raises(AppError) as raised:
        client.predict("", handle_file(str(bad)), api_name="/predict")
    assert str(raised.value) == cli_message.replace(str(bad), "bad.fa") == "bad.fa: a FASTA record has an empty header"

    too_many = "".join(f">s{i}\nACGTACGT\n" for i in range(app.MAX_RECORDS + 1))
    with pytest.raises(AppError, match="more than 1,000 records"):
        client.predict(too_many, None, api_name="/predict")
    with pytest.raises(AppError, match="at most 200,000"):
        client.predict("ACGT" * 60_000, None, api_name="/predict")
    with pytest.raises(AppError, match="paste sequences or upload"):
        client.predict("  \n", None, api_name="/predict")


def test_explain_draws_the_plot_or_gives_the_cli_message(client):
    from gradio_client.exceptions import AppError

    client.predict(SAMPLE.read_text() + BAD_RECORDS, None, api_name="/predict")  # the session now holds 9 records
    image = client.predict(1, api_name="/explain")
    assert open(image, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(AppError) as raised:
        client.predict(6, api_name="/explain")
    assert str(raised.value) == "record has_X: invalid character 'X' at position 5"  # what `explain` prints


def test_the_spaces_example_is_examples_sample_fasta():
    assert (SPACE / "sample.fasta").read_bytes() == SAMPLE.read_bytes()
