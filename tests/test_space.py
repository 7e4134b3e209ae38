"""The Space (hub_configs/space/app.py), served on 127.0.0.1 (fixture `served` in conftest.py) and asked through
gradio_client, answers what `ienhancer-elm predict --strength` and `ienhancer-elm explain` answer, with the
shipped models; its functions, called in-process, draw the attribution logo of `ienhancer-elm attribute` and score
a variant as `predict` scores the two sequences.

The page in headless Chromium (the slow test that saves docs/images/space.png) is
tests/integration/test_space_browser.py.
"""

from pathlib import Path

import pytest

from ienhancer_elm.cli import main

from conftest import REPO, SPACE

SAMPLE = REPO / "examples" / "sample.fasta"
PNG = b"\x89PNG\r\n\x1a\n"
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
    image, logo, note = client.predict(1, api_name="/explain")
    assert open(image, "rb").read(8) == open(logo, "rb").read(8) == PNG
    assert "first-order" in note
    with pytest.raises(AppError) as raised:
        client.predict(6, api_name="/explain")
    assert str(raised.value) == "record has_X: invalid character 'X' at position 5"  # what `explain` prints
    assert "| test_strong_0002 | 57 " in client.predict(1, 57, "a", api_name="/variant")
    with pytest.raises(AppError, match="give a whole number from 1 to 200"):
        client.predict(1, 201, "A", api_name="/variant")


# In-process: the app's functions called as the page calls them, with the module the server above runs.


@pytest.fixture
def app(served):
    return served[0]


def sample_records():
    from ienhancer_elm.sequences import read_records

    return list(read_records(SAMPLE))


def raised_message(call, *arguments) -> str:
    import gradio as gr

    with pytest.raises(gr.Error) as raised:
        call(*arguments)
    return raised.value.message


def test_explain_draws_the_attribution_logo_of_the_sequence_beside_its_attention(app, tmp_path):
    from ienhancer_elm.attribution import attribute
    from ienhancer_elm.attribution_files import draw_attribution_logo

    record = sample_records()[0]
    attention, logo, note = app.explain([record], 0)
    assert open(attention, "rb").read(8) == PNG and Path(attention).parent == Path(logo).parent
    assert note == app.LOGO_NOTE
    model, tokenizer = app.explainer()  # fp32 on CPU
    scores = attribute(model, tokenizer, [record.sequence], "first-order").scores[0]
    draw_attribution_logo(scores[0], record.sequence, tmp_path / "logo.png", record.id)
    assert Path(logo).read_bytes() == (tmp_path / "logo.png").read_bytes()  # the logo of `ienhancer-elm attribute`


@pytest.mark.parametrize(
    "sequence",
    ["ACGTTGCAGGATTACA" * 6 + "N" + "ACGTTGCAGGATTACA" * 6, "ACGTTGCAGGATTACA" * 6 + "R" + "ACGTTGCAGGATTACA" * 6],
)
def test_a_record_attributions_cannot_read_gets_the_reason_instead_of_a_logo(app, sequence):
    from ienhancer_elm.sequences import Record

    attention, logo, note = app.explain([Record("ambiguous", sequence)], 0)
    assert open(attention, "rb").read(8) == PNG  # predict and the attention plot read an ambiguity code
    assert logo is None
    assert (
        note == "No attribution logo for record ambiguous: attributions need at least 6 bases, all of them A, C, G or T"
    )


def test_a_variant_is_scored_as_predict_scores_the_two_sequences(app, tmp_path, capsys):
    import torch

    from ienhancer_elm.predict import predict_records
    from ienhancer_elm.sequences import Record

    record = sample_records()[1]
    position, ref = 57, record.sequence[56]
    alt = "A" if ref != "A" else "C"
    mutated = record.sequence[:56] + alt + record.sequence[57:]
    effect = app.variant_effect(record, position, alt.lower())

    model, tokenizer = app.predictor("layer1")  # the model the table uses
    assert next(model.parameters()).dtype == torch.float32  # on a CPU without bf16 units
    expected = list(predict_records(model, tokenizer, [Record("ref", record.sequence), Record("alt", mutated)]))
    assert (effect.ref, effect.alt, effect.position) == (ref, alt, position)
    assert effect.ref_row.probability == expected[0].probability  # exact: the same model, the same batch
    assert effect.alt_row.probability == expected[1].probability
    assert effect.delta == expected[1].probability - expected[0].probability != 0

    (tmp_path / "pair.fa").write_text(f">ref\n{record.sequence}\n>alt\n{mutated}\n")
    _, cli_tsv, _ = cli_predict(tmp_path / "pair.fa", tmp_path, capsys)
    header, *rows = [line.split("\t") for line in cli_tsv.splitlines()]
    cli_ref, cli_alt = (row[header.index("probability")] for row in rows)
    shown = app.variant([record], 0, position, alt)
    assert f"| {cli_ref} | {cli_alt} | {effect.delta:+.6f} |" in shown  # what `predict` writes for the two
    assert f"| {record.id} | {position} {ref} → {alt} |" in shown


def test_each_bad_variant_gets_its_message(app):
    from ienhancer_elm.sequences import Record

    record = sample_records()[0]  # 200 bp
    ref = record.sequence[9]
    other = "A" if ref != "A" else "C"
    out_of_range = "position {}: record test_strong_0001 has 200 bp; give a whole number from 1 to 200"
    for position in (0, 201, -3, 2.5, "ten"):
        assert raised_message(app.variant, [record], 0, position, other) == out_of_range.format(position)
    for position in (None, ""):
        assert raised_message(app.variant, [record], 0, position, other) == "give the position of the variant (1-based)"
    for base in ("N", "U", "AC", "x"):
        message = f"alternative base {base.upper()!r}: give one of A, C, G, T"
        assert raised_message(app.variant, [record], 0, 10, base) == message
    assert raised_message(app.variant, [record], 0, 10, " ") == "give the alternative base: one of A, C, G, T"
    message = f"position 10 of record test_strong_0001 is already {ref}: give another base"
    assert raised_message(app.variant, [record], 0, 10, ref.lower()) == message
    bad = Record("has_X", "ACGTXACGTTGCAGGATTACAACGTTGCAGG")
    assert raised_message(app.variant, [bad], 0, 1, "C") == "record has_X: invalid character 'X' at position 5"
    assert raised_message(app.variant, None, None, 1, "C") == "predict first, then pick one of the sequences"


def predictions_table(demo):
    return next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "predictions")


def test_the_empty_table_has_the_columns_of_a_prediction(app):
    table = predictions_table(app.build_demo())
    predicted = app.predict(SAMPLE.read_text(), None)[0]
    assert app.layer1_background() is not None  # the shipped layer-1 model ships one
    assert table.value["headers"] == predicted["headers"] and "background_p" in predicted["headers"]
    assert len(table.column_widths) == len(predicted["headers"])


def test_the_space_works_with_a_model_without_a_background(app, monkeypatch):
    monkeypatch.setattr(app, "layer1_background", lambda: None)
    table = predictions_table(app.build_demo())
    predicted, _, status, *_ = app.predict(SAMPLE.read_text(), None)
    assert table.value["headers"] == predicted["headers"] and "background_p" not in predicted["headers"]
    assert all(len(row) == len(predicted["headers"]) for row in predicted["data"]) and status == "6 record(s)"


def test_the_spaces_example_is_examples_sample_fasta():
    assert (SPACE / "sample.fasta").read_bytes() == SAMPLE.read_bytes()
