"""Layer-1 members fine-tuned with genome windows as extra negatives against the members fine-tuned as shipped
(issue 16, item 4), on held-out data: (a) fold 0's enhancers against windows of the chr21 contigs, the genome
piece kept out of every fitting step, and (b) fold 0 itself.

bash training/genome_negative_members.sh [ACCELERATE_CONFIG]      # the fine-tunes
python training/genome_negative_members.py [--device cuda]        # this comparison
python training/genome_negative_members.py --kmers 3              # one member's pair, where only it was trained

Each set is scored as the mean of its members' probabilities, both sets by this script with the same code, so
that like is compared with like (no spectrum member, no refitted heads). Each member's epoch was chosen on
fold 0, the fold (b) is measured on, in both sets alike, which flatters (b) for both. The chr21 windows are
those without N and without a benchmark sequence inside, as the training negatives were chosen.
Writes results/experiments/genome-negative-members.json.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from ienhancer_elm.evaluation import load_split
from ienhancer_elm.models import IEnhancerELMForSequenceClassification, KmerTokenizer
from ienhancer_elm.paths import DEFAULT_DATASET
from ienhancer_elm.predict import pick_device
from ienhancer_elm.training.finetuning import EncodedSequences, member_probabilities
from ienhancer_elm.training.genome_check import (
    HELD_OUT_GENOME,
    benchmark_sequences,
    genome_check,
    ordinary_genome_windows,
    verdict,
)
from ienhancer_elm.training.heads import shipped_held_out_fold

RUNS = {
    "as shipped (benchmark negatives)": "training/configs/finetune_k{k}_layer1.json",
    "with genome negatives": "runs/genome_negatives_k{k}_layer1",
}
OUTPUT = Path("results/experiments/genome-negative-members.json")


def run_folder(variant: str, k: int) -> Path:
    where = RUNS[variant].format(k=k)
    return Path(json.loads(Path(where).read_text())["output_dir"]) if where.endswith(".json") else Path(where)


def scores(run: Path, sequences: list[str], device) -> np.ndarray:
    member = IEnhancerELMForSequenceClassification.from_pretrained(run / "fold0" / "best").to(device)
    tokenizer = KmerTokenizer.from_pretrained(run / "fold0" / "best")
    encoded = EncodedSequences(tokenizer, sequences, np.zeros(len(sequences), dtype=int))
    return member_probabilities(member, encoded, 256, device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, ... (default: the best there is)")
    parser.add_argument("--kmers", type=int, nargs="+", default=[3, 4, 5, 6], help="the members to compare")
    args = parser.parse_args()
    device, kmers = pick_device(args.device), args.kmers
    train = load_split(DEFAULT_DATASET, "layer1", "train")
    labels = np.asarray(train["label"])
    held_rows = shipped_held_out_fold(labels)[1]
    fold_labels, fold_sequences = labels[held_rows], [train["sequence"][i] for i in held_rows]
    benchmark = benchmark_sequences(DEFAULT_DATASET, "layer1")
    held_out_genome, contigs = ordinary_genome_windows([HELD_OUT_GENOME], benchmark)
    report, ensembles = {}, {}
    for variant in RUNS:
        members = {}
        for k in kmers:
            run = run_folder(variant, k)
            fold, genome = scores(run, fold_sequences, device), scores(run, held_out_genome, device)
            summary = json.loads((run / "summary.json").read_text())
            members[k] = (fold, genome)
            report.setdefault(variant, {})[f"k{k}"] = genome_check(fold_labels, fold, genome) | {
                "best_epoch": summary["best_epochs"]["0"],
                "hardware": summary["hardware"],
            }
        ensembles[variant] = tuple(np.mean([members[k][i] for k in kmers], axis=0) for i in (0, 1))
        report[variant]["mean of the members"] = genome_check(fold_labels, *ensembles[variant])
    arguments = json.loads((run_folder("with genome negatives", kmers[0]) / "arguments.json").read_text())
    out = {
        "members": kmers,
        "held_out_genome": HELD_OUT_GENOME,
        "held_out_genome_windows": len(held_out_genome),
        "held_out_genome_contigs": len(set(contigs)),
        "held_out_enhancers": int(fold_labels.sum()),
        "held_out_fold": len(held_rows),
        "genome_negatives": arguments["genome_negatives"],
        "genome_negatives_per_sequence": arguments["genome_negatives_per_sequence"],
        "results": report,
        **verdict(
            fold_labels,
            plain=ensembles["as shipped (benchmark negatives)"],
            with_genome=ensembles["with genome negatives"],
            genome_groups=contigs,
        ),
        "command": "bash training/genome_negative_members.sh; python training/genome_negative_members.py"
        + ("" if kmers == [3, 4, 5, 6] else " --kmers " + " ".join(map(str, kmers))),
    }
    OUTPUT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
