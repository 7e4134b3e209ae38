"""The iEnhancer-ELM Space: `ienhancer-elm predict --strength`, `ienhancer-elm explain` and `ienhancer-elm attribute`
in a web page, and the effect of a base substitution on one sequence.

It calls the package's own functions (read_records, load_model, predict_two_layers, explain_sequence, attribute,
draw_attribution_logo, predict_records) with the package's default models, which `ienhancer_elm.paths` finds
(IENHANCER_ELM_MODELS, a clone's models/, or the Hub at the pinned tag: offline from a clone). Run it with `python app.py`: 127.0.0.1:7860, or
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
"""

from __future__ import annotations

import csv
import functools
import itertools
import math
import shutil
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import gradio as gr

from ienhancer_elm.attribution import AttributionError, attribute
from ienhancer_elm.attribution_files import draw_attribution_logo
from ienhancer_elm.background import background_for
from ienhancer_elm.explain import ExplainError, explain_sequence
from ienhancer_elm.predict import Prediction, load_model, predict_records, predict_two_layers, table_cells, table_header
from ienhancer_elm.runtime import keep_freed_memory
from ienhancer_elm.sequences import InputFormatError, Record, read_records

# Limits that keep one request from holding a free CPU Space (two cores) for long.
MAX_RECORDS = 1000
MAX_INPUT_BYTES = 200_000  # pasted text, or an uploaded file as uploaded (gzip included)
SAMPLE = Path(__file__).with_name("sample.fasta")  # a copy of examples/sample.fasta (a test keeps them equal)
OUTPUT_ROOT = Path(tempfile.gettempdir()) / "ienhancer-elm-space"
BASES = ("A", "C", "G", "T")

# The table at 1,280 px: all columns in view, headers on one line (none breaks mid-word). Gradio breaks a header
# anywhere once its column is narrower than the word, so each column gets the width of its longest word (at 12 px,
# IBM Plex Mono: 0.6 em a character) and cells have half the default padding.
TABLE_CSS = """
#predictions .header-cell, #predictions .body-cell { font-size: 12px; }
#predictions .cell-wrap { padding: 4px; }
#predictions th .header { white-space: nowrap; overflow-wrap: normal; word-break: normal; text-overflow: ellipsis; }
"""
CHARACTER_PX = 7.2  # 0.6 em at 12 px

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


def table_headers() -> list[str]:
    """The columns of the table, empty or filled: those of `ienhancer-elm predict --strength` with the layer-1
    model, `background_p` included where it ships a background."""
    return table_header(predictor("layer1")[0], strength=True, background=layer1_background())


@functools.cache
def explainer():
    """The layer-1 model as `explain` loads it: fp32 on CPU, separate because explain switches it to eager attention."""
    return load_model(None, "cpu")


def column_widths(header: list[str]) -> list[int]:
    """Pixels for each column: its longest word (the header, a label, a six-decimal number) on one line; `id` and
    `error` wrap their cells, in what fits beside the others at 1,280 px."""
    labels = {
        column: max(map(len, predictor(layer)[0].config.id2label.values()))
        for column, layer in (("label", "layer1"), ("strength", "layer2"))
    }
    longest = {"id": 16, "error": 14, **labels}
    return [math.ceil(max(len(name), longest.get(name, len("0.123456"))) * CHARACTER_PX) + 12 for name in header]


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
    header = table_headers()
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
    """The attention plot of `ienhancer-elm explain` for the picked record, and with it the record's attribution
    logo and a note on reading it (no logo, and the reason in the note, where attributions cannot read the record)."""
    record = picked(records, index)
    model, tokenizer = explainer()
    folder = fresh_output_folder()
    image = folder / "attention.png"
    try:
        explain_sequence(model, tokenizer, record, image)
    except ExplainError as error:
        raise gr.Error(str(error)) from None
    logo, note = attribution_logo(model, tokenizer, record, folder / "attribution.png")
    return str(image), logo, note


LOGO_NOTE = (
    "Each base of the sequence is drawn as tall as what it adds to the ensemble's log-odds (below the axis where it"
    " takes away), estimated to first order through the members' k-mer embeddings: `ienhancer-elm attribute"
    " --method first-order`. Positions count from 0 in both plots."
)


def attribution_logo(model, tokenizer, record: Record, path: Path) -> tuple[str | None, str]:
    """(the logo's path, the note under it); (None, the reason) for a record attributions cannot read (a base other
    than A, C, G, T, or fewer than 6 bases)."""
    sequence = "".join(record.sequence.split()).upper()
    try:
        scores = attribute(model, tokenizer, [sequence], "first-order").scores[0]
    except AttributionError as error:
        return None, f"No attribution logo for record {record.id}: {str(error).removeprefix('sequence 0: ')}"
    try:
        draw_attribution_logo(scores[0], sequence, path, record.id)
    except ModuleNotFoundError as error:  # logomaker: in requirements.txt, and the package's motifs extra
        return (
            None,
            f"No attribution logo: it is drawn with {error.name}, not installed here (pip install {error.name})",
        )
    return str(path), LOGO_NOTE


def picked(records: list[Record] | None, index: int | None) -> Record:
    if not records or index is None:
        raise gr.Error("predict first, then pick one of the sequences")
    return records[int(index)]


class VariantEffect(NamedTuple):
    """A base substitution in one record, scored by the table's layer-1 model as `predict` scores the two
    sequences: `delta` = alt - ref."""

    id: str
    position: int  # 1-based
    ref: str
    alt: str
    ref_row: Prediction
    alt_row: Prediction

    @property
    def delta(self) -> float:
        return self.alt_row.probability - self.ref_row.probability


def variant_effect(record: Record, position, alt: str | None) -> VariantEffect:
    """Score `record` and `record` with `alt` at `position` (1-based) through `predict_records`; a gr.Error for a
    position outside the sequence, a base other than A, C, G, T, the reference base, or a record predict cannot
    score."""
    sequence = "".join(record.sequence.split()).upper()
    position = checked_position(position, record.id, len(sequence))
    alt = (alt or "").strip().upper()
    if not alt:
        raise gr.Error("give the alternative base: one of A, C, G, T")
    if alt not in BASES:
        raise gr.Error(f"alternative base {alt!r}: give one of A, C, G, T")
    ref = sequence[position - 1]
    if alt == ref:
        raise gr.Error(f"position {position} of record {record.id} is already {ref}: give another base")
    mutated = sequence[: position - 1] + alt + sequence[position:]
    model, tokenizer = predictor("layer1")
    ref_row, alt_row = predict_records(
        model, tokenizer, [Record(record.id, sequence), Record(f"{record.id} {position}{ref}>{alt}", mutated)]
    )
    if ref_row.error:  # as `explain` says it
        raise gr.Error(f"record {record.id}: {ref_row.error}")
    if alt_row.error:
        raise gr.Error(f"record {record.id} with {alt} at {position}: {alt_row.error}")
    return VariantEffect(record.id, position, ref, alt, ref_row, alt_row)


def checked_position(position, record_id: str, length: int) -> int:
    """`position` as a whole number from 1 to `length`, or a gr.Error that says which positions there are."""
    if position is None or str(position).strip() == "":
        raise gr.Error("give the position of the variant (1-based)")
    try:
        number = float(position)
        whole = number == int(number)
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not 1 <= number <= length:
        raise gr.Error(
            f"position {position}: record {record_id} has {length} bp; give a whole number from 1 to {length}"
        )
    return int(number)


def variant(records: list[Record] | None, index: int | None, position, alt: str | None) -> str:
    """The picked record's variant, scored: a one-row table of ref and alt probability and delta (alt - ref)."""
    effect = variant_effect(picked(records, index), position, alt)
    name = effect.id.replace("|", "\\|")
    calls = f"{effect.ref_row.label} → {effect.alt_row.label}"
    return (
        "| record | variant | ref probability | alt probability | delta (alt − ref) | call |\n"
        "|---|---|---|---|---|---|\n"
        f"| {name} | {effect.position} {effect.ref} → {effect.alt} | {effect.ref_row.probability:.6f} |"
        f" {effect.alt_row.probability:.6f} | {effect.delta:+.6f} | {calls} |"
    )


def build_demo() -> gr.Blocks:
    header = table_headers()  # loading here, not at the first click: the Space starts ready
    predictor("layer2")
    with gr.Blocks(title="iEnhancer-ELM", analytics_enabled=False) as demo:
        gr.HTML(f"<style>{TABLE_CSS}</style>")
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
        table = gr.Dataframe(
            label="Predictions",
            headers=header,
            datatype="str",
            interactive=False,
            wrap=True,
            column_widths=column_widths(header),
            elem_id="predictions",
        )
        download = gr.File(label="predictions.tsv")
        gr.Markdown(
            "### One sequence: attention (`ienhancer-elm explain`) and attributions (`ienhancer-elm attribute`)"
        )
        with gr.Row():
            chosen = gr.Dropdown(label="Sequence", choices=[], scale=3)
            draw = gr.Button("Explain", scale=1)
        plot = gr.Image(label="[CLS] attention of each member's last layer", type="filepath", height=480)
        logo = gr.Image(label="Attribution logo: what each base adds to the ensemble's log-odds", type="filepath")
        logo_note = gr.Markdown()
        gr.Markdown(
            "### A variant of this sequence\n"
            "One base of the picked sequence changed: the table's layer-1 model scores both sequences as `predict`"
            " does; `delta` is alt − ref."
        )
        with gr.Row():
            position = gr.Number(label="Position (1-based)", precision=0)
            base = gr.Textbox(label="Alternative base (A, C, G or T)", max_lines=1)
            score = gr.Button("Score the variant")
        effect = gr.Markdown()
        run.click(predict, [text, upload], [table, download, status, records, chosen], api_name="predict")
        draw.click(explain, [records, chosen], [plot, logo, logo_note], api_name="explain")
        score.click(variant, [records, chosen, position, base], [effect], api_name="variant")
    return demo


if __name__ == "__main__":
    keep_freed_memory()  # as the CLI does: faster batches on CPUs
    build_demo().launch(max_file_size=MAX_INPUT_BYTES)
