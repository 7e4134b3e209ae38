"""Does a layer-1 model tell enhancers from ordinary genome (issue 16, item 4)? Two held-out measures and the
rule by which a model trained with genome negatives would ship; the library of this folder's two comparisons
(genome_negative_heads.py, genome_negative_members.py).

(a) held-out training enhancers against windows of the genome piece kept out of every fitting step (AUC);
(b) the usual held-out layer-1 fold (AUC). A genome-aware model ships if it gains at least 0.02 on (a) and
loses at most 0.01 on (b). Differences come with paired 95% bootstrap intervals (enhancers and non-enhancers
resampled apart); on (a) the genome side is resampled by contig, since a contig's windows share its composition.
Each member's pair of fine-tunes is scored as it is done (a pair takes one to two hours on 2 CPU cores), so its
held-out scores are saved, and the rule is applied to the soft vote of all four once all are saved.

    python experiments/genome_negatives/genome_check.py   # the pieces the members train on, held-out one refused
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from ienhancer_elm.files import sha256_of

HELD_OUT_GENOME = "data/genome/grch38_chr21_contigs.fa.gz"
CALIBRATION_PIECES = (
    "data/genome/hg38_chr2_1-2333275.fa.gz",
    "data/genome/hg19_chr22_1-22000000.fa.gz",
    "data/genome/hg38_chr1_excerpt.fa.gz",
)
MIN_GAIN_ON_GENOME = 0.02
MAX_LOSS_ON_FOLD = 0.01
RULE = "ship if the gain on (a) is at least 0.02 and the loss on (b) at most 0.01"
TOLERANCE = 1e-9  # a difference of AUCs meant to sit on a bound should not miss it by rounding
ALL_MEMBERS = (3, 4, 5, 6)
MEMBER_SCORES = Path("experiments/genome_negatives/genome-negative-members")
PLAIN, WITH_GENOME = "as shipped (benchmark negatives)", "with genome negatives"
TIMINGS = ("epoch_seconds", "pretraining_seconds", "pretraining_hardware")  # from the runs' logs, where kept
# finetune.py's options for extra negatives -> the names the member records give them: the records were saved
# by runs made before the options were renamed from these very names, and keep them
NEGATIVES = {"extra_negatives": "genome_negatives", "extra_negatives_per_sequence": "genome_negatives_per_sequence"}
# what may differ between a member's two fine-tunes (under either name); anything else would make the comparison unfair
ARMS_DIFFER_IN = {"output_dir", *NEGATIVES, *NEGATIVES.values()}


def refuse_held_out_genome(paths) -> None:
    held_out = Path(HELD_OUT_GENOME).name
    if any(Path(path).name == held_out for path in paths):
        raise ValueError(f"{held_out} is the genome piece kept out of every fitting step; train on another piece")


def training_pieces(paths=CALIBRATION_PIECES) -> tuple[str, ...]:
    """The genome pieces the members are fine-tuned on as negatives: never the held-out one (finetune.py takes
    any FASTA, so the refusal is this experiment's)."""
    refuse_held_out_genome(paths)
    return tuple(paths)


def recorded_negatives(arguments: dict) -> dict:
    """A fine-tune's extra negatives, from its arguments.json before or after the rename, as the records name them."""
    found = {recorded: arguments.get(option, arguments.get(recorded)) for option, recorded in NEGATIVES.items()}
    return found | {"genome_negatives": found["genome_negatives"] or []}


def genome_check(fold_labels, fold_scores, genome_scores) -> dict[str, float]:
    """(a) and (b) of one model, from its scores of the held-out fold and of the held-out genome's windows."""
    fold_labels, fold_scores = np.asarray(fold_labels), np.asarray(fold_scores, dtype=float)
    enhancers = fold_scores[fold_labels == 1]
    return {
        "held_out_fold_auc": _auc(enhancers, fold_scores[fold_labels == 0]),
        "enhancers_vs_held_out_genome_auc": _auc(enhancers, np.asarray(genome_scores, dtype=float)),
    }


def verdict(fold_labels, *, plain: tuple, with_genome: tuple, genome_groups=None, n_resamples=1000, seed=0) -> dict:
    """The rule applied to two models, each given as (fold scores, genome scores); `genome_groups` names each
    genome window's contig (default: every window its own)."""
    fold_labels = np.asarray(fold_labels)
    scores = [[np.asarray(side, dtype=float) for side in model] for model in (plain, with_genome)]
    enhancers = [model[0][fold_labels == 1] for model in scores]
    others = [model[0][fold_labels == 0] for model in scores]
    genome = [model[1] for model in scores]
    groups = _group_rows(np.arange(len(genome[0])) if genome_groups is None else genome_groups)

    def gain(e, g) -> float:
        return _auc(enhancers[1][e], genome[1][g]) - _auc(enhancers[0][e], genome[0][g])

    def loss(e, o) -> float:
        return _auc(enhancers[0][e], others[0][o]) - _auc(enhancers[1][e], others[1][o])

    rng = np.random.default_rng(seed)
    draws = [
        (
            gain(e, np.concatenate([groups[i] for i in _resample(len(groups), rng)])),
            loss(e, _resample(len(others[0]), rng)),
        )
        for e in (_resample(len(enhancers[0]), rng) for _ in range(n_resamples))
    ]
    everything = np.arange(len(enhancers[0])), np.arange(len(genome[0])), np.arange(len(others[0]))
    point_gain, point_loss = gain(everything[0], everything[1]), loss(everything[0], everything[2])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return {
        "rule": RULE,
        "gain_a": point_gain,
        "gain_a_ci95": [float(low[0]), float(high[0])],
        "loss_b": point_loss,
        "loss_b_ci95": [float(low[1]), float(high[1])],
        "ships": bool(point_gain >= MIN_GAIN_ON_GENOME - TOLERANCE and point_loss <= MAX_LOSS_ON_FOLD + TOLERANCE),
    }


def _resample(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, n, n)


def _group_rows(groups) -> list[np.ndarray]:
    """The rows of each group."""
    _, group_of = np.unique(np.asarray(groups), return_inverse=True)
    return [np.flatnonzero(group_of == g) for g in range(group_of.max() + 1)]


def _auc(enhancers: np.ndarray, others: np.ndarray) -> float:
    """AUC-ROC of enhancers against the rest, as the Mann-Whitney statistic (ties count half): what
    `roc_auc_score` gives, fast enough for thousands of resamples."""
    ranks = rankdata(np.r_[enhancers, others])
    n, m = len(enhancers), len(others)
    return float((ranks[:n].sum() - n * (n + 1) / 2) / (n * m))


def inputs_fingerprint(fold_sequences, genome_windows) -> str:
    """What a member's saved scores were scored on: members scored in different sessions are averaged only
    when their inputs agree, row for row."""
    return hashlib.sha256("\n".join([*fold_sequences, "", *genome_windows]).encode()).hexdigest()


def refuse_unlike_arms(k: int, plain_arguments: dict, with_genome_arguments: dict) -> None:
    """A member's two fine-tunes must differ in their genome negatives alone (a plain run left from another
    session may have been trained otherwise, in another precision say)."""
    names = (set(plain_arguments) | set(with_genome_arguments)) - ARMS_DIFFER_IN
    differ = sorted(name for name in names if plain_arguments.get(name) != with_genome_arguments.get(name))
    if differ:
        raise ValueError(f"k = {k}: the two fine-tunes differ in {', '.join(differ)}; train them alike")


def save_member_scores(k: int, fingerprint: str, variants: dict[str, dict], folder: Path = MEMBER_SCORES) -> Path:
    """One member's held-out scores in both variants (each: fold_scores, genome_scores and what the run was),
    so that members trained in different sessions, or on different machines, add up to one comparison."""

    def exact(scores) -> list[float]:  # 9 significant digits bring a float32 back unchanged
        return [float(f"{score:.9g}") for score in scores]

    record = {
        "k": k,
        "inputs_sha256": fingerprint,
        "variants": {
            name: found | {side: exact(found[side]) for side in ("fold_scores", "genome_scores")}
            for name, found in variants.items()
        },
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"k{k}.json"
    _replace(path, json.dumps(record) + "\n")
    return path


def add_to_member_record(k: int, found: dict[str, dict], folder: Path = MEMBER_SCORES) -> None:
    """Facts about a saved member's runs (its training times) merged into each variant of its record; the scores
    are left as they are."""
    path = folder / f"k{k}.json"
    record = json.loads(path.read_text())
    merged = {name: found_before | found.get(name, {}) for name, found_before in record["variants"].items()}
    if merged != record["variants"]:
        _replace(path, json.dumps(record | {"variants": merged}) + "\n")


def _replace(path: Path, text: str) -> None:
    """Write through a temporary file, so that a kill midway leaves the saved scores whole."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def checkpoint_sha256(folder) -> str:
    """One digest of every file of a saved checkpoint (weights, config, tokenizer), by relative path."""
    return sha256_of(folder)


def scores_up_to_date(k: int, fingerprint: str, checkpoints: dict[str, str], folder: Path = MEMBER_SCORES) -> bool:
    """Whether member k's saved scores came from these held-out inputs and these very checkpoints (variant ->
    checkpoint_sha256), so that scoring it again would give them back."""
    path = folder / f"k{k}.json"
    if not path.is_file():
        return False
    record = json.loads(path.read_text())
    return record["inputs_sha256"] == fingerprint and all(
        record["variants"].get(variant, {}).get("checkpoint_sha256") == digest
        for variant, digest in checkpoints.items()
    )


def load_member_scores(fingerprint: str, kmers=ALL_MEMBERS, folder: Path = MEMBER_SCORES) -> dict[int, dict]:
    """The saved records of these members, by k; a record scored on other inputs is refused, not averaged in."""
    records = {}
    for k in kmers:
        path = folder / f"k{k}.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        if record["inputs_sha256"] != fingerprint:
            raise ValueError(f"{path} was scored on other held-out rows or genome windows; score that member again")
        records[k] = record
    return records


def mean_of_members(records: dict[int, dict], variant: str) -> tuple[np.ndarray, np.ndarray]:
    """A variant's (fold scores, genome scores) as the soft vote of the members saved."""
    return tuple(
        np.mean([record["variants"][variant][side] for record in records.values()], axis=0)
        for side in ("fold_scores", "genome_scores")
    )


def compare_members(fold_labels, records: dict[int, dict], genome_groups=None, **bootstrap) -> dict:
    """(a) and (b) of each saved member and of their soft vote, in both variants, and the rule applied to the
    soft votes; the rule's `ships` is None (undecided) until all four members are saved, as it is about the
    model that would ship."""
    records = dict(sorted(records.items()))
    negatives = {
        json.dumps({key: record["variants"][WITH_GENOME][key] for key in sorted(NEGATIVES.values())})
        for record in records.values()
    }
    if len(negatives) > 1:
        raise ValueError(f"the members' genome negatives were drawn differently: {sorted(negatives)}")
    results, soft_votes = {}, {variant: mean_of_members(records, variant) for variant in (PLAIN, WITH_GENOME)}
    for variant, soft_vote in soft_votes.items():
        for k, record in records.items():
            found = record["variants"][variant]
            results.setdefault(variant, {})[f"k{k}"] = (
                genome_check(fold_labels, found["fold_scores"], found["genome_scores"])
                | {"best_epoch": found["best_epoch"], "hardware": found["hardware"]}
                | {key: found[key] for key in TIMINGS if key in found}
            )
        results[variant]["mean of the members"] = genome_check(fold_labels, *soft_vote)
    comparison = verdict(
        fold_labels,
        plain=soft_votes[PLAIN],
        with_genome=soft_votes[WITH_GENOME],
        genome_groups=genome_groups,
        **bootstrap,
    )
    decided = set(records) == set(ALL_MEMBERS)
    return (
        {"members": list(records), "decided": decided, **json.loads(negatives.pop()), "results": results}
        | comparison
        | {"ships": comparison["ships"] if decided else None}
    )


if __name__ == "__main__":  # genome_negative_members.sh reads the pieces here, so that it refuses the held-out one
    print(*training_pieces(sys.argv[1:] or CALIBRATION_PIECES))
