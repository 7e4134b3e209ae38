"""One validation for every entry point: `predict`, the tokenizer under `AutoModel`, and `pipeline` refuse the
same inputs with the same message, warn on the same short ones, and give the same probability."""

import json

import pytest

from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import Record, reverse_complement

from conftest import TINY, run_python

GOOD = "ACGTTGCAGGATTACA" * 12
BAD = {
    "all_n": ("N" * 200, "no 3 unambiguous bases (A, C, G, T) in a row: the k=3 member would read only [UNK]"),
    "rna": ("ACGU" * 50, "invalid character 'U' at position 4 (RNA? the models read DNA: write T for U)"),
    "n_every_third": ("ACN" * 70, "no 3 unambiguous bases (A, C, G, T) in a row"),
    "letter": ("ACGTXACGT" * 20, "invalid character 'X' at position 5"),
    "too_short": ("ACG", "sequence of 3 bp is shorter than k=4"),
}

ENTRY_POINTS = """
import json, warnings, torch
from transformers import AutoModel, AutoTokenizer, pipeline
folder, cases, good = {folder!r}, {cases!r}, {good!r}
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
classifier = pipeline("text-classification", model=folder, trust_remote_code=True)
result = {{"automodel": {{}}, "pipeline": {{}}}}
for name, sequence in cases.items():
    for entry, call in (("automodel", lambda s: model(**tokenizer(s, return_tensors="pt"))), ("pipeline", classifier)):
        try:
            call(sequence)
            result[entry][name] = None
        except ValueError as error:
            result[entry][name] = str(error)
with torch.no_grad():
    result["probability"] = model(**tokenizer(good, return_tensors="pt")).probabilities.item()
result["pipeline_scores"] = classifier(good, top_k=None)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    classifier("ACGT" * 10)
result["short_warning"] = [str(w.message) for w in caught if "shorter than 100 bp" in str(w.message)]
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def python_api(tmp_path_factory):
    cases = {name: sequence for name, (sequence, _) in BAD.items()}
    code = ENTRY_POINTS.format(folder=str(TINY), cases=cases, good=GOOD)
    return json.loads(run_python(code, tmp_path_factory.mktemp("api")).splitlines()[-1])


@pytest.fixture(scope="module")
def predicted():
    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    records = [Record(name, sequence) for name, (sequence, _) in BAD.items()] + [Record("good", GOOD)]
    records.append(Record("short", "ACGT" * 10))
    return {row.id: row for row in predict_records(model, tokenizer, records, precision="fp32")}


@pytest.mark.parametrize("name", list(BAD))
def test_every_entry_point_refuses_a_bad_sequence_with_the_same_message(name, python_api, predicted):
    message = BAD[name][1]
    assert message in predicted[name].error
    assert message in python_api["automodel"][name]
    assert message in python_api["pipeline"][name]


def test_the_probability_is_the_same_number_everywhere(python_api, predicted):
    assert predicted["good"].probability == pytest.approx(python_api["probability"], abs=1e-6)
    scores = {row["label"]: row["score"] for row in python_api["pipeline_scores"]}
    assert scores["enhancer"] == pytest.approx(predicted["good"].probability, abs=1e-6)
    assert predicted["good"].label == max(scores, key=scores.get)


def test_every_entry_point_warns_about_a_short_sequence(python_api, predicted):
    assert "40 bp is shorter than 100 bp" in predicted["short"].warning
    assert python_api["short_warning"] and "40 bp is shorter than 100 bp" in python_api["short_warning"][0]
    assert predicted["short"].probability is not None  # a warning, not a refusal


def test_a_non_string_record_gets_an_error_row_and_the_others_are_scored():
    model, tokenizer = load_model(TINY, "cpu", precision="fp32")
    rows = list(predict_records(model, tokenizer, [Record("n", 12345), Record("ok", GOOD)], precision="fp32"))
    assert rows[0].error == "expected a DNA string, got int" and rows[0].probability is None
    assert rows[1].error is None and rows[1].probability is not None


def test_reverse_complement_keeps_case_and_ambiguity_codes():
    assert reverse_complement("acgt") == "acgt"
    assert reverse_complement("AACGN") == "NCGTT"
    assert reverse_complement("ACGTRYKM") == "KMRYACGT"


HUB_FILES_ALONE = """
import builtins, json, sys
real_import = builtins.__import__
def no_package(name, *args, **kwargs):
    if name == "ienhancer_elm" or name.startswith("ienhancer_elm."):
        raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
    return real_import(name, *args, **kwargs)
builtins.__import__ = no_package
from transformers import pipeline
classifier = pipeline("text-classification", model={folder!r}, trust_remote_code=True)
assert "ienhancer_elm" not in sys.modules
print(json.dumps(classifier({good!r})))
"""


def test_the_hub_files_work_with_the_package_blocked(tmp_path):
    output = run_python(HUB_FILES_ALONE.format(folder=str(TINY), good=GOOD), tmp_path)
    assert json.loads(output.splitlines()[-1])[0]["label"] in {"enhancer", "non-enhancer"}
