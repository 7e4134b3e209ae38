"""Reading DNA records from FASTA (plain or gzip), one-sequence-per-line text, or stdin."""

from __future__ import annotations

import gzip
import io
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from Bio.Seq import reverse_complement as _biopython_reverse_complement
from Bio.SeqIO.FastaIO import SimpleFastaParser


class InputFormatError(ValueError):
    """The input as a whole cannot be read (not one bad record, which is reported per record)."""


@dataclass(frozen=True)
class Record:
    id: str
    sequence: str


def read_records(source: str | Path) -> Iterator[Record]:
    """Yield the records of a FASTA file (plain or .gz, any line wrapping), a text file with one
    sequence per line (ids `line1`, `line2`, ...), or standard input when `source` is "-".

    The format is recognised from the first non-blank character (`>` means FASTA). Sequences are
    passed on as found; checking their letters is the tokenizer's job, per record.
    """
    handle = _open_text(source)
    try:
        head = _lines_to_first_nonblank(handle)
        if not head:
            return
        lines = itertools.chain(head, handle)
        if head[-1].lstrip().startswith(">"):
            yield from _fasta_records(lines, source)
        else:
            yield from _line_records(lines)
    except UnicodeDecodeError as error:
        raise InputFormatError(f"{source}: not a text file ({error.reason} at byte {error.start})") from None
    finally:
        if handle is not sys.stdin:
            handle.close()


def _open_text(source) -> io.TextIOBase:
    if str(source) == "-":
        return sys.stdin
    path = Path(source)
    if not path.is_file():
        raise InputFormatError(f"{source}: no such file")
    return open_text(path)


def open_text(path) -> io.TextIOBase:
    """A text file, plain or gzip/bgzip (recognised by its magic bytes, not its name), for reading."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else open(path, encoding="utf-8")


def _lines_to_first_nonblank(handle) -> list[str]:
    """The leading lines up to and including the first non-blank one (empty for a blank input)."""
    head = []
    for line in handle:
        head.append(line)
        if line.strip():
            return head
    return []


def _fasta_records(lines, source) -> Iterator[Record]:
    for header, sequence in SimpleFastaParser(lines):
        record_id = header.split(maxsplit=1)[0] if header.strip() else ""
        if not record_id:
            raise InputFormatError(f"{source}: a FASTA record has an empty header")
        yield Record(record_id, sequence)


def _line_records(lines) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield Record(f"line{number}", line.strip())


def reverse_complement(sequence: str) -> str:
    """The other strand, read 5' to 3'; case and IUPAC ambiguity codes are kept (`acgN` -> `Ncgt`)."""
    return _biopython_reverse_complement(sequence)
