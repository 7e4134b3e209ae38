"""A Hub user, in a fresh interpreter where ienhancer_elm cannot be imported: loads each model folder named in the
jobs file (sys.argv[1]) with trust_remote_code and prints, as the last line, one JSON object of what it found.

Not a test module: tests/integration/conftest.py (fixture `remote_code`) runs it once per session.
"""

import builtins
import json
import sys
import warnings

real_import = builtins.__import__


def no_package(name, *args, **kwargs):
    if name == "ienhancer_elm" or name.startswith("ienhancer_elm."):
        raise ModuleNotFoundError(f"No module named {name!r} (blocked: the Hub files must stand alone)")
    return real_import(name, *args, **kwargs)


builtins.__import__ = no_package

import torch  # noqa: E402
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline  # noqa: E402


def refusal(call, sequence):
    """The ValueError's message, or None when the call went through."""
    try:
        call(sequence)
    except ValueError as error:
        return str(error)
    return None


def use(job: dict) -> dict:
    folder, sequences = job["folder"], job["sequences"]
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    found = {"module": type(model).__module__, "spectrum": type(getattr(model, "spectrum", None)).__name__}
    with torch.no_grad():
        output = model(**tokenizer(sequences, padding=True, return_tensors="pt"))
    found |= {"logits": output.logits.tolist(), "probabilities": output.probabilities.tolist()}
    if job.get("classifier"):
        classifier = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)
        found["classifier_is_automodel_class"] = type(classifier) is type(model)
    if job.get("pipeline"):
        classify = pipeline("text-classification", model=folder, trust_remote_code=True)
        found["one_by_one"] = classify(sequences)
        found["batched"] = classify(sequences, batch_size=len(sequences))
        found["all_scores"] = classify(sequences, top_k=None)
        found["refused"] = {
            name: {
                "automodel": refusal(lambda s: model(**tokenizer(s, return_tensors="pt")), sequence),
                "pipeline": refusal(classify, sequence),
            }
            for name, sequence in job.get("refused", {}).items()
        }
        if job.get("short"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                classify(job["short"])
            found["short_warnings"] = [str(w.message) for w in caught if "shorter than 100 bp" in str(w.message)]
    return found


jobs = json.load(open(sys.argv[1]))
found = {name: use(job) for name, job in jobs.items()}
process = {"ienhancer_elm_imported": any(name.split(".")[0] == "ienhancer_elm" for name in sys.modules)}
print(json.dumps({"jobs": found, "process": process}))
