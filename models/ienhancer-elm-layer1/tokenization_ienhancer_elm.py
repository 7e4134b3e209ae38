"""Overlapping k-mer tokenizer for DNA, id-compatible with DNABERT's vocabularies.

Hub file: imports only the standard library, torch and transformers.
"""

from __future__ import annotations

import itertools
import os
import warnings

import torch
from transformers import BatchEncoding, PreTrainedTokenizer
from transformers.tokenization_utils_base import TruncationStrategy
from transformers.utils import PaddingStrategy, TensorType

from .configuration_ienhancer_elm import SPECIAL_TOKENS, SUPPORTED_KMERS, checked_kmers

PAD_ID, UNK_ID, CLS_ID, SEP_ID = (SPECIAL_TOKENS.index(token) for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"))
# DNABERT lists k-mers in product order over A, T, C, G (AAA, AAT, AAC, AAG, ATA, ...), so a base's
# digit in that order gives the k-mer's index in base 4.
DNABERT_BASE_ORDER = "ATCG"
AMBIGUOUS_BASES = "NRYSWKMBDHV"
# The shipped models were trained on 200 bp; far shorter sequences still get a score, with a warning.
SHORT_SEQUENCE_BP = 100
_UNKNOWN_BASE = 4
_INVALID = -1


def kmer_vocabulary(k: int) -> list[str]:
    """The DNABERT vocabulary for `k`: the five special tokens, then every k-mer in DNABERT's order."""
    return list(SPECIAL_TOKENS) + ["".join(p) for p in itertools.product(DNABERT_BASE_ORDER, repeat=k)]


def _base_codes_table() -> torch.Tensor:
    table = torch.full((256,), _INVALID, dtype=torch.int64)
    for code, base in enumerate(DNABERT_BASE_ORDER):
        table[ord(base)] = table[ord(base.lower())] = code
    for base in AMBIGUOUS_BASES:
        table[ord(base)] = table[ord(base.lower())] = _UNKNOWN_BASE
    return table


_BASE_CODES = _base_codes_table()
_WHITESPACE = str.maketrans("", "", " \t\r\n\v\f")


def encode_bases(sequence: str) -> torch.Tensor:
    """Map a DNA string to base codes (A T C G -> 0 1 2 3, ambiguity codes -> 4).

    Case is ignored and whitespace dropped; any other character raises `ValueError` naming it
    and its 1-based position among the sequence's non-whitespace characters.
    """
    cleaned = sequence.translate(_WHITESPACE)
    raw = cleaned.encode("ascii", errors="replace")  # non-ASCII becomes '?', which is invalid below
    codes = (
        _BASE_CODES[torch.frombuffer(bytearray(raw), dtype=torch.uint8).long()]
        if raw
        else torch.empty(0, dtype=torch.long)
    )
    invalid = (codes == _INVALID).nonzero()
    if len(invalid):
        position = int(invalid[0])
        letter = cleaned[position]
        hint = " (RNA? the models read DNA: write T for U)" if letter in "Uu" else ""
        raise ValueError(f"invalid character {letter!r} at position {position + 1}{hint}")
    return codes


def _excerpt(sequence) -> str:
    """A lone sequence named by its start and length: `pipeline` hands the tokenizer one sequence of a list at a
    time, so its index is not known here."""
    if not isinstance(sequence, str):
        return "sequence"
    start = sequence[:20] + ("..." if len(sequence) > 20 else "")
    return f"sequence {start!r} ({len(sequence)} characters)"


def check_readable(ids: torch.Tensor, k: int) -> None:
    """Refuse k-mer ids (one sequence, specials excluded) that are all [UNK]: the member would read nothing."""
    if not bool((ids != UNK_ID).any()):
        raise ValueError(f"no {k} unambiguous bases (A, C, G, T) in a row: the k={k} member would read only [UNK]")


def short_sequence_warning(length: int) -> str | None:
    """The warning every entry point gives for a sequence far shorter than the models were trained on."""
    if length >= SHORT_SEQUENCE_BP:
        return None
    return (
        f"{length} bp is shorter than {SHORT_SEQUENCE_BP} bp; the models were trained on 200 bp sequences, "
        "so this score is unreliable"
    )


def kmer_ids(codes: torch.Tensor, k: int) -> torch.Tensor:
    """DNABERT ids of the overlapping k-mers (stride 1) along the last axis of base codes; k-mers
    with an ambiguous base become [UNK]."""
    length = max(0, codes.shape[-1] - k + 1)
    ambiguous = codes == _UNKNOWN_BASE
    has_ambiguous = bool(ambiguous.any())
    bases = codes.clamp(max=3) if has_ambiguous else codes
    # Horner's rule over the k offsets, each a whole-tensor operation: far faster than reducing
    # an unfolded (..., k) view along its short last axis.
    ids = bases[..., :length].clone()
    for offset in range(1, k):
        ids.mul_(4).add_(bases[..., offset : offset + length])
    ids += len(SPECIAL_TOKENS)
    if has_ambiguous:
        seen = torch.nn.functional.pad(ambiguous.long().cumsum(-1), (1, 0))
        ids[(seen[..., k : k + length] - seen[..., :length]) > 0] = UNK_ID
    return ids


class KmerTokenizer(PreTrainedTokenizer):
    """Tokenizer of raw DNA into overlapping k-mers, for one or several k at once.

    For one k the ids equal DNABERT's (`zhihan1996/DNA_bert_K`): `[PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3
    [MASK]=4`, then the 4^k k-mers in DNABERT's order. With `kmers=(3,)`::

        >>> tok = KmerTokenizer(kmers=(3,))
        >>> tok.tokenize("ACGTA")
        ['ACG', 'CGT', 'GTA']
        >>> tok("ACGTA")["input_ids"]
        [2, 16, 50, 57, 3]

    With several k (an ensemble) one call gives every member its own keys, `input_ids_k3`,
    `attention_mask_k3`, `input_ids_k4`, ...; with one k the keys are the usual `input_ids` and
    `attention_mask`, so the output feeds a DNABERT `BertModel` directly.

    Input policy: case is ignored; whitespace and newlines are dropped; `N` and the other IUPAC
    ambiguity codes (R Y S W K M B D H V) turn every k-mer that contains them into `[UNK]`; any
    other character (RNA's `U` included) raises `ValueError` naming the character and its position.
    A sequence raises `ValueError` when it is shorter than the largest k, when some member would
    read only `[UNK]` (no run of k unambiguous bases), or when its tokens exceed `model_max_length`
    (512 for DNABERT, [CLS] and [SEP] included; an ensemble that reads long sequences in windows, see
    `IEnhancerELMConfig.window_bp`, takes more; `truncation=True` keeps the first bases that fit
    `max_length` instead). A sequence under `SHORT_SEQUENCE_BP` (100) bases gets a `UserWarning`.

    Keys: `return_special_tokens_mask` and `return_length` add `special_tokens_mask[_kN]` and
    `length[_kN]` (tokens before padding); token type ids, overflowing tokens, offsets and a `stride`
    are refused, as the members read one segment of single bases.

    Args:
        kmers: the k-mer sizes, each in 3..6.
        vocab_file: optional DNABERT `vocab.txt`; it is checked against the built-in vocabulary
            (and sets k when `kmers` is not given), so DNABERT tokenizer folders load unchanged.
        model_max_length: the most tokens, specials included, that one sequence may give.
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}

    def __init__(self, kmers=None, vocab_file=None, model_max_length=512, **kwargs):
        kwargs.pop(
            "do_lower_case", None
        )  # DNABERT's old configs say true; k-mers are matched case-insensitively anyway
        kmers = _kmers_from(kmers, vocab_file)
        self.kmers = kmers
        self._vocab = kmer_vocabulary(kmers[0])
        self._token_to_id = {token: i for i, token in enumerate(self._vocab)}
        for name, token in zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"), SPECIAL_TOKENS):
            kwargs.setdefault(name, token)
        kwargs.setdefault("special_tokens_pattern", "cls_sep")
        super().__init__(kmers=list(kmers), model_max_length=model_max_length, **kwargs)
        self.model_input_names = self.input_names_for(kmers)

    @staticmethod
    def input_names_for(kmers) -> list[str]:
        if len(kmers) == 1:
            return ["input_ids", "attention_mask"]
        return [name for k in kmers for name in (f"input_ids_k{k}", f"attention_mask_k{k}")]

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._token_to_id)

    def _tokenize(self, text, **kwargs):
        """The k-mers of the first k (`tokenize` and `decode` speak the first member's vocabulary)."""
        codes = encode_bases(text)
        return [self._vocab[i] for i in kmer_ids(codes, self.kmers[0]).tolist()]

    def _convert_token_to_id(self, token):
        return self._token_to_id.get(token.upper(), UNK_ID)

    def _convert_id_to_token(self, index):
        return self._vocab[index] if 0 <= index < len(self._vocab) else SPECIAL_TOKENS[UNK_ID]

    def convert_tokens_to_string(self, tokens):
        return " ".join(tokens)

    def encode_sequence(self, sequence: str, max_bases: int | None = None) -> dict[int, torch.Tensor]:
        """Ids ([CLS] k-mers [SEP]) of one sequence for every k, checked against the length limits and for
        members that would read only [UNK]; with `max_bases`, only the first `max_bases` bases are read."""
        if not isinstance(sequence, str):
            raise TypeError(f"expected a DNA string, got {type(sequence).__name__}")
        codes = encode_bases(sequence)[:max_bases]
        shortest = max(self.kmers)
        if len(codes) == 0:
            raise ValueError("empty sequence")
        if len(codes) < shortest:
            raise ValueError(f"sequence of {len(codes)} bp is shorter than k={shortest}")
        longest_tokens = len(codes) - min(self.kmers) + 3
        if longest_tokens > self.model_max_length:
            raise ValueError(
                f"sequence of {len(codes)} bp gives {longest_tokens} tokens for k={min(self.kmers)}, more than the "
                f"{self.model_max_length} this tokenizer takes (model_max_length); scan long sequences in windows "
                "(`ienhancer-elm scan`)"
            )
        special = torch.tensor([CLS_ID]), torch.tensor([SEP_ID])
        encoded = {}
        for k in self.kmers:
            ids = kmer_ids(codes, k)
            check_readable(ids, k)
            encoded[k] = torch.cat([special[0], ids, special[1]])
        return encoded

    def max_bases(self, max_length: int) -> int:
        """The most bases whose tokens fit `max_length` positions for every member ([CLS] and [SEP] included)."""
        return max_length - 3 + min(self.kmers)

    def encode_codes(self, codes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Model inputs for a batch of equal-length rows of base codes (see `encode_bases`), every k at once.

        The fast path for windows cut from one long sequence: no strings, no padding, no length checks. The
        inputs are made on the device of `codes`.
        """
        rows = codes.shape[0]
        specials = (
            torch.full((rows, 1), CLS_ID, device=codes.device),
            torch.full((rows, 1), SEP_ID, device=codes.device),
        )
        inputs = {}
        for k, ids_name, mask_name in zip(self.kmers, self.model_input_names[::2], self.model_input_names[1::2]):
            inputs[ids_name] = torch.cat([specials[0], kmer_ids(codes, k), specials[1]], dim=1)
            inputs[mask_name] = torch.ones_like(inputs[ids_name])
        return inputs

    def encode_equal_lengths(self, sequences) -> dict[str, torch.Tensor] | None:
        """The fast path for a batch of valid sequences of one length: a single [batch, length] tensor
        of base codes, encoded for every k at once. `None` when it does not apply (the per-sequence
        path then runs, and names any bad sequence)."""
        if not sequences or not all(isinstance(s, str) for s in sequences):
            return None
        cleaned = [s.translate(_WHITESPACE) for s in sequences]
        length = len(cleaned[0])
        if any(len(c) != length for c in cleaned) or length < max(self.kmers):
            return None
        if length - min(self.kmers) + 3 > self.model_max_length:
            return None
        raw = bytearray("".join(cleaned).encode("ascii", errors="replace"))
        codes = _BASE_CODES[torch.frombuffer(raw, dtype=torch.uint8).long()].view(len(cleaned), length)
        if (codes == _INVALID).any():
            return None
        inputs = self.encode_codes(codes)
        for ids in inputs.values():  # a row some member reads as all [UNK] goes the per-sequence way, named
            if not bool((ids[:, 1:-1] != UNK_ID).any(dim=1).all()):
                return None
        return inputs

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens=True,
        padding_strategy=PaddingStrategy.DO_NOT_PAD,
        truncation_strategy=TruncationStrategy.DO_NOT_TRUNCATE,
        max_length=None,
        stride=0,
        is_split_into_words=False,
        pad_to_multiple_of=None,
        padding_side=None,
        return_tensors=None,
        return_token_type_ids=None,
        return_attention_mask=None,
        return_overflowing_tokens=False,
        return_special_tokens_mask=False,
        return_length=False,
        **kwargs,
    ) -> BatchEncoding:
        # Every k is encoded here in one pass, so the base class's per-example batch loop is never used.
        _refuse_unsupported(
            text_pair=text_pair is not None,
            add_special_tokens=not add_special_tokens,
            is_split_into_words=is_split_into_words,
            stride=bool(stride),
            padding_side=padding_side not in (None, "right"),
            return_token_type_ids=bool(return_token_type_ids),
            return_overflowing_tokens=return_overflowing_tokens,
            return_offsets_mapping=kwargs.get("return_offsets_mapping", False),
        )
        batched = isinstance(text, (list, tuple))
        sequences = list(text) if batched else [text]
        truncating = TruncationStrategy(truncation_strategy) != TruncationStrategy.DO_NOT_TRUNCATE
        max_bases = self.max_bases(max_length or self.model_max_length) if truncating else None
        _warn_short(sequences)
        simple = padding_strategy != PaddingStrategy.MAX_LENGTH and not pad_to_multiple_of and not truncating
        columns = self.encode_equal_lengths(sequences) if batched and simple else None
        if columns is None:
            encoded = []
            for index, sequence in enumerate(sequences):
                try:
                    encoded.append(self.encode_sequence(sequence, max_bases))
                except (ValueError, TypeError) as error:
                    where = f"sequence {index}" if batched else _excerpt(sequence)
                    raise type(error)(f"{where}: {error}") from None
            if padding_strategy == PaddingStrategy.DO_NOT_PAD and not return_tensors:
                columns = self._unpadded(encoded)
            else:
                if padding_strategy == PaddingStrategy.DO_NOT_PAD and len({len(e[self.kmers[0]]) for e in encoded}) > 1:
                    raise ValueError("sequences of different lengths need padding=True to become one tensor")
                width = max_length if padding_strategy == PaddingStrategy.MAX_LENGTH else None
                columns = self.collate(encoded, width, pad_to_multiple_of)
        columns = self._with_requested_extras(columns, return_special_tokens_mask, return_length)
        if return_attention_mask is False:
            columns = {name: value for name, value in columns.items() if not name.startswith("attention_mask")}
        if return_tensors in ("pt", TensorType.PYTORCH):
            return BatchEncoding(columns)  # already [batch, tokens] tensors
        columns = {name: value.tolist() if torch.is_tensor(value) else value for name, value in columns.items()}
        if not batched:
            columns = {name: value[0] for name, value in columns.items()}
        return BatchEncoding(columns, tensor_type=return_tensors, prepend_batch_axis=not batched)

    def _with_requested_extras(self, columns: dict, special_tokens_mask: bool, length: bool) -> dict:
        """Adds `special_tokens_mask[_kN]` ([CLS], [SEP] and padding are 1) and `length[_kN]` (tokens
        before padding), computed from the ids and attention masks already made."""
        if not (special_tokens_mask or length):
            return columns
        extras = {}
        for ids_name, mask_name in zip(self.model_input_names[::2], self.model_input_names[1::2]):
            suffix = ids_name.removeprefix("input_ids")
            rows = [torch.as_tensor(row) for row in columns[ids_name]]
            masks = [torch.as_tensor(row) for row in columns[mask_name]]
            if special_tokens_mask:
                marks = [torch.isin(row, torch.tensor([PAD_ID, CLS_ID, SEP_ID])).long() for row in rows]
                extras["special_tokens_mask" + suffix] = (
                    torch.stack(marks) if torch.is_tensor(columns[ids_name]) else [m.tolist() for m in marks]
                )
            if length:
                lengths = [int(mask.sum()) for mask in masks]
                extras["length" + suffix] = torch.tensor(lengths) if torch.is_tensor(columns[ids_name]) else lengths
        return {**columns, **extras}

    def collate(
        self, encoded: list[dict[int, torch.Tensor]], width=None, pad_to_multiple_of=None
    ) -> dict[str, torch.Tensor]:
        """Pad the output of `encode_sequence` for several sequences into model-ready tensors, every
        k to the longest of the batch (at least `width`, rounded up to `pad_to_multiple_of`)."""
        columns = {}
        for k, ids_name, mask_name in zip(self.kmers, self.model_input_names[::2], self.model_input_names[1::2]):
            rows = [e[k] for e in encoded]
            lengths = torch.tensor([len(row) for row in rows])
            target = max(int(lengths.max()), width or 0)
            if pad_to_multiple_of:
                target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
            ids = torch.full((len(rows), target), PAD_ID, dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, : len(row)] = row
            columns[ids_name] = ids
            columns[mask_name] = (torch.arange(target) < lengths[:, None]).long()
        return columns

    def pad(
        self,
        encoded_inputs,
        padding=True,
        max_length=None,
        pad_to_multiple_of=None,
        padding_side=None,
        return_attention_mask=None,
        return_tensors=None,
        verbose=True,
    ) -> BatchEncoding:
        """Pads every member's keys (`input_ids_kN`, `attention_mask_kN` and their `special_tokens_mask_kN`), each
        k to its own longest row, so `DataCollatorWithPadding(tokenizer)` batches an ensemble's unpadded examples.
        Takes a list of examples or a dict of lists, as the base class does; other keys (`label`, `length_kN`) pass
        through, made tensors with the rest."""
        _refuse_unsupported(padding_side=padding_side not in (None, "right"))
        single = False
        if isinstance(encoded_inputs, (list, tuple)):
            examples = [dict(example) for example in encoded_inputs]
        else:
            columns = dict(encoded_inputs)
            first = columns.get(self.model_input_names[0])
            batched = (
                first is not None
                and len(first) > 0
                and not isinstance(first[0], int)
                and not (torch.is_tensor(first) and first.dim() == 1)
            )
            examples = [dict(zip(columns, row)) for row in zip(*columns.values())] if batched else [columns]
            single = not batched
        strategy = PaddingStrategy.LONGEST if padding is True else PaddingStrategy(padding or "do_not_pad")
        width = max_length if strategy == PaddingStrategy.MAX_LENGTH else None
        padded = {}
        for ids_name, mask_name in zip(self.model_input_names[::2], self.model_input_names[1::2]):
            rows = [torch.as_tensor(example[ids_name], dtype=torch.long) for example in examples]
            lengths = {len(row) for row in rows}
            if strategy == PaddingStrategy.DO_NOT_PAD and len(lengths) > 1:
                raise ValueError(f"{ids_name}: rows of {sorted(lengths)} tokens need padding=True to become one batch")
            target = max(max(lengths), width or 0)
            if pad_to_multiple_of:
                target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
            suffix = ids_name.removeprefix("input_ids")
            padded[ids_name] = torch.stack([_right_padded(row, target, PAD_ID) for row in rows])
            if return_attention_mask is not False:
                padded[mask_name] = (torch.arange(target) < torch.tensor([len(r) for r in rows])[:, None]).long()
            if "special_tokens_mask" + suffix in examples[0]:
                marks = [torch.as_tensor(e["special_tokens_mask" + suffix], dtype=torch.long) for e in examples]
                padded["special_tokens_mask" + suffix] = torch.stack([_right_padded(m, target, 1) for m in marks])
        for name in examples[0]:
            if name not in padded and not name.startswith("attention_mask"):
                values = [example[name] for example in examples]
                padded[name] = torch.as_tensor(values) if _numbers(values) else values
        if return_tensors not in ("pt", TensorType.PYTORCH):
            padded = {name: value.tolist() if torch.is_tensor(value) else value for name, value in padded.items()}
        if single:
            padded = {name: value[0] for name, value in padded.items()}
        return BatchEncoding(padded, tensor_type=None)

    def _unpadded(self, encoded) -> dict[str, list[list[int]]]:
        columns = {}
        for k, ids_name, mask_name in zip(self.kmers, self.model_input_names[::2], self.model_input_names[1::2]):
            columns[ids_name] = [e[k].tolist() for e in encoded]
            columns[mask_name] = [[1] * len(e[k]) for e in encoded]
        return columns

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Writes DNABERT's `vocab.txt` for a one-k tokenizer; an ensemble's vocabularies follow from `kmers`."""
        if len(self.kmers) != 1:
            return ()
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(self._vocab) + "\n")
        return (path,)


def _right_padded(row: torch.Tensor, width: int, value: int) -> torch.Tensor:
    return torch.cat([row, torch.full((width - len(row),), value, dtype=row.dtype)])


def _numbers(values) -> bool:
    """Whether a column can become one tensor (labels, lengths), rather than strings or ragged lists."""
    try:
        torch.as_tensor(values)
    except (TypeError, ValueError, RuntimeError):
        return False
    return True


def _refuse_unsupported(**asked: bool) -> None:
    unsupported = [name for name, given in asked.items() if given]
    if unsupported:
        raise ValueError(
            f"KmerTokenizer does not support {', '.join(unsupported)}: it encodes single DNA sequences into "
            "one segment of overlapping k-mers, [CLS] first and [SEP] last, padded on the right"
        )


def _warn_short(sequences) -> None:
    """One warning per call, naming the first short sequence and how many there are."""
    short = [
        (index, message)
        for index, sequence in enumerate(sequences)
        if isinstance(sequence, str) and (message := short_sequence_warning(len(sequence.translate(_WHITESPACE))))
    ]
    if short:
        index, message = short[0]
        where = f"sequence {index}" + (f" (and {len(short) - 1} more)" if len(short) > 1 else "")
        warnings.warn(f"{where}: {message}" if len(sequences) > 1 else message, UserWarning, stacklevel=4)


def _kmers_from(kmers, vocab_file) -> tuple[int, ...]:
    file_k = _check_vocab_file(vocab_file) if vocab_file else None
    if kmers is None:
        kmers = (file_k,) if file_k else (6,)
    kmers = tuple(checked_kmers(kmers))
    if file_k and file_k != kmers[0]:
        raise ValueError(f"vocab file {vocab_file} is for k={file_k}, but kmers starts with {kmers[0]}")
    return kmers


def _check_vocab_file(vocab_file) -> int:
    """k of a DNABERT vocab file, after checking that it lists exactly our vocabulary."""
    with open(vocab_file, encoding="utf-8") as handle:
        tokens = [line.strip() for line in handle if line.strip()]
    k = len(tokens[len(SPECIAL_TOKENS)]) if len(tokens) > len(SPECIAL_TOKENS) else 0
    if k not in SUPPORTED_KMERS or tokens != kmer_vocabulary(k):
        raise ValueError(f"{vocab_file} is not a DNABERT k-mer vocabulary for k in {SUPPORTED_KMERS}")
    return k
