"""Masked-language-model pretraining of one k-mer member (an "enhancer language model").

Corpus: windows of FASTA records (both strands; windows with N skipped), minus every window that
overlaps an occurrence of a test-set sequence on either strand. With `validation_bp`, the tail of
every long record is held out, and the masked-LM loss on its windows is logged after each epoch, to
see whether longer pretraining on a small corpus still generalises. Masking follows DNABERT: whole
spans of k consecutive k-mer tokens, since a lone masked k-mer is given away by its overlapping
neighbours. The result is a DNABERT-layout folder (`config.json`, safetensors, `vocab.txt`) that
`IEnhancerELMForSequenceClassification.from_members` and fine-tuning take as `init`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from transformers import BertConfig, BertForMaskedLM

from ..configuration_ienhancer_elm import SPECIAL_TOKENS
from ..evaluation import load_split
from ..sequences import read_fasta, reverse_complement
from ..tokenization_ienhancer_elm import PAD_ID, KmerTokenizer
from .arguments import MemberSize, RunSettings
from .loop import finish, hardware, make_accelerator, train

MASK_ID = SPECIAL_TOKENS.index("[MASK]")
FIRST_KMER_ID = len(SPECIAL_TOKENS)


@dataclass(kw_only=True)
class PretrainArguments(MemberSize, RunSettings):
    output_dir: str = field(metadata={"help": "folder for checkpoints and the pretrained member"})
    corpus: list[str] = field(default_factory=list, metadata={"help": "FASTA files (plain or gzip)"})
    exclude: list[str] = field(default_factory=list, metadata={"help": "FASTA files of sequences never to train on"})
    dataset: str = field(default="", metadata={"help": "a benchmark dataset folder or Hub id (see dataset_configs)"})
    dataset_configs: list[str] = field(
        default_factory=list,
        metadata={
            "help": "configs of `dataset` whose train sequences join the corpus and whose test ones are excluded"
        },
    )
    k: int = 3
    window: int = 200
    stride: int = 100
    validation_bp: int = field(default=0, metadata={"help": "hold out this many bases at the end of each long record"})
    mlm_probability: float = 0.15
    # the loop's defaults for pretraining (RunSettings has those of fine-tuning)
    batch_size: int = 32
    epochs: int = 10
    learning_rate: float = 4e-4
    lr_decay: float = 1.0
    warmup_steps: int = 500
    grad_clip: float = 1.0
    checkpoint_every: int = 500


def dataset_records(dataset: str, config: str, split: str) -> list[tuple[str, str]]:
    """(id, upper-case sequence) of one split of a benchmark dataset, as the corpus records are."""
    rows = load_split(dataset, config, split)
    return [(record_id, sequence.upper()) for record_id, sequence in zip(rows["id"], rows["sequence"])]


def forbidden_spans(sequence: str, excluded: set[str]) -> list[tuple[int, int]]:
    """Where any excluded sequence (or its reverse complement) occurs in `sequence`."""
    spans = []
    for target in excluded | {reverse_complement(s) for s in excluded}:
        start = sequence.find(target)
        while start != -1:
            spans.append((start, start + len(target)))
            start = sequence.find(target, start + 1)
    return spans


def corpus_windows(records, excluded: set[str], window: int, stride: int) -> tuple[list[str], dict]:
    """Both strands of every N-free window that overlaps no excluded sequence, with counts of what was dropped."""
    kept, counts = [], {"windows": 0, "with_n": 0, "overlapping_excluded": 0}
    for _, sequence in records:
        spans = forbidden_spans(sequence, excluded)
        starts = range(0, max(1, len(sequence) - window + 1), stride) if len(sequence) > window else [0]
        for start in starts:
            piece = sequence[start : start + window]
            counts["windows"] += 1
            if "N" in piece or set(piece) - set("ACGT"):
                counts["with_n"] += 1
            elif any(a < start + len(piece) and start < b for a, b in spans):
                counts["overlapping_excluded"] += 1
            else:
                kept += [piece, reverse_complement(piece)]
    counts["kept_both_strands"] = len(kept)
    return kept, counts


def hold_out_tails(records, validation_bp: int) -> tuple[list, list]:
    """(training records, held-out tails): the last `validation_bp` bases of records at least 4 times that long."""
    if not validation_bp:
        return list(records), []
    training, heldout = [], []
    for name, sequence in records:
        if len(sequence) >= 4 * validation_bp:
            training.append((name, sequence[:-validation_bp]))
            heldout.append((name, sequence[-validation_bp:]))
        else:
            training.append((name, sequence))
    return training, heldout


def mask_kmer_spans(input_ids: torch.Tensor, k: int, vocab_size: int, probability: float, generator=None):
    """DNABERT-style masking: spans of k tokens around random centres; 80% [MASK], 10% random, 10% kept."""
    is_kmer = input_ids >= FIRST_KMER_ID
    centres = (torch.rand(input_ids.shape, generator=generator) < probability / k) & is_kmer
    kernel = torch.ones(1, 1, k)
    spread = torch.nn.functional.conv1d(centres.float().unsqueeze(1), kernel, padding=k // 2).squeeze(1)
    masked = (spread[:, : input_ids.shape[1]] > 0) & is_kmer
    labels = torch.where(masked, input_ids, torch.full_like(input_ids, -100))
    roll = torch.rand(input_ids.shape, generator=generator)
    random_ids = torch.randint(FIRST_KMER_ID, vocab_size, input_ids.shape, generator=generator)
    corrupted = torch.where(masked & (roll < 0.8), torch.full_like(input_ids, MASK_ID), input_ids)
    corrupted = torch.where(masked & (roll >= 0.8) & (roll < 0.9), random_ids, corrupted)
    return corrupted, labels


class MaskedWindows(torch.utils.data.Dataset):
    def __init__(self, tokenizer: KmerTokenizer, windows: list[str], probability: float):
        self.tokenizer, self.probability = tokenizer, probability
        self.items = [tokenizer.encode_sequence(w) for w in windows]
        self.k = tokenizer.kmers[0]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return index

    def collate(self, indices):
        batch = self.tokenizer.collate([self.items[i] for i in indices])
        batch["input_ids"], batch["labels"] = mask_kmer_spans(
            batch["input_ids"], self.k, len(self.tokenizer), self.probability
        )
        return batch


@torch.no_grad()
def masked_lm_validation(accelerator, model, batches: list[dict]) -> dict:
    """Masked-LM loss and accuracy over fixed masked batches of the held-out windows."""
    model.eval()
    loss_sum, correct, masked = 0.0, 0, 0
    for batch in batches:
        batch = {name: tensor.to(accelerator.device) for name, tensor in batch.items()}
        with accelerator.autocast():
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        targets = batch["labels"] != -100
        loss_sum += torch.nn.functional.cross_entropy(logits[targets], batch["labels"][targets], reduction="sum").item()
        correct += (logits[targets].argmax(-1) == batch["labels"][targets]).sum().item()
        masked += targets.sum().item()
    model.train()
    return {"valid_mlm_loss": loss_sum / max(1, masked), "valid_masked_accuracy": correct / max(1, masked)}


def validation_batches(tokenizer, windows: list[str], probability: float, batch_size: int, seed: int) -> list[dict]:
    """The held-out windows, masked once with a fixed seed so every epoch is scored on the same tokens."""
    dataset, generator = MaskedWindows(tokenizer, windows, probability), torch.Generator().manual_seed(seed)
    batches = []
    for start in range(0, len(windows), batch_size):
        batch = tokenizer.collate(dataset.items[start : start + batch_size])
        batch["input_ids"], batch["labels"] = mask_kmer_spans(
            batch["input_ids"], dataset.k, len(tokenizer), probability, generator
        )
        batches.append(batch)
    return batches


def pretrain(args: PretrainArguments) -> dict:
    accelerator = make_accelerator(args.seed, args.mixed_precision, args.cpu)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    excluded = {sequence for path in args.exclude for _, _, sequence in read_fasta(path)}
    records = [(name, sequence) for path in args.corpus for name, _, sequence in read_fasta(path)]
    for config in args.dataset_configs:
        records += dataset_records(args.dataset, config, "train")
        excluded |= {sequence for _, sequence in dataset_records(args.dataset, config, "test")}
    records, heldout = hold_out_tails(records, args.validation_bp)
    windows, counts = corpus_windows(records, excluded, args.window, args.stride)
    heldout_windows, _ = corpus_windows(heldout, excluded, args.window, args.window)
    counts["validation_windows"] = len(heldout_windows)
    accelerator.print(json.dumps(counts))
    tokenizer = KmerTokenizer(kmers=(args.k,))
    heldout_batches = validation_batches(tokenizer, heldout_windows, args.mlm_probability, 128, args.seed)
    dataset = MaskedWindows(tokenizer, windows, args.mlm_probability)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, collate_fn=dataset.collate)
    torch.manual_seed(args.seed)
    model = BertForMaskedLM(member_bert_config(args, len(tokenizer)))
    settings = args.loop_settings()
    validate = (lambda model, epoch: masked_lm_validation(accelerator, model, heldout_batches)) if heldout else None
    progress = train(accelerator, model, loader, settings, out, end_of_epoch=validate)
    if accelerator.is_main_process and progress.finished:
        model.save_pretrained(out / "member")
        tokenizer.save_pretrained(out / "member")
        summary = {**counts, "epochs_trained": progress.epoch, "stopped_by_budget": progress.stopped_by_budget}
        summary |= {"hardware": hardware(accelerator), "arguments": asdict(args)}
        (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n")
    finish(accelerator)
    return counts


def member_bert_config(args: PretrainArguments, vocab_size: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=args.hidden_size,
        num_hidden_layers=args.num_hidden_layers,
        num_attention_heads=args.num_attention_heads,
        intermediate_size=args.intermediate_size,
        max_position_embeddings=512,
        pad_token_id=PAD_ID,
        architectures=["BertForMaskedLM"],
    )
