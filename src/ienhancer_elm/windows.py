"""The windows of a genome that `scan` and `background` score: their settings, and the stretches of sequence
they are cut from (FASTA records streamed, or the regions of a BED file cut from an indexed FASTA)."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from .sequences import fasta_streams


class ScanError(ValueError):
    pass


@dataclass
class WindowSettings:
    """Which windows of a genome are scored: `window` bases long, starting every `stride` bases, skipped where
    more than `max_n_fraction` of their bases are N. `scan` and `background` share these settings, and a scan
    compares its own with those its background was scored with (`comparable_with`)."""

    window: int = 200
    stride: int = 50
    max_n_fraction: float = 0.1

    def __post_init__(self):
        if self.window < 1:
            raise ScanError(f"window must be at least 1 base, got {self.window}")
        if not 1 <= self.stride <= self.window:
            raise ScanError(f"stride must be between 1 and the window ({self.window}), got {self.stride}")
        if not 0 <= self.max_n_fraction <= 1:
            raise ScanError(f"the largest fraction of N must be between 0 and 1, got {self.max_n_fraction}")

    def windows(self) -> WindowSettings:
        return WindowSettings(self.window, self.stride, self.max_n_fraction)

    def differences(self, other: WindowSettings) -> list[str]:
        """What makes windows scored under `other` a different population from these: the window length and the
        N rule. The stride is left out: it sets how densely windows are drawn, not which kind of window."""
        return [
            f"{name} {getattr(self, name)}, not {getattr(other, name)}"
            for name in ("window", "max_n_fraction")
            if getattr(self, name) != getattr(other, name)
        ]


@dataclass
class ScanSummary:
    records: int = 0
    bases: int = 0
    windows: int = 0
    skipped_n: int = 0
    short_records: list = field(default_factory=list)
    regions: int = 0
    called: int = 0
    rule: str = ""

    def line(self) -> str:
        short = len(self.short_records)
        return (
            f"scanned {self.records} record(s), {self.bases} bp: {self.windows} window(s) scored, "
            f"{self.skipped_n} skipped for N, {short} record(s) shorter than the window, "
            f"{self.called} window(s) called ({self.rule}), {self.regions} enhancer region(s)"
        )


@dataclass
class Segment:
    """A stretch of sequence to window: a whole record, or a region of one."""

    name: str
    offset: int
    chunks: Iterator[str]


def fasta_segments(path) -> Iterator[Segment]:
    """The records of a plain, gzip or bgzip FASTA file, each as a lazy stream of its sequence lines."""
    for record in fasta_streams(path):
        yield Segment(record.id, 0, record.lines)


_WHITESPACE = b" \t\r\n\v\f"  # what the scan drops from sequence lines (encode_bases)
INVENTORY_CHUNK = 1 << 24


def fasta_inventory(path) -> tuple[list[str], int]:
    """The record names, in file order, and the number of sequence characters: a pre-pass before a scan.

    It reads every header, since only the headers themselves show duplicated names (samtools drops a
    duplicate from the `.fai` with a warning, so an index cannot be trusted for that); the bases are counted
    in the same pass, in whole-chunk byte operations, so the progress bar gets its total at little cost.
    """
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    names, bases, tail = [], 0, b""
    with gzip.open(path, "rb") if gzipped else open(path, "rb") as handle:
        while chunk := handle.read(INVENTORY_CHUNK):
            data = tail + chunk
            cut = data.rfind(b"\n") + 1  # count whole lines only; the rest waits for the next chunk
            bases += _count_lines(data[:cut], names)
            tail = data[cut:]
    return names, bases + _count_lines(tail, names)


def _count_lines(block: bytes, names: list) -> int:
    """Sequence characters in whole lines of FASTA; header names are appended to `names`."""
    header_characters = 0
    start = 0 if block.startswith(b">") else _next_header(block, 0)
    while start is not None:
        end = block.find(b"\n", start)
        end = len(block) if end < 0 else end
        header = block[start:end]
        fields = header[1:].split(maxsplit=1)
        if fields:  # an empty header is the scan's to refuse, with its message
            names.append(fields[0].decode("utf-8", errors="replace"))
        header_characters += len(header.translate(None, _WHITESPACE))
        start = _next_header(block, end)
    return len(block.translate(None, _WHITESPACE)) - header_characters


def _next_header(block: bytes, position: int) -> int | None:
    found = block.find(b"\n>", position)
    return None if found < 0 else found + 1


def refuse_duplicate_names(names, path) -> None:
    """Two records with one name make windows of both under that name: overlapping bedGraph intervals that
    genome browsers reject, and regions that cannot be told apart."""
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise ScanError(
            f"{path}: {len(repeated)} record name(s) appear more than once ({listed(repeated)}); their windows would"
            " overlap under one name in the outputs, so give each record its own name"
        )


def listed(names, shown: int = 5) -> str:
    """The first `shown` names, and how many more there are: a message stays one line however many."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def open_indexed(fasta_path):
    """The FASTA through its index (pyfaidx writes the `.fai` when missing)."""
    from pyfaidx import Fasta

    try:
        return Fasta(str(fasta_path), as_raw=True, sequence_always_upper=False)
    except ValueError as error:  # pyfaidx refuses a repeated name while indexing: `Duplicate key "chr1"`
        if "Duplicate key" not in str(error):
            raise
        raise ScanError(f"{fasta_path}: {error}: give each record its own name") from None


def bed_intervals(fasta_path, bed_path, genome) -> list[tuple[str, int, int]]:
    """The intervals of a BED file, each checked against the indexed FASTA, all before any is scanned."""
    intervals = []
    with open(bed_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields or fields[0].startswith(("#", "track", "browser")):
                continue
            try:
                name, start, end = fields[0], int(fields[1]), int(fields[2])
            except (IndexError, ValueError):
                raise ScanError(f"{bed_path}: line {number}: not a BED interval") from None
            if name not in genome:
                raise ScanError(f"{bed_path}: line {number}: {name} is not in {fasta_path}")
            if not 0 <= start < end <= len(genome[name]):
                raise ScanError(
                    f"{bed_path}: line {number}: {name} {start} {end} is not an interval within {name}"
                    f" (0 to {len(genome[name])})"
                )
            intervals.append((name, start, end))
    return intervals


def bed_segments(fasta_path, bed_path, intervals=None) -> Iterator[Segment]:
    """The regions of a BED file, cut from an indexed FASTA."""
    genome = open_indexed(fasta_path)
    for name, start, end in intervals if intervals is not None else bed_intervals(fasta_path, bed_path, genome):
        yield Segment(name, start, iter([genome[name][start:end]]))
