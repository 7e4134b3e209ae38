"""Variant effects: each ALT allele of a VCF scored against its REF in a window of the reference genome.

One row per record and ALT allele, in input order. A variant at 1-based POS sits at p = POS - 1; its window is
the `window` bases (0-based, half-open) `[p - window // 2, p - window // 2 + window)` of the reference, and the
ref and alt windows are scored by `predict.predict_records`, the function `ienhancer-elm predict` scores
sequences with (same precision, same batching), so `ref_probability` is what `predict` gives that window.

An indel's alt window starts where the ref window does and reads the alt haplotype: the reference bases before
the variant, ALT, then the reference after REF's span, cut to `window` bases. The columns give the ref window.

The VCF is read line by line here, not through a VCF library: pysam and cyvcf2 stop at the first malformed
line, and a bad record must become an error row (a malformed line, a REF the reference does not have, an
unknown contig, a symbolic or structural ALT, a variant too near a contig end), never stop the run or be dropped.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .files import open_text
from .predict import LENGTH_BUCKET_BATCHES, _number, _p_value, predict_records  # _number, _p_value: predict's cells
from .sequences import Record
from .shares import chunks, own_chunks

DEFAULT_WINDOW = 200  # the shipped models' window_bp, and scan's default window
VCF_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT")  # the first five of a VCF line: all a variant needs here
DNA = frozenset("ACGTN")


class VariantError(ValueError):
    """The run as a whole cannot go on (the reference or the VCF cannot be read); a bad record is an error row."""


@dataclass
class VariantRow:
    """One ALT allele of one VCF record, its windows and their scores; `error` says why it was not scored."""

    line: int
    chrom: str
    pos: str  # as written: a malformed line's POS is reported as found
    id: str
    ref: str
    alt: str
    window_start: int | None = None
    window_end: int | None = None
    ref_window: str | None = None
    alt_window: str | None = None
    ref_probability: float | None = None
    alt_probability: float | None = None
    ref_gc: float | None = None
    alt_gc: float | None = None
    error: str | None = None
    ordinal: int = 0  # the row's place in the VCF's rows: shares of several processes merge by it

    @property
    def delta(self) -> float | None:
        if self.ref_probability is None or self.alt_probability is None:
            return None
        return self.alt_probability - self.ref_probability


def open_reference(path):
    """The reference through pyfaidx (plain, or bgzip with its index; pyfaidx writes a missing `.fai`/`.gzi`)."""
    from pyfaidx import Fasta, FastaIndexingError, FastaNotFoundError, UnsupportedCompressionFormat

    try:
        return Fasta(str(path), as_raw=True, sequence_always_upper=True)
    except FastaNotFoundError:
        raise VariantError(f"{path}: no such reference FASTA") from None
    except UnsupportedCompressionFormat:
        raise VariantError(_plain_gzip_message(path)) from None
    except (FastaIndexingError, ValueError) as error:  # ValueError: a repeated record name (`Duplicate key`)
        raise VariantError(f"{path}: cannot index the reference: {error}") from None


def _plain_gzip_message(path) -> str:
    plain = str(path).removesuffix(".gz")
    return (
        f"{path} is plain gzip: a compressed reference must be bgzip (blocked gzip), which can be read at any"
        f" position through its index. Decompress it (`bgzip -d -c {path} > {plain}`) or recompress it"
        f" (`zcat {path} | bgzip > {plain}.bgz`)"
    )


def read_variants(source) -> Iterator[VariantRow]:
    """One row per record and ALT allele of a VCF (plain, gzip, or "-"), header lines skipped; a malformed
    line gives rows with `error` set (one per ALT where its ALT column can be split, else one)."""
    handle = open_text(source)
    try:
        for number, line in enumerate(_lines(handle, source), start=1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            chrom, pos, variant_id, ref, alts = (fields + [""] * len(VCF_COLUMNS))[: len(VCF_COLUMNS)]
            error = _line_error(fields, number)
            for alt in alts.split(",") if alts else [alts]:
                yield VariantRow(number, chrom, pos, variant_id, ref, alt, error=error)
    finally:
        if handle is not sys.stdin:
            handle.close()


def _lines(handle, source) -> Iterator[str]:
    """The handle's lines; undecodable or damaged input stops the run with its name (nothing to score)."""
    try:
        yield from handle
    except UnicodeDecodeError as error:
        raise VariantError(f"{source}: not a text VCF ({error.reason} at byte {error.start})") from None
    except (EOFError, gzip.BadGzipFile) as error:
        raise VariantError(f"{source}: a damaged gzip file ({error})") from None


def _line_error(fields: list[str], number: int) -> str | None:
    if len(fields) < len(VCF_COLUMNS):
        return (
            f"malformed line {number}: {len(fields)} tab-separated column(s), a VCF record needs at least"
            f" {len(VCF_COLUMNS)} ({' '.join(VCF_COLUMNS)})"
        )
    chrom, pos, _, ref, alt = fields[: len(VCF_COLUMNS)]
    if not chrom:
        return f"malformed line {number}: empty CHROM"
    if not (pos.isascii() and pos.isdigit() and int(pos) >= 1):  # isascii: int() also takes "1_000" and "²"
        return f"malformed line {number}: POS {pos!r} is not a positive integer"
    if not ref or ref == ".":
        return f"malformed line {number}: empty REF"
    if not alt:
        return f"malformed line {number}: empty ALT"
    if not set(ref.upper()) <= DNA:
        return f"REF {ref!r} is not a DNA sequence (A, C, G, T, N)"
    return None


def allele_error(alt: str) -> str | None:
    """Why an ALT allele is not a sequence to score, or None."""
    if alt == ".":
        return "no alternative allele (ALT is '.')"
    if alt == "*":
        return "ALT '*' (an allele overlapped by a deletion elsewhere) has no sequence to score"
    if alt.startswith("<"):
        return f"symbolic ALT {alt}: structural variants are not scored, only sequence alleles"
    if "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        return f"breakend ALT {alt}: structural variants are not scored, only sequence alleles"
    if not set(alt.upper()) <= DNA:
        return f"ALT {alt!r} is not a DNA sequence (A, C, G, T, N)"
    return None


def place_windows(row: VariantRow, genome, reference_name: str, window: int) -> None:
    """Set the row's ref and alt windows from the reference, or its error."""
    row.error = row.error or allele_error(row.alt) or _contig_error(row.chrom, genome, reference_name)
    if row.error:
        return
    contig = genome[row.chrom]
    length, p = len(contig), int(row.pos) - 1
    ref, alt = row.ref.upper(), row.alt.upper()
    found = contig[p : min(p + len(ref), length)]  # pyfaidx refuses to read past a bgzip contig's end
    if found != ref:
        row.error = _mismatch(row, found, reference_name, length)
        return
    start, end = p - window // 2, p - window // 2 + window
    after = p + len(ref)  # the first reference base after REF's span
    needed = after + max(0, end - p - len(alt))  # the alt haplotype reads this far into the reference
    if start < 0 or max(end, needed) > length:
        row.error = _too_near_end(row.chrom, (start, end), needed, length, window)
        return
    row.window_start, row.window_end = start, end
    row.ref_window = contig[start:end]
    row.alt_window = alt_window(contig[start:p], alt, contig[after:needed], window)


def alt_window(before: str, alt: str, following: str, window: int) -> str:
    """The alt haplotype from the ref window's start: reference before the variant, ALT, reference after REF's
    span; cut to `window` bases (a long insertion pushes the window's far end out)."""
    return (before + alt + following)[:window]


def _contig_error(chrom: str, genome, reference_name: str) -> str | None:
    if chrom in genome:
        return None
    other = chrom.removeprefix("chr") if chrom.startswith("chr") else f"chr{chrom}"
    hint = f"; it has {other!r}: the VCF and the reference name contigs differently (a 'chr' prefix)"
    return f"contig {chrom!r} is not in {reference_name}" + (hint if other in genome else "")


def _mismatch(row: VariantRow, found: str, reference_name: str, length: int) -> str:
    where = f"{row.chrom}:{row.pos}"
    if len(found) < len(row.ref):
        return f"REF {row.ref} runs past the end of {row.chrom} ({length} bp) in {reference_name}"
    return f"REF {row.ref} does not match the reference: {reference_name} has {found} at {where}"


def _too_near_end(chrom: str, ref_window: tuple[int, int], needed: int, length: int, window: int) -> str:
    start, end = ref_window
    spans = f"{chrom} spans [0, {length})"
    if start < 0 or end > length:
        side = "start" if start < 0 else "end"
        return f"too near the {side} of {chrom}: its {window} bp window [{start}, {end}) does not fit; {spans}"
    # a deletion: the alt haplotype's window reads past REF's span, further than the ref window
    return f"too near the end of {chrom}: the alt allele's {window} bp window reads the reference to {needed}; {spans}"


def score_rows(model, tokenizer, rows, batch_size: int = 32, precision: str = "auto") -> Iterator[VariantRow]:
    """Score the rows' windows through `predict_records`, many variants per model call; rows in input order."""
    for chunk in chunks(rows, rows_per_chunk(batch_size)):
        _score_chunk(model, tokenizer, [row for row in chunk if not row.error], batch_size, precision)
        yield from chunk


def rows_per_chunk(batch_size: int) -> int:
    return max(1, batch_size * LENGTH_BUCKET_BATCHES // 2)  # two windows a variant: one predict chunk


def _score_chunk(model, tokenizer, rows: list[VariantRow], batch_size: int, precision: str) -> None:
    records = [Record(f"{n}{allele}", window) for n, row in enumerate(rows) for allele, window in _windows(row)]
    predictions = iter(predict_records(model, tokenizer, records, batch_size, precision))
    for row in rows:
        ref, alt = next(predictions), next(predictions)
        row.ref_probability, row.ref_gc = ref.probability, ref.gc
        row.alt_probability, row.alt_gc = alt.probability, alt.gc
        problems = [f"{allele} window: {p.error}" for allele, p in (("ref", ref), ("alt", alt)) if p.error]
        row.error = "; ".join(problems) or None


def _windows(row: VariantRow) -> list[tuple[str, str]]:
    return [("ref", row.ref_window), ("alt", row.alt_window)]


def variant_effects(vcf, reference, model, tokenizer, window=None, batch_size=32, precision="auto", rank=0, world=1):
    """The rows of a VCF against a reference FASTA, scored, lazily; `window` defaults to the model's `window_bp`
    (else DEFAULT_WINDOW). The reference is opened now, so that a bad one stops the run before any output. Of
    `world` processes, the one of `rank` places and scores only its share of the rows (`shares.own_chunks`)."""
    genome = open_reference(reference)
    window = window_for(model, window)
    placing = (genome, Path(str(reference)).name, window)
    return _scored(vcf, placing, model, tokenizer, batch_size, precision, rank, world)


def _scored(vcf, placing, model, tokenizer, batch_size, precision, rank, world):
    genome = placing[0]

    def placed():
        numbered = chunks(enumerate(read_variants(vcf)), rows_per_chunk(batch_size))
        for chunk in own_chunks(numbered, rank, world):
            for ordinal, row in chunk:
                row.ordinal = ordinal
                place_windows(row, *placing)
                yield row

    try:
        yield from score_rows(model, tokenizer, placed(), batch_size, precision)
    finally:
        genome.close()


def window_for(model, window: int | None = None) -> int:
    """The window asked for, else the model's `window_bp` (the length it was trained on), else DEFAULT_WINDOW."""
    return window or getattr(model.config, "window_bp", None) or DEFAULT_WINDOW


def table_header(background=None) -> list[str]:
    """The columns of `ienhancer-elm variants`' TSV; with a `background.Background`, each window's p-value."""
    p_values = ["ref_background_p", "alt_background_p"] if background is not None else []
    scores = ["ref_probability", "alt_probability", "delta"]
    return ["chrom", "pos", "id", "ref", "alt", "window_start", "window_end", *scores, *p_values, "error"]


def table_cells(row: VariantRow, background=None, window: int | None = None) -> list[str]:
    """One row's cells under `table_header`: numbers with six decimals (delta from the unrounded scores), and
    p-values with six significant digits as `predict` writes them, left empty where the background's windows
    are not `window` bases long (it describes windows of its own length only)."""
    cells = [row.chrom, row.pos, row.id, row.ref, row.alt, _integer(row.window_start), _integer(row.window_end)]
    cells += [_number(row.ref_probability), _number(row.alt_probability), _number(row.delta)]
    if background is not None:
        comparable = window == background.window
        cells += [_p_value(background, score, gc) if comparable else "" for score, gc in _scores(row)]
    return [*cells, row.error or ""]


def _scores(row: VariantRow):
    return [(row.ref_probability, row.ref_gc), (row.alt_probability, row.alt_gc)]


def _integer(value) -> str:
    return "" if value is None else str(value)
