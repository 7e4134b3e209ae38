"""DNA records: the one FASTA reader of the package, and small facts about sequences.

Every entry point reads FASTA here, with one set of rules and one vocabulary of errors: the file is plain,
gzip or bgzip (told by its bytes) or standard input ("-", gzipped or not); text before the first `>` header
and an empty header are errors naming the file; a record's id is its header's first word. `fasta_streams`
hands each record's sequence lines over lazily, so that `scan` reads a chromosome in flat memory;
`read_records` joins them (and also reads one sequence per line); `read_fasta` adds the checks a dataset
needs. Biopython's parser keeps a whole record in memory and pyfaidx needs an indexed file, so neither can
stream standard input or a gzipped chromosome; the reader is a short loop over lines.
"""

from __future__ import annotations

import gzip
import itertools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .files import open_text


class InputFormatError(ValueError):
    """The input as a whole cannot be read (not one bad record, which is reported per record)."""


class EmptyInput(InputFormatError):
    """The input holds no record: `predict` and `scan` stop with this one message and exit status 1."""

    def __init__(self, source, what: str = "sequence"):
        super().__init__(f"{'standard input' if str(source) == '-' else source} holds no {what}")


@dataclass(frozen=True)
class Record:
    id: str
    sequence: str


@dataclass
class FastaRecord:
    """One FASTA record as it is read: its id, the rest of its header, and its sequence lines, read lazily."""

    id: str
    description: str
    lines: Iterator[str]

    def sequence(self) -> str:
        """The whole sequence, line breaks and spaces removed."""
        return "".join("".join(line.split()) for line in self.lines)


def fasta_streams(source) -> Iterator[FastaRecord]:
    """The records of a FASTA file (or "-"), each with a lazy stream of its sequence lines. A record whose lines
    the caller does not read to the end is skipped over."""
    with _reading(source) as handle:
        yield from _fasta_in(handle, source, _first_nonblank(handle)[0])


def _fasta_in(handle, source, line: str) -> Iterator[FastaRecord]:
    line = line.lstrip()
    while line:
        if not line.startswith(">"):
            raise InputFormatError(f"{source}: not FASTA: expected a '>' header line, found {line[:30].strip()!r}")
        fields = line[1:].split(maxsplit=1)  # the id ends at any whitespace, a tab included
        if not fields:
            raise InputFormatError(f"{source}: a FASTA record has an empty header")
        following = []
        description = fields[1].strip() if len(fields) > 1 else ""
        record = FastaRecord(fields[0], description, _sequence_lines(handle, following, source))
        yield record
        if not following:
            for _ in record.lines:  # the caller stopped early: skip the rest of the record
                pass
        line = following[0]


def _sequence_lines(handle, following: list, source) -> Iterator[str]:
    """The lines up to the next header; that header (or "" at the end) is left in `following`. The caller reads
    these lines, outside `_reading`, so undecodable or damaged input is named here too."""
    while True:
        with _named_errors(source):
            line = handle.readline()
        if not line or line.startswith(">"):
            following.append(line)
            return
        yield line


def read_records(source) -> Iterator[Record]:
    """Yield the records of a FASTA file (plain or gzip, any line wrapping), a text file with one sequence per
    line (ids `line1`, `line2`, ...), or standard input when `source` is "-".

    The format is recognised from the first non-blank character (`>` means FASTA). Sequences are passed on as
    found; checking their letters is the tokenizer's job, per record.
    """
    with _reading(source) as handle:
        first, first_number = _first_nonblank(handle)
        if first.lstrip().startswith(">"):
            for record in _fasta_in(handle, source, first):
                yield Record(record.id, record.sequence())
        elif first:
            for number, line in enumerate(itertools.chain([first], handle), start=first_number):
                if line.strip():
                    yield Record(f"line{number}", line.strip())


def read_fasta(source, check_sequence=None) -> list[tuple[str, str, str]]:
    """(id, description, upper-case sequence) of every record of a FASTA file, for building a dataset: an empty
    sequence, a repeated id, or a sequence `check_sequence` refuses (it raises ValueError) is an
    `InputFormatError` naming the file and the record."""
    records, seen = [], set()
    for record in fasta_streams(source):
        sequence = record.sequence().upper()
        problem = "duplicated id" if record.id in seen else "" if sequence else "empty sequence"
        if not problem and check_sequence is not None:
            try:
                check_sequence(sequence)
            except ValueError as error:
                problem = str(error)
        if problem:
            raise InputFormatError(f"{source}: record {record.id}: {problem}")
        seen.add(record.id)
        records.append((record.id, record.description, sequence))
    return records


@contextmanager
def _reading(source):
    """The source open for reading text; undecodable or damaged input becomes an `InputFormatError`."""
    if str(source) != "-" and not Path(source).is_file():
        raise InputFormatError(f"{source}: no such file")
    handle = open_text(source)
    try:
        with _named_errors(source):
            yield handle
    finally:
        if handle is not sys.stdin:
            handle.close()


@contextmanager
def _named_errors(source):
    try:
        yield
    except UnicodeDecodeError as error:
        raise InputFormatError(f"{source}: not a text file ({error.reason} at byte {error.start})") from None
    except (EOFError, gzip.BadGzipFile) as error:
        raise InputFormatError(f"{source}: a damaged gzip file ({error})") from None


def _first_nonblank(handle) -> tuple[str, int]:
    """The first non-blank line ("" for a blank input) and its line number."""
    number = 1
    while (line := handle.readline()) and not line.strip():
        number += 1
    return line, number


def gc_fraction(sequence: str) -> float:
    """G + C over A + C + G + T (N and other letters left out): the share `scan` computes for a window."""
    upper = sequence.upper()
    bases = sum(upper.count(base) for base in "ACGT")
    return (upper.count("G") + upper.count("C")) / bases if bases else 0.0


def reverse_complement(sequence: str) -> str:
    """The other strand, read 5' to 3'; case and IUPAC ambiguity codes are kept (`acgN` -> `Ncgt`)."""
    from Bio.Seq import reverse_complement as biopython_reverse_complement  # here: `--help` need not load it

    return biopython_reverse_complement(sequence)
