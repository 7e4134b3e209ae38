"""`scan`'s BED and bedGraph in the order genome tools want: by record name, then by start, as
`LC_ALL=C sort -k1,1 -k2,2n` sorts (`bedToBigBed` and `bedGraphToBigWig` refuse anything else), whatever order
the records had in the FASTA file.

A scan writes each record's lines together and in start order, so sorting whole records sorts the lines. Where the
records do not come in name order, their lines wait in a temporary file beside the output, each record's block
noted by where it starts, and are copied out in order at the end: memory holds one entry per record, not the lines.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

COPY_BYTES = 1 << 24


def in_genome_order(names) -> bool:
    """Whether records of these names, scanned in this order, already give sorted outputs."""
    names = list(names)
    return names == sorted(names)  # Python orders strings by code point, as `sort` in the C locale orders UTF-8


@contextmanager
def genome_ordered(handle, path, in_order: bool):
    """`handle` (an output open for writing text, or None) to write a scan's lines to: itself where the records
    come `in_order`, else a `RecordBlocks` that writes them to `handle` sorted when the block ends without an
    exception; `path` is the output's, beside which the lines wait."""
    if handle is None or in_order:
        yield handle
        return
    with tempfile.TemporaryFile(dir=_spool_folder(path), prefix=".ienhancer-elm-", suffix=".unsorted") as spool:
        blocks = RecordBlocks(spool)
        yield blocks
        blocks.copy_sorted(handle)


def _spool_folder(path) -> str | None:
    """The output's folder, where the disk is meant for this output; the system's temporary folder for standard
    output or a folder that is not writable (a device such as /dev/stdout)."""
    folder = Path(path).parent if path and str(path) != "-" else None
    return str(folder) if folder is not None and os.access(folder, os.W_OK | os.X_OK) else None


@dataclass
class Block:
    name: str
    start: int  # the first line's start
    offset: int  # where its bytes begin in the spool
    size: int = 0


class RecordBlocks:
    """Stands in for a text handle written a line at a time (tab-separated, name and start first, as BED and
    bedGraph lines are): the lines kept in a binary spool, a block for each run of lines of one name, and written
    out by `copy_sorted` in (name, start) order of the blocks."""

    def __init__(self, spool):
        self.spool, self.blocks, self.written = spool, [], 0

    def write(self, text: str) -> None:
        name, start, _ = text.split("\t", 2)
        if not self.blocks or self.blocks[-1].name != name:
            self.blocks.append(Block(name, int(start), self.written))
        data = text.encode("utf-8")
        self.spool.write(data)
        self.blocks[-1].size += len(data)
        self.written += len(data)

    def copy_sorted(self, handle) -> None:
        self.spool.flush()
        for block in sorted(self.blocks, key=lambda block: (block.name, block.start)):
            self.spool.seek(block.offset)
            decoder, left = codecs.getincrementaldecoder("utf-8")(), block.size  # a name may be UTF-8
            while left:
                data = self.spool.read(min(left, COPY_BYTES))
                handle.write(decoder.decode(data, final=len(data) == left))
                left -= len(data)
