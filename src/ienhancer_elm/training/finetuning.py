"""Fine-tuning one k-mer member with stratified k-fold cross-validation, then a refit on all training data.

Per fold the member trains on the other folds and is validated on its own fold after every epoch;
the epoch with the best validation AUC-ROC is kept (early stopping with `patience`), and its
predictions on the fold are the out-of-fold predictions. Refit policy (`refit=True`): the member is
trained again on the whole training split for the median of the folds' best epoch counts, and that
model ships. With `refit=False` the best fold model ships as it is; with `only_fold` as well this is
a single hold-out split, the cheap recipe for small machines. `refit_epochs` runs the refit alone, for an
epoch count an earlier fold run chose. `summary.json` names the shipped member.
The test split is read only to keep its sequences out of extra negatives (`extra_negatives`).
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from torch.utils.data import DataLoader

from ..evaluation import CLASS_NAMES, load_split
from ..hub_export import WINDOWED_MODEL_MAX_LENGTH
from ..metrics import gc_matched_auc
from ..models import IEnhancerELMConfig, IEnhancerELMForSequenceClassification, KmerTokenizer
from ..sequences import reverse_complement
from .arguments import MemberSize, RunSettings
from .gc_offset import GCOffsetMember, fit_gc_log_odds, gc_shares
from .loop import finish, hardware, make_accelerator, train
from .negatives import GCBalancedSampler, benchmark_sequences, dinucleotide_shuffles, fasta_windows


@dataclass(kw_only=True)
class FinetuneArguments(MemberSize, RunSettings):
    output_dir: str = field(metadata={"help": "folder for folds, out-of-fold predictions and the final member"})
    k: int = field(default=3, metadata={"help": "k-mer size of the member"})
    config: str = field(
        default="layer1",
        metadata={
            "help": "the dataset's config: layer1, layer2, enhancer_if_nhlf, or one `ienhancer-elm dataset` built"
        },
    )
    dataset: str = field(
        default="hub_configs/datasets/ienhancer-benchmarks", metadata={"help": "dataset folder or Hub id"}
    )
    init: str = field(
        default="scratch",
        metadata={
            "help": "'scratch', a DNABERT-layout checkpoint (Hub id or folder), or an ensemble (folder or Hub id; a shipped "
            "model, say), whose member of this k starts the run: its encoder and its head"
        },
    )
    init_head: str = field(
        default="",
        metadata={
            "help": "an ensemble folder whose member of this k gives the head its starting weights (with --init "
            "its encoder): a fresh head on features of norm in the tens starts with its Tanh units saturated. A head "
            "refitted on standardised features (training/heads.py) needs head_dropout 0: dropout on the raw features "
            "undoes the standardisation folded into its first layer"
        },
    )
    hidden_dropout_prob: float = 0.1
    head_dropout: float = 0.3
    folds: int = 5
    only_fold: int = field(default=-1, metadata={"help": "run just this fold (0-based); -1: every fold"})
    refit: bool = field(
        default=True,
        metadata={
            "help": "after all folds, retrain on all training data and ship that; false: ship the best fold model"
        },
    )
    refit_epochs: int = field(
        default=0,
        metadata={
            "help": "skip cross-validation and retrain on the whole training split for this many epochs, a count "
            "chosen beforehand on held-out folds (a fold run's best epoch + 1); 0: run the folds"
        },
    )
    reverse_complement_augmentation: bool = False
    random_crop: int = field(
        default=0,
        metadata={"help": "train on sub-windows: up to this many bases trimmed from the two ends, drawn per batch"},
    )
    window_bp: int = field(
        default=0,
        metadata={
            "help": "for sequences longer than the members should read (Enhancer-IF): the member reads sequences "
            "longer than this in windows of this many bases (IEnhancerELMConfig.window_bp); 0: every sequence whole"
        },
    )
    window_stride_bp: int = field(default=0, metadata={"help": "the step between windows; 0: half a window"})
    window_combination: str = field(
        default="probability", metadata={"help": "probability or states: how the windows' outputs are combined"}
    )
    window_training: str = field(
        default="whole",
        metadata={
            "help": "whole: train on whole sequences read in windows, the loss on the combined output; random: on "
            "one random window of each sequence per batch, labelled with its sequence's label"
        },
    )
    extra_negatives: list[str] = field(
        default_factory=list,
        metadata={
            "help": "FASTA files (plain genome, say): their N-free 200 bp windows join the training rows as extra "
            "negatives (never the validation fold); windows holding a sequence of the benchmark config (either split, "
            "either strand) are left out"
        },
    )
    extra_negatives_per_sequence: float = field(
        default=1.0, metadata={"help": "windows drawn per training sequence, with --extra_negatives"}
    )
    shuffled_negatives: int = field(
        default=0,
        metadata={
            "help": "this many dinucleotide shuffles of each training positive join the training rows as negatives "
            "(never the validation fold): same composition, no motifs, so the member must learn more than composition"
        },
    )
    gc_offset: bool = field(
        default=False,
        metadata={
            "help": "add to the member's log-odds, fixed, those of a logistic regression on GC share fitted on the "
            "training rows (ienhancer_elm.training.gc_offset): the member must learn what GC share does not explain"
        },
    )
    gc_balanced_sampling: bool = field(
        default=False,
        metadata={
            "help": "draw the training rows so that in every GC bin of 0.02 the two classes come equally often "
            "(negatives.GCBalancedSampler): GC share alone then earns the member nothing"
        },
    )
    eval_batch_size: int = 64
    patience: int = 5


def label_names(args: FinetuneArguments) -> list[str]:
    """The config's label names: the benchmark's, or those its `label` column carries (a dataset of one's own)."""
    if args.config in CLASS_NAMES:
        return CLASS_NAMES[args.config]
    return load_split(args.dataset, args.config, "train").features["label"].names


def new_member(args: FinetuneArguments) -> IEnhancerELMForSequenceClassification:
    labels = label_names(args)
    windows = {}
    if args.window_bp:
        stride = args.window_stride_bp or args.window_bp // 2
        windows = dict(window_bp=args.window_bp, window_stride_bp=stride, window_combination=args.window_combination)
    if args.init != "scratch":
        if is_ensemble(args.init):
            member = ensemble_member(args, labels, windows)
        else:
            member = IEnhancerELMForSequenceClassification.from_members(
                {args.k: args.init}, labels=labels, head_dropout=args.head_dropout, **windows
            )
        if args.init_head:
            donor = IEnhancerELMForSequenceClassification.from_pretrained(args.init_head)
            member.member(args.k).head.load_state_dict(donor.member(args.k).head.state_dict())
        return member
    size = {
        name: getattr(args, name)
        for name in (
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "hidden_dropout_prob",
        )
    }
    size["attention_probs_dropout_prob"] = args.hidden_dropout_prob
    config = IEnhancerELMConfig(
        kmers=[args.k], member_configs={str(args.k): size}, labels=labels, head_dropout=args.head_dropout, **windows
    )
    return IEnhancerELMForSequenceClassification(config)


def is_ensemble(init: str) -> bool:
    """Whether `init` (a folder or a Hub id) holds an ensemble of this package rather than a DNABERT checkpoint."""
    from transformers import PretrainedConfig

    try:
        found, _ = PretrainedConfig.get_config_dict(init)
    except OSError:  # no config.json there: from_members says what is missing
        return False
    return found.get("model_type") == IEnhancerELMConfig.model_type


def ensemble_member(args: FinetuneArguments, labels, windows: dict) -> IEnhancerELMForSequenceClassification:
    """A one-member model holding the k-member of the ensemble `args.init` (folder or Hub id) as it is, encoder and head (a head
    refitted on standardised features wants `head_dropout` 0); the ensemble's spectrum member, threshold and
    calibration stay behind."""
    donor = IEnhancerELMForSequenceClassification.from_pretrained(args.init)
    if args.k not in donor.config.kmers:
        raise ValueError(f"{args.init} has no k={args.k} member (it has k = {donor.config.kmers})")
    config = IEnhancerELMConfig(
        kmers=[args.k],
        member_configs={str(args.k): donor.config.member_configs[str(args.k)]},
        labels=labels,
        head_hidden_size=donor.config.head_hidden_size,
        head_dropout=args.head_dropout,
        **windows,
    )
    member = IEnhancerELMForSequenceClassification(config)
    member.member(args.k).load_state_dict(donor.member(args.k).state_dict())
    return member


class EncodedSequences(torch.utils.data.Dataset):
    """Pre-encoded k-mer ids and labels; batches are padded by the tokenizer's `collate`, after an optional crop
    of the ends (`random_crop`) or to one random window (`window_bp`). `gc` holds each whole sequence's GC share;
    with `with_gc` batches carry it (for `GCOffsetMember`)."""

    def __init__(self, tokenizer: KmerTokenizer, sequences, labels, random_crop=0, window_bp=0, with_gc=False):
        self.tokenizer, self.random_crop, self.window_bp = tokenizer, random_crop, window_bp
        self.items = [tokenizer.encode_sequence(s) for s in sequences]
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        self.gc, self.with_gc = gc_shares(sequences), with_gc

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return index

    def collate(self, indices):
        items = [self.items[i] for i in indices]
        if self.random_crop:
            items = [crop_ends(item, *random_ends(self.random_crop)) for item in items]
        if self.window_bp:
            items = [crop_ends(item, *random_window(item, self.window_bp)) for item in items]
        batch = self.tokenizer.collate(items)
        batch["labels"] = self.labels[indices]
        if self.with_gc:
            batch["gc"] = self.gc[indices]
        return batch


def random_ends(most: int) -> tuple[int, int]:
    """Bases to trim at the left and right end, together at most `most`; torch's global generator, which
    checkpoints save, so a resumed run crops as an uninterrupted one would."""
    trim = int(torch.randint(0, most + 1, ()))
    left = int(torch.randint(0, trim + 1, ()))
    return left, trim - left


def random_window_bp(args: FinetuneArguments) -> int:
    """The window to crop training sequences to (0: none; with "whole" the model reads them in windows)."""
    if args.window_training not in ("whole", "random"):
        raise ValueError(f"window_training must be whole or random, got {args.window_training!r}")
    return args.window_bp if args.window_training == "random" else 0


def random_window(item: dict[int, torch.Tensor], window: int) -> tuple[int, int]:
    """Bases to trim at the two ends so that a random `window` of the sequence remains (all of it when shorter);
    torch's global generator, as `random_ends`."""
    k, ids = next(iter(item.items()))
    extra = max(0, len(ids) - 2 + k - 1 - window)
    left = int(torch.randint(0, extra + 1, ()))
    return left, extra - left


def crop_ends(item: dict[int, torch.Tensor], left: int, right: int) -> dict[int, torch.Tensor]:
    """The ids of the sequence without `left` and `right` end bases: one k-mer token less per base, any k."""
    return {k: torch.cat([ids[:1], ids[1 + left : len(ids) - 1 - right], ids[-1:]]) for k, ids in item.items()}


def with_extra_negatives(args: FinetuneArguments, sequences, labels):
    """The training rows plus windows of `args.extra_negatives` labelled 0 (`negatives.fasta_windows`), drawn
    without replacement with the run's seed, and `args.shuffled_negatives` shuffles of each positive; the same
    rows in every epoch."""
    sequences, labels = list(sequences), np.asarray(labels)
    count = round(args.extra_negatives_per_sequence * len(sequences))
    if args.shuffled_negatives:
        if label_names(args)[0] != "non-enhancer":  # layer 2's label 0 is a weak enhancer, not a negative
            raise ValueError(f"--shuffled_negatives needs a config whose label 0 is non-enhancer, not {args.config}")
        positives = [s for s, label in zip(sequences, labels) if label == 1]
        shuffles = dinucleotide_shuffles(positives, args.shuffled_negatives, args.seed)
        sequences, labels = sequences + shuffles, np.concatenate([labels, np.zeros(len(shuffles), labels.dtype)])
    if not args.extra_negatives:
        return sequences, labels
    pool = fasta_windows(args.extra_negatives, benchmark_sequences(args.dataset, args.config))[0]
    if count > len(pool):
        raise ValueError(f"{count} extra negatives asked for, but the FASTA files hold only {len(pool)} windows")
    picked = np.random.default_rng(args.seed).choice(len(pool), size=count, replace=False)
    negatives = [pool[i] for i in sorted(picked)]
    return sequences + negatives, np.concatenate([labels, np.zeros(count, dtype=labels.dtype)])


def with_reverse_complements(sequences, labels):
    return list(sequences) + [reverse_complement(s) for s in sequences], np.concatenate([labels, labels])


@torch.inference_mode()
def member_probabilities(model, dataset: EncodedSequences, batch_size: int, device) -> np.ndarray:
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=dataset.collate)
    chunks = []
    for batch in loader:
        batch.pop("labels")
        chunks.append(model(**{key: value.to(device) for key, value in batch.items()}).probabilities.float().cpu())
    model.train()
    return torch.cat(chunks).numpy()


def run_fold(args, accelerator, tokenizer, sequences, labels, ids, train_index, valid_index, fold_dir: Path) -> int:
    """Train on `train_index`, select the epoch on `valid_index`; write the best member and its predictions."""
    fold_dir.mkdir(parents=True, exist_ok=True)
    train_sequences, train_labels = with_extra_negatives(args, [sequences[i] for i in train_index], labels[train_index])
    if args.reverse_complement_augmentation:
        train_sequences, train_labels = with_reverse_complements(train_sequences, train_labels)
    crop = (args.random_crop, random_window_bp(args))
    train_set = EncodedSequences(tokenizer, train_sequences, train_labels, *crop, with_gc=args.gc_offset)
    valid_set = EncodedSequences(
        tokenizer, [sequences[i] for i in valid_index], labels[valid_index], with_gc=args.gc_offset
    )
    loader = training_loader(args, train_set)
    latest = {}

    def end_of_epoch(model, epoch):
        latest["p"] = member_probabilities(model, valid_set, args.eval_batch_size, accelerator.device)
        auc = roc_auc_score(valid_set.labels.numpy(), latest["p"])
        # logged, never chosen on: what the member knows beyond GC share, epoch by epoch (issue 33)
        gc_matched = gc_matched_auc(valid_set.labels.numpy(), latest["p"], valid_set.gc.numpy())
        gc_matched = None if np.isnan(gc_matched) else gc_matched  # no GC-matched pair in the fold: JSON null
        return {"valid_auc": auc, "valid_gc_matched_auc": gc_matched, "selection": auc}

    def on_improvement(model):
        model.save_pretrained(fold_dir / "best")
        tokenizer.save_pretrained(fold_dir / "best")
        write_predictions(
            fold_dir / "validation_predictions.tsv", [ids[i] for i in valid_index], labels[valid_index], latest["p"]
        )

    torch.manual_seed(args.seed)
    model = new_trainee(args, train_set)
    return train(accelerator, model, loader, args.loop_settings(), fold_dir, end_of_epoch, on_improvement)


def training_loader(args: FinetuneArguments, train_set: EncodedSequences) -> DataLoader:
    """Shuffled batches of the training rows, or GC-balanced draws of them (`args.gc_balanced_sampling`)."""
    if not args.gc_balanced_sampling:
        return DataLoader(train_set, batch_size=args.batch_size, shuffle=True, collate_fn=train_set.collate)
    sampler = GCBalancedSampler(train_set.gc.numpy(), train_set.labels.numpy(), args.seed)
    never = int((sampler.weights == 0).sum())
    print(
        f"GC-balanced sampling: {never} of {len(train_set)} training rows lie in GC bins of one class and are never "
        f"drawn; the largest weight is {float(sampler.weights.max()):.1f}"
    )
    return DataLoader(train_set, batch_size=args.batch_size, sampler=sampler, collate_fn=train_set.collate)


def new_trainee(args: FinetuneArguments, train_set: EncodedSequences):
    """A new member, wrapped with the GC offset of its training rows when `args.gc_offset`."""
    member = new_member(args)
    if not args.gc_offset:
        return member
    return GCOffsetMember(member, *fit_gc_log_odds(train_set.gc.numpy(), train_set.labels.numpy()))


def refit(args, accelerator, tokenizer, sequences, labels, epochs: int, out_dir: Path) -> None:
    """Train on the whole training split for `epochs` epochs, without looking at any held-out data."""
    sequences, labels = with_extra_negatives(args, sequences, labels)
    if args.reverse_complement_augmentation:
        sequences, labels = with_reverse_complements(sequences, labels)
    crop = (args.random_crop, random_window_bp(args))
    train_set = EncodedSequences(tokenizer, sequences, labels, *crop, with_gc=args.gc_offset)
    loader = training_loader(args, train_set)
    torch.manual_seed(args.seed)
    model = new_trainee(args, train_set)
    train(accelerator, model, loader, args.loop_settings(epochs=epochs, patience=0), out_dir)
    if accelerator.is_main_process:
        model.save_pretrained(out_dir / "member")
        tokenizer.save_pretrained(out_dir / "member")


def write_predictions(path: Path, ids, labels, probabilities) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["id", "label", "probability"])
        writer.writerows(zip(ids, np.asarray(labels).tolist(), np.asarray(probabilities).tolist()))


def stratified_folds(labels, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, validation rows) of each fold, as fine-tuning splits the training split."""
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))


def check_gc_options(args: FinetuneArguments) -> None:
    """Refuse, before any data is read, the GC options that cannot go together."""
    if args.gc_offset and args.gc_balanced_sampling:
        raise ValueError(
            "--gc_offset and --gc_balanced_sampling exclude each other: the offset is fitted on rows as they are, "
            "while the sampler draws rows among which GC share tells nothing"
        )
    if args.gc_offset and args.window_bp:
        raise ValueError("--gc_offset needs a member that reads its sequences whole (no --window_bp)")


def finetune(args: FinetuneArguments) -> dict:
    check_gc_options(args)
    accelerator = make_accelerator(args.seed, args.mixed_precision, args.cpu)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "arguments.json").write_text(json.dumps(asdict(args), indent=2) + "\n")
    train_split = load_split(args.dataset, args.config, "train")
    ids, sequences, labels = train_split["id"], train_split["sequence"], np.asarray(train_split["label"])
    # a member that reads in windows takes long sequences whole from its tokenizer
    tokenizer = KmerTokenizer(kmers=(args.k,), model_max_length=WINDOWED_MODEL_MAX_LENGTH if args.window_bp else 512)
    if args.refit_epochs:
        refit(args, accelerator, tokenizer, sequences, labels, args.refit_epochs, out / "refit")
        summary = {"hardware": hardware(accelerator), "refit_epochs": args.refit_epochs, "member": "refit/member"}
        if accelerator.is_main_process:
            (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        finish(accelerator)
        return summary
    folds = {}
    for fold, (train_index, valid_index) in enumerate(stratified_folds(labels, args.folds, args.seed)):
        if args.only_fold in (-1, fold):
            folds[fold] = run_fold(
                args, accelerator, tokenizer, sequences, labels, ids, train_index, valid_index, out / f"fold{fold}"
            )
    summary = {
        "hardware": hardware(accelerator),
        "best_epochs": {fold: progress.best_epoch for fold, progress in folds.items()},
        "best_valid_auc": {fold: progress.best_value for fold, progress in folds.items()},
    }
    if args.stop_after_steps:
        pass
    elif args.refit and args.only_fold == -1:
        summary["refit_epochs"] = int(statistics.median(e + 1 for e in summary["best_epochs"].values()))
        refit(args, accelerator, tokenizer, sequences, labels, summary["refit_epochs"], out / "refit")
        summary["member"] = "refit/member"
    else:
        best_fold = max(folds, key=lambda fold: folds[fold].best_value)
        summary["member"] = f"fold{best_fold}/best"
    if accelerator.is_main_process:
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    finish(accelerator)
    return summary
