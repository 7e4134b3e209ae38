"""Layer-1 members fine-tuned with genome windows as extra negatives against the members fine-tuned as shipped
(issue 16, item 4), on held-out data: (a) fold 0's enhancers against windows of the chr21 contigs, the genome
piece kept out of every fitting step, and (b) fold 0 itself.

bash experiments/genome_negatives/genome_negative_members.sh [ACCELERATE_CONFIG] [--field value ...]  # fine-tunes
python experiments/genome_negatives/genome_negative_members.py [--device cuda]                         # comparison

Every member whose two runs are in runs/ is scored and its scores saved to
experiments/genome_negatives/genome-negative-members/k{k}.json, unless the saved scores came from these very checkpoints
and held-out inputs (--rescore scores them all again, after a change to the scoring code); the comparison then
reads every saved member, so that members trained in different sessions add up. The rule decides once all four
members are there; before that the report says `"ships": null`. Each set is scored as the mean of its members'
probabilities, both sets by this script with the same code, so that like is compared with like (no spectrum
member, no refitted heads).
Each member's epoch was chosen on fold 0, the fold (b) is measured on, in both sets alike, which flatters (b)
for both. The chr21 windows are those without N and without a benchmark sequence inside, as the training
negatives were chosen. Writes experiments/genome_negatives/genome-negative-members.json.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from genome_check import (  # this folder's library: Python puts a script's folder on sys.path
    ALL_MEMBERS,
    HELD_OUT_GENOME,
    PLAIN,
    WITH_GENOME,
    add_to_member_record,
    checkpoint_sha256,
    compare_members,
    inputs_fingerprint,
    load_member_scores,
    recorded_negatives,
    refuse_unlike_arms,
    save_member_scores,
    scores_up_to_date,
)

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.models import IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.runtime import pick_device
from ienhancer_elm.training.ensemble import logged_seconds
from ienhancer_elm.training.finetuning import EncodedSequences, member_probabilities
from ienhancer_elm.training.heads import shipped_held_out_fold
from ienhancer_elm.training.negatives import benchmark_sequences, fasta_windows

RUNS = {PLAIN: "training/configs/finetune_k{k}_layer1.json", WITH_GENOME: "runs/genome_negatives_k{k}_layer1"}
OUTPUT = Path("experiments/genome_negatives/genome-negative-members.json")


def run_folder(variant: str, k: int) -> Path:
    where = RUNS[variant].format(k=k)
    return Path(json.loads(Path(where).read_text())["output_dir"]) if where.endswith(".json") else Path(where)


def best_checkpoint(variant: str, k: int) -> Path:
    return run_folder(variant, k) / "fold0" / "best"


def trained(k: int) -> bool:
    return all(
        (run_folder(variant, k) / "summary.json").is_file() and (best_checkpoint(variant, k) / "config.json").is_file()
        for variant in RUNS
    )


def training_times(k: int) -> dict[str, dict]:
    """Both fine-tunes' epoch times and their pretraining's, from the runs' own logs (what is not there is left out)."""
    times = {}
    for variant in RUNS:
        run = run_folder(variant, k)
        init = json.loads((run / "arguments.json").read_text())["init"]
        pretraining = Path(init).parent  # runs/pretrain_k{k}, marked by its corpus.json
        found = {"epoch_seconds": logged_seconds(run / "fold0")}
        if init != "scratch" and (pretraining / "corpus.json").is_file():
            corpus = json.loads((pretraining / "corpus.json").read_text())
            found |= {"pretraining_seconds": sum(logged_seconds(pretraining) or []) or None}
            found |= {"pretraining_hardware": corpus.get("hardware")}
        times[variant] = {key: value for key, value in found.items() if value is not None}
    return times


def scores(checkpoint: Path, sequences: list[str], device) -> np.ndarray:
    member = IEnhancerELMForSequenceClassification.from_pretrained(checkpoint).to(device)
    tokenizer = KmerTokenizer.from_pretrained(checkpoint)
    encoded = EncodedSequences(tokenizer, sequences, np.zeros(len(sequences), dtype=int))
    return member_probabilities(member, encoded, 256, device)


def score_member(k: int, fold_sequences, genome_windows, checkpoints: dict[str, str], device) -> dict[str, dict]:
    runs = {variant: run_folder(variant, k) for variant in RUNS}
    arguments = {variant: json.loads((run / "arguments.json").read_text()) for variant, run in runs.items()}
    refuse_unlike_arms(k, arguments[PLAIN], arguments[WITH_GENOME])
    variants = {}
    for variant, run in runs.items():
        summary, checkpoint = json.loads((run / "summary.json").read_text()), best_checkpoint(variant, k)
        variants[variant] = {
            "run": str(run),
            "checkpoint_sha256": checkpoints[variant],
            "best_epoch": summary["best_epochs"]["0"],
            "hardware": summary["hardware"],
            **recorded_negatives(arguments[variant]),
            "fold_scores": scores(checkpoint, fold_sequences, device),
            "genome_scores": scores(checkpoint, genome_windows, device),
        }
    return variants


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, ... (default: the best there is)")
    parser.add_argument(
        "--rescore", action="store_true", help="score every trained member again (after the scoring code changed)"
    )
    arguments = parser.parse_args()
    device = pick_device(arguments.device)
    train = load_split(DEFAULT_DATASET, "layer1", "train")
    labels = np.asarray(train["label"])
    held_rows = shipped_held_out_fold(labels)[1]
    fold_labels, fold_sequences = labels[held_rows], [train["sequence"][i] for i in held_rows]
    # the windows the training negatives were drawn as (finetune.py --extra_negatives): no N, no benchmark sequence
    held_out_genome, contigs = fasta_windows([HELD_OUT_GENOME], benchmark_sequences(DEFAULT_DATASET, "layer1"))
    fingerprint = inputs_fingerprint(fold_sequences, held_out_genome)
    checkpoints = {
        k: {variant: checkpoint_sha256(best_checkpoint(variant, k)) for variant in RUNS}
        for k in ALL_MEMBERS
        if trained(k)
    }
    to_score = [k for k in checkpoints if arguments.rescore or not scores_up_to_date(k, fingerprint, checkpoints[k])]
    load_member_scores(fingerprint, [k for k in ALL_MEMBERS if k not in to_score])  # a stale record stops us here
    for k in to_score:
        print(f"k = {k}: scoring both fine-tunes")
        save_member_scores(k, fingerprint, score_member(k, fold_sequences, held_out_genome, checkpoints[k], device))
    for k in checkpoints:  # the runs are here: their logged times join the saved record, scored now or before
        add_to_member_record(k, training_times(k))
    members = load_member_scores(fingerprint)
    if not members:
        raise SystemExit(
            "no member has both fine-tunes yet: bash experiments/genome_negatives/genome_negative_members.sh first"
        )
    report = {
        "held_out_genome": HELD_OUT_GENOME,
        "held_out_genome_windows": len(held_out_genome),
        "held_out_genome_contigs": len(set(contigs)),
        "held_out_enhancers": int(fold_labels.sum()),
        "held_out_fold": len(held_rows),
        **compare_members(fold_labels, members, genome_groups=contigs),
        "command": "bash experiments/genome_negatives/genome_negative_members.sh; "
        "python experiments/genome_negatives/genome_negative_members.py",
    }
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({key: value for key, value in report.items() if key != "results"}, indent=2))


if __name__ == "__main__":
    main()
