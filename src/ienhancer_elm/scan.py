"""Scanning long sequences: sliding windows, scored in batches, merged into enhancer regions.

The FASTA file is streamed line by line, so memory stays flat however long the records are. Under
`accelerate launch` every process reads the whole file but scores only its share of the batches
(batch b goes to process b mod N); process 0 merges the shares, so the output equals a
single-process run. Where the model has a genomic background (`background.py`), windows are called by
their background p-value and each region gets its best window's p-value and a Benjamini-Hochberg q-value
over all windows scanned; without one, by probability.
"""

from __future__ import annotations

import os
import sys
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .background import (
    GC_STRATA,
    Background,
    BackgroundError,
    background_for,
    bh_q_values,
    model_fingerprint,
)
from .files import sha256_of, written_whole
from .genome_order import genome_ordered, in_genome_order
from .modeling_ienhancer_elm import DECISION_THRESHOLD
from .paths import model_file
from .progress import progress_bar
from .runtime import compile_for_inference, inference_autocast, load_model, process_state, scored_precision
from .sequences import EmptyInput
from .shares import chunks, merged_shares, save_share, share_path
from .tokenization_ienhancer_elm import _UNKNOWN_BASE, DNABERT_BASE_ORDER, encode_bases
from .windows import (
    ScanError,
    ScanSummary,
    Segment,
    WindowSettings,
    bed_intervals,
    bed_segments,
    fasta_inventory,
    fasta_segments,
    open_indexed,
    refuse_duplicate_names,
)

_BASE_CODE = {base: code for code, base in enumerate(DNABERT_BASE_ORDER)}

__all__ = ["ScanError", "ScanSettings", "scan", "compute_background"]


@dataclass(kw_only=True)
class ScanSettings(WindowSettings):
    """The windows (`WindowSettings`), how they are scored, and how they are called."""

    threshold: float | None = None  # None: by background p-value where the model has a background, else 0.5
    batch_size: int = 64
    precision: str = "auto"
    compile: bool = False
    background_rate: float | None = None  # None: DEFAULT_BACKGROUND_RATE where the model has a background
    bedgraph_value: str = "probability"  # or "log10p": -log10 of the background p-value

    def __post_init__(self):
        super().__post_init__()
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ScanError(f"threshold must be a probability between 0 and 1, got {self.threshold}")
        if self.batch_size < 1:
            raise ScanError(f"batch size must be at least 1, got {self.batch_size}")
        if self.background_rate is not None and not 0 < self.background_rate <= 1:
            raise ScanError(f"background rate must be above 0 and at most 1, got {self.background_rate}")
        if self.bedgraph_value not in BEDGRAPH_VALUES:
            raise ScanError(f"bedGraph value must be one of {', '.join(BEDGRAPH_VALUES)}, got {self.bedgraph_value!r}")


DEFAULT_BACKGROUND_RATE = 0.01
BEDGRAPH_VALUES = ("probability", "log10p")


BLOCK_BASES = 1 << 16  # bases encoded and cut into windows at a time: whole-tensor work, bounded memory


def window_blocks(segment: Segment, settings: WindowSettings, summary: ScanSummary):
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


def batches(segments, settings: WindowSettings, batch_size: int, summary: ScanSummary, progress=None):
    """Batches of windows: (keys, codes[B, window]) with keys (segment index, name, start); windows with
    too many N are counted, not kept.

    `progress` (a tqdm bar) advances by bases: each window on the stride grid stands for `stride` bases
    (a kept one when its batch goes to the model, a skipped one at once), and a record's bases after its
    last window's stride are added at its end, so a record adds exactly its length.
    """
    keys, blocks, size = [], [], batch_size
    limit = settings.max_n_fraction * settings.window
    advance = progress.update if progress is not None else (lambda bases: None)
    for index, segment in enumerate(segments):
        summary.records += 1
        bases_before, grid = summary.bases, 0
        for starts, codes in window_blocks(segment, settings, summary):
            keep = (codes == _UNKNOWN_BASE).sum(dim=1) <= limit
            kept = int(keep.sum())
            grid += len(keep)
            summary.windows += kept
            summary.skipped_n += len(keep) - kept
            advance((len(keep) - kept) * settings.stride)
            keys.extend((index, segment.name, start) for start in starts[keep].tolist())
            blocks.append(codes[keep])
            if len(keys) >= size:
                rows, full = torch.cat(blocks), len(keys) // size * size
                for start in range(0, full, size):
                    advance(size * settings.stride)
                    yield keys[start : start + size], rows[start : start + size]
                keys, blocks = keys[full:], [rows[full:]]
        advance(summary.bases - bases_before - grid * settings.stride)
    if keys:
        advance(len(keys) * settings.stride)
        yield keys, torch.cat(blocks)


def score_batches(model, tokenizer, batch_iter, precision: str = "auto", rank=0, world=1):
    """(segment index, name, start, probability, GC fraction) of the windows in this process's share of the
    batches; the GC fraction places the window in its background's GC stratum (`sequences.gc_fraction`)."""
    device = next(model.parameters()).device
    for index, (keys, codes) in enumerate(batch_iter):
        if index % world != rank:
            continue
        # k-mer ids are computed where the model runs: one small transfer per batch, and no CPU work on a GPU
        with torch.inference_mode(), inference_autocast(model, precision):
            inputs = tokenizer.encode_codes(codes.to(device, non_blocking=True))
            probabilities = model(**inputs).probabilities.float().cpu().tolist()
        yield from ((*key, probability, gc) for key, probability, gc in zip(keys, probabilities, window_gc(codes)))


def window_gc(codes: torch.Tensor) -> list[float]:
    """G + C over A + C + G + T of each window of base codes, as `sequences.gc_fraction` counts a sequence."""
    bases = (codes < _UNKNOWN_BASE).sum(dim=1).clamp(min=1)
    strong = ((codes == _BASE_CODE["G"]) | (codes == _BASE_CODE["C"])).sum(dim=1)
    return (strong.double() / bases.double()).tolist()


@dataclass
class Calling:
    """How windows are called: probability > `threshold`, or background p-value <= `rate`. With a background,
    regions get p- and q-values whichever rule calls them."""

    threshold: float | None = None
    rate: float | None = None
    background: object = None  # a background.Background, or None

    def rule(self) -> str:
        if self.threshold is not None:
            return f"probability > {self.threshold:g}"
        return f"background p-value <= {self.rate:g}"

    def calls(self, probabilities: np.ndarray, p_values: np.ndarray | None) -> np.ndarray:
        if self.threshold is not None:
            return probabilities > self.threshold
        return p_values <= self.rate


def calling_for(settings: ScanSettings, background) -> Calling:
    """An explicit --threshold wins; else the background rate where there is a background; else 0.5."""
    if settings.threshold is not None:
        return Calling(threshold=settings.threshold, background=background)
    if background is not None:
        return Calling(rate=settings.background_rate or DEFAULT_BACKGROUND_RATE, background=background)
    return Calling(threshold=DECISION_THRESHOLD)


@dataclass
class Region:
    segment: int
    name: str
    start: int
    end: int
    best: float  # the best window's probability
    best_start: int  # where that window starts
    best_level: int | None = None  # the background level of its window with the smallest p-value
    best_p: float = 1.0  # that p-value


class RegionMerger:
    """Called windows, merged where they overlap or touch on one segment; `emit(region, number)` gets each
    closed region, numbered from 1."""

    def __init__(self, window: int, emit):
        self.window, self.emit, self.open, self.count = window, emit, None, 0

    def add(self, segment: int, name: str, start: int, probability: float, level=None, p_value=1.0) -> None:
        end = start + self.window
        if self.open and self.open.segment == segment and start <= self.open.end:
            self.open.end = max(self.open.end, end)
            if probability > self.open.best:
                self.open.best, self.open.best_start = probability, start
            if level is not None and p_value < self.open.best_p:  # GC strata: not always the most probable
                self.open.best_level, self.open.best_p = level, p_value
            return
        self.close()
        self.open = Region(segment, name, start, end, probability, start, level, p_value)

    def close(self) -> None:
        if self.open:
            self.count += 1
            self.emit(self.open, self.count)
            self.open = None


ROWS_AT_A_TIME = 4096  # windows given p-values together (numpy), not one by one


def write_outputs(
    rows, settings: ScanSettings, calling: Calling, bed_path, bedgraph_path=None, in_order: bool = False
) -> tuple[int, int]:
    """Stream scored windows, in order, to the BED of regions and the bedGraph; returns (regions, windows called).
    Both come out sorted by record name, then start (`genome_order`); `in_order`: the records come in name order
    already, so the lines go straight to the outputs.

    The bedGraph puts each window's value on its central stride-long bin, so the intervals tile
    without overlapping. Without a background the BED is BED6 (name `enhancer_N`, score = 1000 x the best
    window's probability, strand `.`), written as regions close. With one, it is ENCODE's narrowPeak, which
    genome browsers read: BED6, then the best window's probability, -log10 of the smallest p-value of its
    windows, -log10 of that window's BH q-value over all windows scanned, and the offset of the best window's
    centre. The regions wait until the end, since q-values need every window's p-value: a histogram of
    windows per p-value level (`Background.level_p`) keeps that in O(background) memory.
    """
    background = calling.background
    margin = (settings.window - settings.stride) // 2
    counts = np.zeros(background.levels_count, dtype=np.int64) if background is not None else None
    kept, called = [], 0
    description = "enhancer_probability" if settings.bedgraph_value == "probability" else "-log10_background_p"
    track = f"track type=bedGraph name=ienhancer-elm description={description}\n"
    with _sorted_output(bed_path, in_order) as bed, _sorted_output(bedgraph_path, in_order, track) as graph:
        if background is not None:
            emit = lambda region, number: kept.append(region)  # noqa: E731
        else:
            emit = lambda region, number: bed.write(_bed6(region, number))  # noqa: E731
        regions = RegionMerger(settings.window, emit)
        for chunk in chunks(rows, ROWS_AT_A_TIME):
            probabilities = np.array([row[3] for row in chunk], dtype=np.float64)
            levels, p_values = [None] * len(chunk), np.ones(len(chunk))
            if background is not None:
                levels = background.levels(probabilities, np.array([row[4] for row in chunk], dtype=np.float64))
                counts += np.bincount(levels, minlength=len(counts))
                p_values = background.p_of_levels(levels)
            calls = calling.calls(probabilities, p_values)
            called += int(calls.sum())
            values = 0.0 - np.log10(p_values) if settings.bedgraph_value == "log10p" else None  # 0.0, not -0.0
            for i, (segment, name, start, probability, _) in enumerate(chunk):
                if calls[i]:
                    regions.add(segment, name, start, probability, levels[i], p_values[i])
                if graph:
                    value = probability if values is None else values[i]  # the row's own float: digits as before
                    graph.write(f"{name}\t{start + margin}\t{start + margin + settings.stride}\t{value:.6f}\n")
        regions.close()
        if background is not None:
            _write_narrow_peaks(bed, kept, background, counts, settings.window)
    return regions.count, called


@contextmanager
def _sorted_output(path, in_order: bool, header: str = ""):
    """A scan's output written whole (`written_whole`): its header line, then its lines sorted by record."""
    with written_whole(path) as handle:
        if handle is not None:
            handle.write(header)
        with genome_ordered(handle, path, in_order) as lines:
            yield lines


BIGWIG_ENTRIES_AT_A_TIME = 100_000


def bedgraph_to_bigwig(bedgraph: Path, bigwig: Path) -> None:
    """The scan's bedGraph (sorted by record, then start; bins that do not overlap) as a bigWig for genome browsers,
    through pyBigWig. A record's size in the header is its last bin's end: a scan knows no more of a record than
    the windows it read, and browsers place the bins by their coordinates."""
    import pyBigWig

    sizes = {}  # record -> last end, in the file's order, which the header must follow
    for chrom, _, end, _ in _bedgraph_rows(bedgraph):
        sizes[chrom] = max(sizes.get(chrom, 0), end)
    if not sizes:
        raise ScanError(f"no window was scored, so there is no bigWig to write ({bigwig})")
    partial = bigwig.with_name(f"{bigwig.name}.partial")
    track = pyBigWig.open(str(partial), "w")
    try:  # as `written_whole`, for a binary file: no half-written track is left under the final name
        track.addHeader(list(sizes.items()))
        for rows in chunks(_bedgraph_rows(bedgraph), BIGWIG_ENTRIES_AT_A_TIME):
            chroms, starts, ends, values = (list(column) for column in zip(*rows))
            track.addEntries(chroms, starts, ends=ends, values=values)
        track.close()
        os.replace(partial, bigwig)
    except RuntimeError as error:  # pyBigWig's word for bins out of order, which overlapping bins are
        raise ScanError(
            f"{bigwig}: the bins overlap, as overlapping --regions intervals make them; merge the intervals first "
            f"(bedtools merge) to write a bigWig ({error})"
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _bedgraph_rows(path: Path) -> Iterator[tuple[str, int, int, float]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number == 0 and line.startswith("track "):
                continue
            chrom, start, end, value = line.rstrip("\n").split("\t")
            yield chrom, int(start), int(end), float(value)


def _bed6(region: Region, number: int) -> str:
    return f"{region.name}\t{region.start}\t{region.end}\tenhancer_{number}\t{round(1000 * region.best)}\t.\n"


def _write_narrow_peaks(bed, regions: list[Region], background, counts: np.ndarray, window: int) -> None:
    levels = np.array([region.best_level for region in regions], dtype=np.int64)
    p_values, q_values = background.p_of_levels(levels), bh_q_values(counts, background.level_p)[levels]
    for number, (region, p, q) in enumerate(zip(regions, p_values, q_values), start=1):
        peak = region.best_start - region.start + window // 2  # the best window's centre
        scores = f"{region.best:.6f}\t{-np.log10(p):.6g}\t{-np.log10(q):.6g}\t{peak}"
        bed.write(f"{_bed6(region, number)[:-1]}\t{scores}\n")


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
    bigwig=None,
) -> ScanSummary | None:
    """Scan `fasta` (or its `regions`) and write the outputs; returns the summary on the main process."""
    state = process_state(device)
    if state.num_processes > 1 and "-" in (output, bedgraph):
        raise ScanError("several processes write their shares beside the output: give files, not - for stdout")
    device = device if device not in (None, "auto") else state.device
    # Every process runs the checks (each must stop alike, or the others would wait for it forever); the input's
    # come first, since they take no model.
    segments, total, in_order = _scan_input(fasta, regions, state)
    model, tokenizer = load_model(model, device, revision, precision=settings.precision)
    calling = calling_for(settings, background_for(model, revision))
    _check_calling(settings, calling, model, state.is_main_process)
    if settings.compile:
        compile_for_inference(model, settings.batch_size)
    summary = ScanSummary(rule=calling.rule())
    quiet = not (show_progress and state.is_main_process)
    outputs = (output, bedgraph, bigwig)
    with progress_bar(total=total, desc="scan", unit="bp", unit_scale=True, quiet=quiet) as progress:
        rows = score_batches(
            model,
            tokenizer,
            batches(segments, settings, settings.batch_size, summary, progress),
            settings.precision,
            state.process_index,
            state.num_processes,
        )
        if state.num_processes == 1:
            summary.regions, summary.called = _write_all(rows, settings, calling, outputs, in_order)
            return summary
        save_share(rows, share_path(output, state.process_index))
    state.wait_for_everyone()
    if state.is_main_process:
        shares = [share_path(output, rank) for rank in range(state.num_processes)]
        merged = merged_shares(shares, key=lambda row: (row[0], row[2]))
        summary.regions, summary.called = _write_all(merged, settings, calling, outputs, in_order)
        for path in shares:
            path.unlink()
    state.wait_for_everyone()
    return summary if state.is_main_process else None


def _write_all(rows, settings: ScanSettings, calling: Calling, outputs, in_order: bool) -> tuple[int, int]:
    """`write_outputs`, then the bigWig from the bedGraph (one written beside it for the while, if none was asked)."""
    output, bedgraph, bigwig = outputs
    graph = bedgraph or (f"{bigwig}.bedGraph" if bigwig else None)
    try:
        written = write_outputs(rows, settings, calling, output, graph, in_order)
        if bigwig:
            try:
                bedgraph_to_bigwig(Path(graph), Path(bigwig))
            except BaseException:  # a scan stopped by an error leaves no output
                for path in (output, bedgraph):
                    if path not in (None, "-"):
                        Path(path).unlink(missing_ok=True)
                raise
    finally:
        if graph and not bedgraph:
            Path(graph).unlink(missing_ok=True)
    return written


def _scan_input(fasta, regions, state) -> tuple[Iterator[Segment], int | None, bool]:
    """The segments to scan, their bases (the bar's total; None where unknown) and whether they come in name
    order; an input without any record is refused here, before the model loads."""
    if fasta == "-":
        return _standard_input_segments(regions, state)
    if regions:
        with state.main_process_first():  # pyfaidx writes a missing index; one process at a time
            genome = open_indexed(fasta)
        intervals = sorted(bed_intervals(fasta, regions, genome))  # sorted: the outputs come out in genome order
        genome.close()
        if not intervals:
            raise EmptyInput(regions, "interval")
        return bed_segments(fasta, regions, intervals), sum(end - start for _, start, end in intervals), True
    names, total = fasta_inventory(fasta)
    if not names and not total:  # bases without a header are not FASTA: reading the file says so
        raise EmptyInput(fasta)
    refuse_duplicate_names(names, fasta)
    return fasta_segments(fasta), total, in_genome_order(names)


def _standard_input_segments(regions, state) -> tuple[Iterator[Segment], None, bool]:
    """Standard input is read once, as it comes: no pre-pass, so the bar has no total and a repeated name stops
    the scan where it appears (no output is left); it cannot be indexed, nor read by several processes."""
    if regions:
        raise ScanError("--regions reads the FASTA through its index: give a FASTA file, not standard input (-)")
    if state.num_processes > 1:
        raise ScanError("standard input (-) can be read by one process only: give a FASTA file to scan in several")
    return _named_once(fasta_segments("-"), "-"), None, False


def _named_once(segments, source) -> Iterator[Segment]:
    """The segments, refused as the pre-pass would refuse them: a name seen before, or none at all."""
    seen = set()
    for segment in segments:
        if segment.name in seen:
            refuse_duplicate_names([segment.name, segment.name], source)
        seen.add(segment.name)
        yield segment
    if not seen:
        raise EmptyInput(source)


def _check_calling(settings: ScanSettings, calling: Calling, model, main_process: bool) -> None:
    """Refuse what needs a background the model lacks, before any output; say once how windows are called."""
    background = calling.background
    missing = f"{model.name_or_path} has no background.json (`ienhancer-elm background` computes one)"
    if background is None and settings.bedgraph_value == "log10p":
        raise ScanError(f"--bedgraph-value log10p needs a genomic background: {missing}")
    if background is None and settings.background_rate is not None and settings.threshold is None:
        raise ScanError(f"--background-rate needs a genomic background: {missing}; or call by --threshold")
    if background is not None and (differences := background.windows().differences(settings)):
        raise ScanError(
            f"{background.path} holds scores of other windows ({'; '.join(differences)}): scan with its settings"
            " (--window, --max-n), or compute a background for these with `ienhancer-elm background`"
        )
    if not main_process:
        return
    if background is None and settings.threshold is None:
        print(
            f"ienhancer-elm: note: {missing}: windows are called by probability > {calling.threshold:g}, the"
            " benchmark's threshold, which calls much of a genome; see docs/scanning.md",
            file=sys.stderr,
        )
    if background is not None and settings.threshold is not None and settings.background_rate is not None:
        note = "--threshold given: windows are called by probability, not by --background-rate"
        print(f"ienhancer-elm: note: {note}", file=sys.stderr)
    if background is not None and (note := background.precision_note(scored_precision(model, settings.precision))):
        print(f"ienhancer-elm: note: {note}", file=sys.stderr)
    if calling.rate is not None and calling.rate < background.smallest_p:
        print(
            f"ienhancer-elm: warning: no window can be called at background rate {calling.rate:g}: the smallest"
            f" p-value {background.n} background windows in {len(background.strata)} GC strata give is"
            f" {background.smallest_p:.3g}",
            file=sys.stderr,
        )


def compute_background(
    model_source,
    fastas,
    settings,
    device=None,
    command: str = "",
    show_progress: bool = True,
    gc_strata: int = GC_STRATA,
) -> Background:
    """Score the windows of `fastas` as `scan` does (its windowing and batching, one process) into a Background
    of `gc_strata` GC strata."""
    model, tokenizer = load_model(model_source, device, precision=settings.precision)
    if settings.compile:
        compile_for_inference(model, settings.batch_size)
    scores, gc, pieces = array("d"), array("d"), []  # 8 bytes a window, not a Python float's 24
    for fasta in fastas:
        summary = ScanSummary()
        _, total = fasta_inventory(fasta)
        bar = progress_bar(total=total, desc=Path(fasta).name, unit="bp", unit_scale=True, quiet=not show_progress)
        with bar as progress:
            windows = batches(fasta_segments(fasta), settings, settings.batch_size, summary, progress)
            for row in score_batches(model, tokenizer, windows, settings.precision):
                scores.append(row[3])
                gc.append(row[4])
        piece = {"file": Path(fasta).name, "sha256": sha256_of(fasta), "records": summary.records}
        pieces.append(piece | {"bases": summary.bases, "windows": summary.windows, "skipped_n": summary.skipped_n})
    if not scores:
        raise BackgroundError(f"no window of {settings.window} bp was scored in {', '.join(map(str, fastas))}")
    weights = model_file(model.name_or_path, "model.safetensors")
    return Background(
        np.frombuffer(scores, dtype=np.float64),
        settings.window,
        settings.stride,
        settings.max_n_fraction,
        model_fingerprint(model, weights, scored_precision(model, settings.precision)),
        pieces,
        command,
        gc=np.frombuffer(gc, dtype=np.float64),
        gc_strata=gc_strata,
    )
