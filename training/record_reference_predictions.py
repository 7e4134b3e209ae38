"""Store the shipped models' fp32 predictions on the example sequences (200 bp ones and NHLF's 1 kb ones, read
in windows), for the regression test.

python training/record_reference_predictions.py      # writes tests/data/shipped_predictions.json

Run it once when new weights ship; the test then guards them against silent changes in the libraries.
"""

import json
from pathlib import Path

from ienhancer_elm.paths import SHIPPED_MODELS, shipped_model_path
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import read_records

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "tests" / "data" / "shipped_predictions.json"
EXAMPLES = ("sample.fasta", "nhlf_sample.fasta")


def main():
    records = [record for name in EXAMPLES for record in read_records(str(REPO / "examples" / name))]
    reference = {"sequences": {r.id: r.sequence for r in records}, "models": {}}
    for layer in SHIPPED_MODELS:
        model, tokenizer = load_model(shipped_model_path(layer), "cpu")
        rows = predict_records(model, tokenizer, records, precision="fp32")
        reference["models"][layer] = {row.id: {"probability": row.probability, "label": row.label} for row in rows}
    OUTPUT.write_text(json.dumps(reference, indent=2) + "\n")
    print(OUTPUT)


if __name__ == "__main__":
    main()
