"""The iEnhancer-ELM Space: `ienhancer-elm predict --strength` and `ienhancer-elm explain` in a web page.

It calls the package's own functions (read_records, load_model, predict_two_layers, explain_sequence) with
the package's default models, which `ienhancer_elm.paths` finds (IENHANCER_ELM_MODELS, a clone's models/, or
the Hub at the pinned tag: offline from a clone). Run it with `python app.py`: 127.0.0.1:7860, or
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
"""

from __future__ import annotations

import csv
import functools
import itertools
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr

from ienhancer_elm.background import background_for
from ienhancer_elm.explain import ExplainError, explain_sequence
from ienhancer_elm.predict import load_model, predict_two_layers, table_cells, table_header
from ienhancer_elm.runtime import keep_freed_memory
from ienhancer_elm.sequences import InputFormatError, Record, read_records

# Limits that keep one request from holding a free CPU Space (two cores) for long.
MAX_RECORDS = 1000
MAX_INPUT_BYTES = 200_000  # pasted text, or an uploaded file as uploaded (gzip included)
SAMPLE = Path(__file__).with_name("sample.fasta")  # a copy of examples/sample.fasta (a test keeps them equal)
OUTPUT_ROOT = Path(tempfile.gettempdir()) / "ienhancer-elm-space"

INTRO = f"""# iEnhancer-ELM: enhancer or not, strong or weak
Paste DNA sequences (FASTA, or one sequence per line) or upload a FASTA file (plain or .gz): at most
{MAX_RECORDS:,} records and {MAX_INPUT_BYTES // 1000} kB. Layer 1 calls each sequence enhancer or
non-enhancer; layer 2 calls the enhancers strong or weak. The table is what `ienhancer-elm predict --strength`
writes; a record that cannot be scored keeps its row, with the reason in `error`. `probability` is calibrated
(calls above 0.5); `background_p` is the share of ordinary human genome windows of the same GC content that score as high. The
models were trained on 200 bp human sequences (the iEnhancer-2L benchmark); see their model cards for what
the calls are worth."""


@functools.cache
def predictor(layer: str):
    """A shipped model and its tokenizer, as `predict` loads them (device and precision "auto")."""
    return load_model(None, None, layer=layer, precision="auto")


@functools.cache
def layer1_background():
    """The layer-1 model's genomic background (background.json beside its weights), as predict reads it; None
    where it has none (the table then has no background_p column)."""
    return background_for(predictor("layer1")[0])


@functools.cache
def explainer():
    """The layer-1 model as `explain` loads it: fp32 on CPU, separate because explain switches it to eager attention."""
    return load_model(None, "cpu")


def fresh_output_folder() -> Path:
    """A new folder for one answer's files; folders over an hour old go (gradio has long copied their files)."""
    OUTPUT_ROOT.mkdir(exist_ok=True)
    for old in OUTPUT_ROOT.iterdir():
        if time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=OUTPUT_ROOT))


def read_input(text: str, upload: str | None, folder: Path) -> list[Record]:
    """The records of the upload, else of the pasted text; a whole-input problem is a gr.Error with the CLI's message."""
    if upload:
        path, name = Path(upload), Path(upload).name
    elif text and text.strip():
        path, name = folder / "pasted.txt", "pasted text"
        path.write_text(text, encoding="utf-8")
    else:
        raise gr.Error("paste sequences or upload a FASTA file")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise gr.Error(f"{name}: {path.stat().st_size:,} bytes; this page takes at most {MAX_INPUT_BYTES:,}")
    try:
        records = list(itertools.islice(read_records(path), MAX_RECORDS + 1))
    except InputFormatError as error:  # its message names the file: name the upload or the text instead
        raise gr.Error(str(error).replace(str(path), name)) from None
    if not records:
        raise gr.Error(f"{name} holds no sequence")  # as predict warns
    if len(records) > MAX_RECORDS:
        raise gr.Error(f"{name}: more than {MAX_RECORDS:,} records; this page takes at most {MAX_RECORDS:,}")
    return records


def predict(text: str, upload: str | None):
    folder = fresh_output_folder()
    records = read_input(text, upload, folder)
    (model, tokenizer), (strength_model, strength_tokenizer) = predictor("layer1"), predictor("layer2")
    background = layer1_background()
    header = table_header(model, strength=True, background=background)
    pairs = list(predict_two_layers(model, tokenizer, strength_model, strength_tokenizer, records))
    rows = [table_cells(model, row, strength_row, True, background) for row, strength_row in pairs]
    tsv = folder / "predictions.tsv"
    with open(tsv, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\n").writerows([header, *rows])
    failed = sum(1 for row in rows if row[-1])
    status = f"{len(rows)} record(s)" + (f"; {failed} could not be scored, see the error column" if failed else "")
    # the warnings predict prints on stderr (a score to read with care: a short sequence)
    status += "".join(
        f"\n- record {row.id}: warning: {row.warning}" for row, _ in pairs if row.warning and not row.error
    )
    choices = [(f"{number}: {record.id}", number - 1) for number, record in enumerate(records, start=1)]
    return {"headers": header, "data": rows}, str(tsv), status, records, gr.Dropdown(choices=choices, value=0)


def explain(records: list[Record] | None, index: int | None):
    if not records or index is None:
        raise gr.Error("predict first, then pick one of the sequences")
    model, tokenizer = explainer()
    image = fresh_output_folder() / "attention.png"
    try:
        explain_sequence(model, tokenizer, records[index], image)
    except ExplainError as error:
        raise gr.Error(str(error)) from None
    return str(image)


def build_demo() -> gr.Blocks:
    header = table_header(
        predictor("layer1")[0], strength=True
    )  # loading here, not at the first click: the Space starts ready
    predictor("layer2")
    with gr.Blocks(title="iEnhancer-ELM", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        records = gr.State()
        with gr.Row():
            text = gr.Textbox(label="Sequences (FASTA or one per line)", lines=8, max_lines=16)
            upload = gr.File(
                label="or a FASTA file (used instead of the text)", file_types=[".fa", ".fasta", ".fna", ".txt", ".gz"]
            )
        gr.Examples([[SAMPLE.read_text(encoding="utf-8")]], inputs=[text], label="Example: examples/sample.fasta")
        run = gr.Button("Predict", variant="primary")
        status = gr.Markdown()
        table = gr.Dataframe(label="Predictions", headers=header, datatype="str", interactive=False, wrap=True)
        download = gr.File(label="predictions.tsv")
        gr.Markdown("### Attention over one sequence (`ienhancer-elm explain`)")
        with gr.Row():
            chosen = gr.Dropdown(label="Sequence", choices=[], scale=3)
            draw = gr.Button("Explain", scale=1)
        plot = gr.Image(label="[CLS] attention of each member's last layer", type="filepath")
        run.click(predict, [text, upload], [table, download, status, records, chosen], api_name="predict")
        draw.click(explain, [records, chosen], [plot], api_name="explain")
    return demo


if __name__ == "__main__":
    keep_freed_memory()  # as the CLI does: faster batches on CPUs
    build_demo().launch(max_file_size=MAX_INPUT_BYTES)
