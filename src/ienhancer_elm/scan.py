"""Scanning long sequences: sliding windows, scored in batches, merged into enhancer regions.

The FASTA file is streamed line by line, so memory stays flat however long the records are. Under
`accelerate launch` every process reads the whole file but scores only its share of the batches
(batch b goes to process b mod N); process 0 merges the shares, so the output equals a
single-process run.
"""

from __future__ import annotations

import heapq
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .predict import inference_autocast
from .sequences import open_text
from .tokenization_ienhancer_elm import _UNKNOWN_BASE, encode_bases


class ScanError(ValueError):
    pass


@dataclass
class ScanSettings:
    window: int = 200
    stride: int = 50
    threshold: float | None = None  # None: 0.5, the calls of the model's calibrated probabilities
    max_n_fraction: float = 0.1
    batch_size: int = 64
    precision: str = "auto"
    compile: bool = False

    def __post_init__(self):
        if self.window < 1:
            raise ScanError(f"window must be at least 1 base, got {self.window}")
        if not 1 <= self.stride <= self.window:
            raise ScanError(f"stride must be between 1 and the window ({self.window}), got {self.stride}")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ScanError(f"threshold must be a probability between 0 and 1, got {self.threshold}")
        if not 0 <= self.max_n_fraction <= 1:
            raise ScanError(f"the largest fraction of N must be between 0 and 1, got {self.max_n_fraction}")
        if self.batch_size < 1:
            raise ScanError(f"batch size must be at least 1, got {self.batch_size}")


@dataclass
class ScanSummary:
    records: int = 0
    bases: int = 0
    windows: int = 0
    skipped_n: int = 0
    short_records: list = field(default_factory=list)
    regions: int = 0

    def line(self) -> str:
        short = len(self.short_records)
        return (
            f"scanned {self.records} record(s), {self.bases} bp: {self.windows} window(s) scored, "
            f"{self.skipped_n} skipped for N, {short} record(s) shorter than the window, {self.regions} enhancer region(s)"
        )


@dataclass
class Segment:
    """A stretch of sequence to window: a whole record, or a region of one."""

    name: str
    offset: int
    chunks: Iterator[str]


def fasta_segments(path) -> Iterator[Segment]:
    """Records of a plain, gzip or bgzip FASTA file, each as a lazy stream of its sequence lines."""
    with open_text(path) as handle:
        line = handle.readline()
        while line:
            if not line.startswith(">"):
                if line.strip():
                    raise ScanError(f"{path}: expected a '>' header line, found {line[:30]!r}")
                line = handle.readline()
                continue
            name = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
            if not name:
                raise ScanError(f"{path}: a record has an empty header")
            pending = []

            def lines(pending=pending):
                while True:
                    current = handle.readline()
                    if not current or current.startswith(">"):
                        pending.append(current)
                        return
                    yield current

            yield Segment(name, 0, lines())
            if not pending:  # the consumer stopped early: skip the rest of the record
                for _ in lines():
                    pass
            line = pending[0]


def open_indexed(fasta_path):
    """The FASTA through its index (pyfaidx writes the `.fai` when missing)."""
    from pyfaidx import Fasta

    return Fasta(str(fasta_path), as_raw=True, sequence_always_upper=False)


def bed_segments(fasta_path, bed_path) -> Iterator[Segment]:
    """The regions of a BED file, cut from an indexed FASTA."""
    genome = open_indexed(fasta_path)
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
            yield Segment(name, start, iter([genome[name][start:end]]))


BLOCK_BASES = 1 << 16  # bases encoded and cut into windows at a time: whole-tensor work, bounded memory


def window_blocks(segment: Segment, settings: ScanSettings, summary: ScanSummary):
    """(starts, base codes [windows, window]) of the windows on the stride grid, a block of sequence at a
    time; a bad letter raises `ScanError`."""
    buffer = torch.empty(0, dtype=torch.long)
    buffer_start, length = 0, 0  # buffer[0] sits at buffer_start, always on the stride grid
    for text in _joined(segment.chunks, BLOCK_BASES):
        try:
            codes = encode_bases(text)
        except ValueError as error:
            raise ScanError(f"record {segment.name}: {_shift_position(error, segment.offset + length)}") from None
        length += len(codes)
        buffer = torch.cat([buffer, codes])
        count = max(0, (len(buffer) - settings.window) // settings.stride + 1)
        if count:
            starts = segment.offset + buffer_start + settings.stride * torch.arange(count)
            yield starts, buffer.unfold(0, settings.window, settings.stride)
            buffer, buffer_start = buffer[count * settings.stride :], buffer_start + count * settings.stride
    summary.bases += length
    if length < settings.window:
        summary.short_records.append(segment.name)


def _joined(lines, size: int) -> Iterator[str]:
    """The lines, joined into pieces of at least `size` characters (the last may be shorter)."""
    pending, pending_size = [], 0
    for line in lines:
        pending.append(line)
        pending_size += len(line)
        if pending_size >= size:
            yield "".join(pending)
            pending, pending_size = [], 0
    if pending:
        yield "".join(pending)


def _shift_position(error: ValueError, before: int) -> str:
    message = str(error)
    head, _, position = message.rpartition(" at position ")
    return f"{head} at position {int(position) + before}" if position.isdigit() else message


def batches(segments, settings: ScanSettings, summary: ScanSummary):
    """Batches of windows: (keys, codes[B, window]) with keys (segment index, name, start); windows with
    too many N are counted, not kept."""
    keys, blocks, size = [], [], settings.batch_size
    limit = settings.max_n_fraction * settings.window
    for index, segment in enumerate(segments):
        summary.records += 1
        for starts, codes in window_blocks(segment, settings, summary):
            keep = (codes == _UNKNOWN_BASE).sum(dim=1) <= limit
            kept = int(keep.sum())
            summary.windows += kept
            summary.skipped_n += len(keep) - kept
            keys.extend((index, segment.name, start) for start in starts[keep].tolist())
            blocks.append(codes[keep])
            if len(keys) >= size:
                rows, full = torch.cat(blocks), len(keys) // size * size
                for start in range(0, full, size):
                    yield keys[start : start + size], rows[start : start + size]
                keys, blocks = keys[full:], [rows[full:]]
    if keys:
        yield keys, torch.cat(blocks)


def score_batches(model, tokenizer, batch_iter, settings: ScanSettings, rank=0, world=1, progress=None):
    """(segment index, name, start, probability) of the windows in this process's share of the batches."""
    device = next(model.parameters()).device
    for index, (keys, codes) in enumerate(batch_iter):
        if progress is not None:
            progress.update(len(keys) * settings.stride)
        if index % world != rank:
            continue
        # k-mer ids are computed where the model runs: one small transfer per batch, and no CPU work on a GPU
        with torch.inference_mode(), inference_autocast(model, settings.precision):
            inputs = tokenizer.encode_codes(codes.to(device, non_blocking=True))
            probabilities = model(**inputs).probabilities.float().cpu().tolist()
        yield from ((*key, probability) for key, probability in zip(keys, probabilities))


class RegionWriter:
    """Writes windows above the threshold, merged where they overlap or touch on one segment, as BED
    (name `enhancer_N`, score = 1000 x the best window's probability, strand `.`)."""

    def __init__(self, handle, window: int, threshold: float):
        self.handle, self.window, self.threshold = handle, window, threshold
        self.open, self.count = None, 0

    def add(self, segment: int, name: str, start: int, probability: float) -> None:
        if probability <= self.threshold:
            return
        end = start + self.window
        if self.open and self.open[0] == segment and start <= self.open[3]:
            self.open[3], self.open[4] = max(self.open[3], end), max(self.open[4], probability)
            return
        self.close()
        self.open = [segment, name, start, end, probability]

    def close(self) -> None:
        if self.open:
            self.count += 1
            _, name, start, end, probability = self.open
            self.handle.write(f"{name}\t{start}\t{end}\tenhancer_{self.count}\t{round(1000 * probability)}\t.\n")
            self.open = None


def write_outputs(rows, settings: ScanSettings, threshold: float, bed_path, bedgraph_path=None) -> int:
    """Stream scored windows, in order, to the BED of regions and the bedGraph; returns the region count.

    The bedGraph puts each window's score on its central stride-long bin, so the intervals tile
    without overlapping.
    """
    margin = (settings.window - settings.stride) // 2
    with _written_whole(bed_path) as bed, _written_whole(bedgraph_path) as graph:
        if graph:
            graph.write("track type=bedGraph name=ienhancer-elm description=enhancer_probability\n")
        regions = RegionWriter(bed, settings.window, threshold)
        for segment, name, start, probability in rows:
            regions.add(segment, name, start, probability)
            if graph:
                graph.write(f"{name}\t{start + margin}\t{start + margin + settings.stride}\t{probability:.6f}\n")
        regions.close()
    return regions.count


@contextmanager
def _written_whole(path):
    """A file to write `path` through: a sibling `.partial` file, put in its place only once all is written,
    so that a scan that stops on an error leaves no output that could pass for a finished one."""
    if not path:
        yield None
        return
    if Path(path).exists() and not Path(path).is_file():  # a device or pipe: nothing to put in its place
        with open(path, "w", encoding="utf-8") as handle:
            yield handle
        return
    partial = Path(f"{path}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def save_share(rows, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def merged_shares(paths) -> Iterator[tuple]:
    """The processes' shares, each in scan order, merged back into one ordered stream."""
    handles = [open(path, encoding="utf-8") for path in paths]
    try:
        streams = [(tuple(json.loads(line)) for line in handle) for handle in handles]
        yield from heapq.merge(*streams, key=lambda row: (row[0], row[2]))
    finally:
        for handle in handles:
            handle.close()


def share_path(output: str | os.PathLike, rank: int) -> Path:
    return Path(f"{output}.part{rank}")


def scan(
    fasta,
    output,
    settings: ScanSettings,
    model=None,
    revision=None,
    regions=None,
    bedgraph=None,
    device=None,
    show_progress=True,
) -> ScanSummary | None:
    """Scan `fasta` (or its `regions`) and write the outputs; returns the summary on the main process."""
    from accelerate import PartialState
    from tqdm.auto import tqdm

    from .modeling_ienhancer_elm import DECISION_THRESHOLD
    from .predict import compile_for_inference, load_model, no_accelerator

    state = PartialState(cpu=device == "cpu" or no_accelerator())
    device = device if device not in (None, "auto") else state.device
    model, tokenizer = load_model(model, device, revision, precision=settings.precision)
    if settings.compile:
        compile_for_inference(model, settings.batch_size)
    threshold = settings.threshold if settings.threshold is not None else DECISION_THRESHOLD
    if regions:
        with state.main_process_first():  # pyfaidx writes a missing index; one process at a time
            open_indexed(fasta).close()
    segments = bed_segments(fasta, regions) if regions else fasta_segments(fasta)
    summary = ScanSummary()
    quiet = not (show_progress and state.is_main_process) or None
    with tqdm(desc="scan", unit="bp", unit_scale=True, disable=quiet, file=sys.stderr) as progress:
        rows = score_batches(
            model,
            tokenizer,
            batches(segments, settings, summary),
            settings,
            state.process_index,
            state.num_processes,
            progress,
        )
        if state.num_processes == 1:
            summary.regions = write_outputs(rows, settings, threshold, output, bedgraph)
            return summary
        save_share(rows, share_path(output, state.process_index))
    state.wait_for_everyone()
    if state.is_main_process:
        shares = [share_path(output, rank) for rank in range(state.num_processes)]
        summary.regions = write_outputs(merged_shares(shares), settings, threshold, output, bedgraph)
        for path in shares:
            path.unlink()
    state.wait_for_everyone()
    return summary if state.is_main_process else None
