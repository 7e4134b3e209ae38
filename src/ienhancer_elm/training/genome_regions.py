"""Enhancer regions on a reference genome, for a dataset of one's own: a BED file read with errors that name the
line, each region cut to a fixed length around its centre, and negatives drawn from the genome, off every region
and matched to the positives on GC (`negatives.gc_matched_windows`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..files import open_text
from ..sequences import InputFormatError, gc_fraction

GC_TOLERANCE = 0.01  # a drawn window's GC share lies within this of its positive's
POOL_PER_POSITIVE = 10  # candidate windows kept per positive in reach, per GC bin (see `candidate_pool`)


class RegionError(InputFormatError):
    """A BED file or reference that cannot give a dataset: names the file and the line."""


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 0-based, end exclusive, as BED
    end: int
    line: int
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


def read_bed(path) -> list[Region]:
    """The regions of a BED file (plain or gzip); `track`, `browser` and `#` lines are skipped."""
    regions = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            regions.append(_bed_region(path, number, line.rstrip("\r\n").split("\t")))
    if not regions:
        raise RegionError(f"{path}: holds no BED region")
    return regions


def _bed_region(path, number: int, fields: list[str]) -> Region:
    if len(fields) < 3:
        raise RegionError(f"{path}: line {number}: a BED line needs chrom, start and end, tab-separated")
    try:
        start, end = int(fields[1]), int(fields[2])
    except ValueError:
        raise RegionError(f"{path}: line {number}: start and end must be whole numbers") from None
    if not 0 <= start < end:
        raise RegionError(f"{path}: line {number}: start {start} is not below end {end}")
    return Region(fields[0], start, end, number, fields[3] if len(fields) > 3 else "")


def open_genome(path):
    """The reference through pyfaidx, plain or bgzip; its errors in one line naming the file."""
    from ..variants import VariantError, open_reference  # the one place that opens a reference for reading

    try:
        return open_reference(path)
    except VariantError as error:
        raise RegionError(str(error)) from None


def centred_window(region: Region, length: int, chrom_length: int, source) -> tuple[int, int]:
    """`length` bases around the region's centre, moved inside the chromosome where the centre is near an end."""
    if chrom_length < length:
        raise RegionError(f"{source}: line {region.line}: {region.chrom} is shorter than {length} bases")
    start = (region.start + region.end) // 2 - length // 2
    start = min(max(start, 0), chrom_length - length)
    return start, start + length


def region_windows(regions: list[Region], genome, length: int, source) -> list[tuple[Region, Region, str]]:
    """(region, its centred window as a Region, the window's upper-case sequence) per region, in file order."""
    windows = []
    for region in regions:
        if region.chrom not in genome:
            raise RegionError(f"{source}: line {region.line}: {region.chrom} is not in the reference")
        contig = genome[region.chrom]
        if region.end > len(contig):
            raise RegionError(f"{source}: line {region.line}: ends at {region.end}, past {region.chrom}'s end")
        start, end = centred_window(region, length, len(contig), source)
        window = Region(region.chrom, start, end, region.line, region.name)
        windows.append((region, window, str(contig[start:end]).upper()))
    return windows


@dataclass
class Candidates:
    """Tiled genome windows that may serve as negatives: chromosome, start and GC share of each."""

    chroms: list[str]
    chrom_index: np.ndarray
    starts: np.ndarray
    gc: np.ndarray


def candidate_windows(genome, chroms, length: int, excluded: list[Region]) -> Candidates:
    """Every `length` bp window of `chroms`, tiled from each one's start, that holds A, C, G and T only and
    overlaps no `excluded` region."""
    chrom_index, starts, gcs = [], [], []
    for index, chrom in enumerate(chroms):
        bases = np.frombuffer(str(genome[chrom][:]).upper().encode("ascii"), dtype=np.uint8)
        count = len(bases) // length
        tiles = bases[: count * length].reshape(count, length)
        clean = np.isin(tiles, np.frombuffer(b"ACGT", dtype=np.uint8)).all(axis=1)
        for region in excluded:
            if region.chrom == chrom:  # a window [s, s + length) overlaps [start, end) from start // length on
                clean[region.start // length : (region.end - 1) // length + 1] = False
        kept = np.flatnonzero(clean)
        strong = np.isin(tiles[kept], np.frombuffer(b"GC", dtype=np.uint8)).sum(axis=1)
        chrom_index.append(np.full(len(kept), index))
        starts.append(kept * length)
        gcs.append(strong / length)
    return Candidates(list(chroms), np.concatenate(chrom_index), np.concatenate(starts), np.concatenate(gcs))


def candidate_pool(window_gc: np.ndarray, target_gc, seed: int) -> np.ndarray:
    """Indices of the windows to match from: per GC bin of `GC_TOLERANCE`, at most `POOL_PER_POSITIVE` windows per
    positive within reach of the bin, drawn at random. Matching then costs the same for a whole genome as for a
    piece (it compares every positive with every window), and GC-rich positives, whose windows are rare, still
    find theirs."""
    rng = np.random.default_rng(seed)
    # + 1e-9: 0.3 / 0.01 is 29.999..., and a share on a bin's edge must fall into that bin
    window_bins = np.floor(window_gc / GC_TOLERANCE + 1e-9).astype(int)
    target_bins = np.floor(np.asarray(target_gc) / GC_TOLERANCE + 1e-9).astype(int)
    pool = []
    for value in np.unique(window_bins):
        in_reach = int(np.sum(np.abs(target_bins - value) <= 1))
        members = np.flatnonzero(window_bins == value)
        if in_reach:
            pool.append(rng.permutation(members)[: POOL_PER_POSITIVE * in_reach])
    return np.sort(np.concatenate(pool)) if pool else np.empty(0, dtype=int)


def gc_matched_negatives(genome, candidates: Candidates, positives: list[str], length: int, seed: int):
    """(window Region, sequence) of one candidate window per positive within `GC_TOLERANCE` of its GC share,
    drawn without replacement with `seed`; a positive with no window in reach gets none."""
    from .negatives import gc_matched_windows  # here: it loads the training code, which FASTA input never needs

    target_gc = [gc_fraction(sequence) for sequence in positives]
    pool = candidate_pool(candidates.gc, target_gc, seed)
    chosen = gc_matched_windows(target_gc, pool, candidates.gc[pool], GC_TOLERANCE, seed)
    drawn = []
    for index in chosen:
        chrom, start = candidates.chroms[candidates.chrom_index[index]], int(candidates.starts[index])
        sequence = str(genome[chrom][start : start + length]).upper()
        drawn.append((Region(chrom, start, start + length, 0), sequence))
    return drawn
