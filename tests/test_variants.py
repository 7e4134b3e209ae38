"""`ienhancer-elm variants`: VCF records scored as `predict` scores their windows, bad records as error rows."""

import csv
import gzip
import random

import pytest

from ienhancer_elm.cli import main
from ienhancer_elm.predict import load_model, predict_records
from ienhancer_elm.sequences import read_records
from ienhancer_elm.variants import VariantError, table_header, variant_effects, window_for

from conftest import TINY, genome_fasta, windowed_tiny

VCF_HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.fixture(scope="module")
def tiny():
    return load_model(TINY, "cpu", precision="fp32")


def write_reference(path, contigs: dict[str, str], width: int = 60):
    """A FASTA wrapped at `width` (pyfaidx reads it through its index, line lengths included)."""
    lines = []
    for name, sequence in contigs.items():
        lines += [f">{name}", *(sequence[i : i + width] for i in range(0, len(sequence), width))]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_vcf(path, records: list[str]):
    """A VCF of `records` (tab-separated lines without QUAL FILTER INFO, added here where a line has 5 columns)."""
    lines = [line + "\t.\t.\t." if line.count("\t") == 4 else line for line in records]
    text = VCF_HEADER + "".join(f"{line}\n" for line in lines)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def random_variants(sequence: str, chrom: str, count: int, seed: int) -> list[str]:
    """SNVs, insertions and deletions at random places at least 120 bp from the contig's ends."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        p = rng.randrange(120, len(sequence) - 120)
        ref = sequence[p : p + rng.choice([1, 1, 1, 3])].upper()
        if len(ref) > 1:  # a deletion of the bases after the first
            alt = ref[0]
        elif i % 5 == 0:
            alt = ref + "".join(rng.choice("ACGT") for _ in range(rng.randrange(1, 12)))
        else:
            alt = ",".join(b for b in "ACGT" if b != ref)[: rng.choice([1, 3, 5])]
        records.append(f"{chrom}\t{p + 1}\tv{i}\t{ref}\t{alt}")
    return records


def rows_of(vcf, reference, model_and_tokenizer, **options):
    model, tokenizer = model_and_tokenizer
    return list(variant_effects(vcf, reference, model, tokenizer, precision="fp32", **options))


def test_rows_equal_predict_on_the_written_windows(tmp_path, tiny):
    """Each ref and alt window, cut by hand from the reference, scores in `predict` exactly what the row says
    (fp32, at the same batch size: fp32 sums differ in their last bits between batch shapes, in `predict` too);
    60 records span several scoring chunks (batch 4: 32 variants a chunk)."""
    reference = genome_fasta(tmp_path / "genome.fa", bases=1500, seed=3)  # soft-masked, with a run of N
    genome = "".join(reference.read_text().split("\n")[1:]).upper()
    vcf = write_vcf(tmp_path / "in.vcf", random_variants(genome, "piece", 60, seed=1))
    rows = rows_of(vcf, reference, tiny, batch_size=4)
    assert len(rows) > 60 and not any(row.error for row in rows)
    windows = []
    for row in rows:
        p, ref, alt = int(row.pos) - 1, row.ref, row.alt
        assert (row.window_start, row.window_end) == (p - 100, p + 100)
        assert row.ref_window == genome[p - 100 : p + 100]
        assert row.alt_window == (genome[p - 100 : p] + alt + genome[p + len(ref) :])[:200]
        windows += [f">{row.id}_{row.alt}_ref\n{row.ref_window}\n", f">{row.id}_{row.alt}_alt\n{row.alt_window}\n"]
    (tmp_path / "windows.fa").write_text("".join(windows))
    predicted = list(predict_records(*tiny, read_records(tmp_path / "windows.fa"), 4, precision="fp32"))
    assert [p.probability for p in predicted] == [x for row in rows for x in (row.ref_probability, row.alt_probability)]
    assert [row.delta for row in rows] == [row.alt_probability - row.ref_probability for row in rows]


# A hand-made contig: AAAA CCCC GGGG TTTT ACGTACGT (0-based positions 0-3, 4-7, 8-11, 12-15, 16-23); windows of 10.
HAND_MADE = "AAAACCCCGGGGTTTTACGTACGT"


@pytest.mark.parametrize(
    ("ref", "alt", "ref_window", "alt_window"),
    [
        ("G", "C", "ACCCCGGGGT", "ACCCCCGGGT"),  # SNV at 0-based 8: window [3, 13)
        ("G", "GTT", "ACCCCGGGGT", "ACCCCGTTGG"),  # insertion: the window's far end is cut
        ("GGGG", "G", "ACCCCGGGGT", "ACCCCGTTTT"),  # deletion: the window reads on past REF's span
        ("GG", "GACGTACGTA", "ACCCCGGGGT", "ACCCCGACGT"),  # an insertion longer than the window's half
        ("GGGGT", "CA", "ACCCCGGGGT", "ACCCCCATTT"),  # a complex substitution, shorter
    ],
)
def test_indel_windows_are_cut_as_documented(tmp_path, tiny, ref, alt, ref_window, alt_window):
    reference = write_reference(tmp_path / "hand.fa", {"c": HAND_MADE}, width=7)
    (row,) = rows_of(write_vcf(tmp_path / "in.vcf", [f"c\t9\tx\t{ref}\t{alt}"]), reference, tiny, window=10)
    assert (row.error, row.window_start, row.window_end) == (None, 3, 13)
    assert (row.ref_window, row.alt_window) == (ref_window, alt_window)


# Two random contigs, and "1" (a copy of c2) for the chr-prefix hint; WRONG is not C1's base at 0-based 300.
C1, C2 = ("".join(random.Random(seed).choice("ACGT") for _ in range(n)) for seed, n in ((21, 600), (22, 300)))
WRONG = {"A": "C", "C": "G", "G": "T", "T": "A"}[C1[300]]
BAD_RECORDS = {  # id: (the VCF line, a part of its error)
    "good_snv": (f"c1\t301\tgood_snv\t{C1[300]}\tA,C", None),
    "mismatch": (
        f"c1\t301\tmismatch\t{WRONG}\tA",
        f"REF {WRONG} does not match the reference: ref.fa has {C1[300]} at c1:301",
    ),
    "no_contig": ("c9\t301\tno_contig\tA\tC", "contig 'c9' is not in ref.fa"),
    "chr_prefix": (
        "chr1\t301\tchr_prefix\tA\tC",
        "contig 'chr1' is not in ref.fa; it has '1': the VCF and the reference",
    ),
    "symbolic": (f"c1\t301\tsymbolic\t{C1[300]}\t<DEL>", "symbolic ALT <DEL>: structural variants"),
    "breakend": (f"c1\t301\tbreakend\t{C1[300]}\t{C1[300]}]c2:5]", "breakend ALT"),
    "single_breakend": (f"c1\t301\tsingle_breakend\t{C1[300]}\t.{C1[300]}", "breakend ALT"),
    "star": (f"c1\t301\tstar\t{C1[300]}\t*", "ALT '*'"),
    "no_alt": (f"c1\t301\tno_alt\t{C1[300]}\t.", "no alternative allele"),
    "not_dna": (f"c1\t301\tnot_dna\t{C1[300]}\tAXG", "ALT 'AXG' is not a DNA sequence"),
    "near_start": (f"c1\t50\tnear_start\t{C1[49]}\tA", "too near the start of c1: its 200 bp window [-51, 149) does"),
    "near_end": (f"c1\t550\tnear_end\t{C1[549]}\tA", "too near the end of c1: its 200 bp window [449, 649) does not"),
    # the ref window [399, 599) fits, but without 5 bases the alt window reads on to 604
    "deletion_near_end": (f"c1\t500\tdeletion_near_end\t{C1[499:505]}\t{C1[499]}", "window reads the reference to 604"),
    "ref_past_end": (f"c2\t299\tref_past_end\t{C2[298:300]}AA\tA", f"REF {C2[298:300]}AA runs past the end of c2"),
    "few_columns": ("c1\t301\tfew_columns", "malformed line 17: 3 tab-separated column(s)"),
    "bad_pos": ("c1\t30x\tbad_pos\tA\tC", "malformed line 18: POS '30x' is not a positive integer"),
    "pos_zero": ("c1\t0\tpos_zero\tA\tC", "POS '0' is not a positive integer"),
    "empty_ref": ("c1\t301\tempty_ref\t\tC", "malformed line 20: empty REF"),
    "empty_alt": ("c1\t301\tempty_alt\tA\t", "malformed line 21: empty ALT"),
    "multi": (f"c1\t301\tmulti\t{C1[300]}\tA,<INS>,C", None),  # the middle allele only is an error row
    "good_deletion": (f"c2\t150\tgood_deletion\t{C2[149:152]}\t{C2[149]}", None),
}


def bad_records_vcf(tmp_path, name="bad.vcf"):
    reference = write_reference(tmp_path / "ref.fa", {"c1": C1, "c2": C2, "1": C2})
    return write_vcf(tmp_path / name, [line for line, _ in BAD_RECORDS.values()]), reference


def test_every_bad_record_kind_gives_its_error_row_in_input_order(tmp_path, tiny):
    vcf, reference = bad_records_vcf(tmp_path)
    rows = rows_of(vcf, reference, tiny)
    expected_ids = [key for key in BAD_RECORDS for _ in range({"good_snv": 2, "multi": 3}.get(key, 1))]
    assert [row.id for row in rows] == expected_ids  # every record and allele, in input order
    by_id = {row.id: row for row in rows}
    for key, (_, error) in BAD_RECORDS.items():
        if key == "multi":
            continue
        row = by_id[key]
        if error is None:
            assert row.error is None and row.ref_probability is not None and row.alt_probability is not None
        else:
            assert error in row.error, (key, row.error)
            assert row.ref_probability is row.alt_probability is row.window_start is None
    assert (by_id["few_columns"].pos, by_id["few_columns"].alt) == ("301", "")
    assert "it has" not in by_id["no_contig"].error  # no hint where no name differs by a chr prefix
    multi = [row for row in rows if row.id == "multi"]
    assert [row.alt for row in multi] == ["A", "<INS>", "C"]
    assert [row.error is None for row in multi] == [True, False, True]


def test_a_gzipped_vcf_and_standard_input_give_the_same_rows(tmp_path, tiny, monkeypatch):
    vcf, reference = bad_records_vcf(tmp_path)
    gzipped, _ = bad_records_vcf(tmp_path, "bad.vcf.gz")
    plain = rows_of(vcf, reference, tiny)
    assert rows_of(gzipped, reference, tiny) == plain
    monkeypatch.setattr("sys.stdin", open(vcf))
    assert rows_of("-", reference, tiny) == plain


def test_a_bgzipped_reference_is_read_and_a_plain_gzip_one_refused_with_the_fix(tmp_path, tiny):
    from Bio import bgzf

    vcf, reference = bad_records_vcf(tmp_path)
    with bgzf.BgzfWriter(str(tmp_path / "ref.fa.bgz")) as handle:
        handle.write(reference.read_text())
    from_bgzip = rows_of(vcf, tmp_path / "ref.fa.bgz", tiny)
    for row in from_bgzip:  # the messages name the file they read
        row.error = row.error and row.error.replace("ref.fa.bgz", "ref.fa")
    assert from_bgzip == rows_of(vcf, reference, tiny)
    (tmp_path / "plain.fa.gz").write_bytes(gzip.compress(reference.read_bytes()))
    with pytest.raises(VariantError) as refused:
        rows_of(vcf, tmp_path / "plain.fa.gz", tiny)
    message = str(refused.value)
    assert "plain gzip" in message and "bgzip" in message
    assert f"bgzip -d -c {tmp_path}/plain.fa.gz > {tmp_path}/plain.fa" in message
    assert f"zcat {tmp_path}/plain.fa.gz | bgzip > {tmp_path}/plain.fa.bgz" in message


def read_tsv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_the_command_writes_the_table_and_fails_where_a_row_has_an_error(tmp_path, tiny_folder, capsys):
    vcf, reference = bad_records_vcf(tmp_path)
    options = ["--reference", str(reference), "--model", str(tiny_folder), "--device", "cpu", "--precision", "fp32"]
    assert main(["variants", str(vcf), *options, "-o", str(tmp_path / "out.tsv"), "--no-progress"]) == 1
    assert "could not be scored" in capsys.readouterr().err
    rows = read_tsv(tmp_path / "out.tsv")
    assert list(rows[0]) == table_header() and len(rows) == len(BAD_RECORDS) + 3
    good = [row for row in rows if not row["error"]]
    assert {row["id"] for row in good} == {"good_snv", "multi", "good_deletion"}
    # the deletion's cells are what `predict` writes for its windows, cut here by hand
    (deletion,) = [row for row in rows if row["id"] == "good_deletion"]
    start = int(deletion["window_start"])
    windows = f">ref\n{C2[start : start + 200]}\n>alt\n{(C2[start:149] + C2[149] + C2[152:])[:200]}\n"
    (tmp_path / "windows.fa").write_text(windows)
    predict = ["predict", str(tmp_path / "windows.fa"), "--model", str(tiny_folder), "--precision", "fp32"]
    assert main([*predict, "-o", str(tmp_path / "p.tsv")]) == 0
    predicted = {row["id"]: row["probability"] for row in read_tsv(tmp_path / "p.tsv")}
    assert (deletion["ref_probability"], deletion["alt_probability"]) == (predicted["ref"], predicted["alt"])
    clean = write_vcf(tmp_path / "clean.vcf", [f"c1\t301\ta\t{C1[300]}\tG"])
    assert main(["variants", str(clean), *options, "-o", str(tmp_path / "clean.tsv")]) == 0
    assert len(read_tsv(tmp_path / "clean.tsv")) == 1
    empty = write_vcf(tmp_path / "empty.vcf", [])
    assert main(["variants", str(empty), *options, "-o", str(tmp_path / "empty.tsv")]) == 1  # as predict and scan
    assert not (tmp_path / "empty.tsv").exists()
    assert "holds no variant record" in capsys.readouterr().err


def test_the_window_is_the_models_unless_asked():
    from ienhancer_elm.hub_export import tiny_model

    assert (window_for(windowed_tiny(window=120)), window_for(tiny_model()), window_for(tiny_model(), 50)) == (
        120,
        200,
        50,
    )


def _contigs(reference) -> dict[str, str]:
    return {record.id: record.sequence for record in read_records(reference)}


def test_a_reference_or_vcf_that_cannot_be_read_stops_the_command_before_any_output(tmp_path, tiny_folder, capsys):
    vcf, reference = bad_records_vcf(tmp_path)
    (tmp_path / "plain.fa.gz").write_bytes(gzip.compress(reference.read_bytes()))
    (tmp_path / "binary.vcf").write_bytes(b"\x00\xff\xfe" * 100)
    runs = [(vcf, tmp_path / "missing.fa"), (vcf, tmp_path / "plain.fa.gz"), (tmp_path / "binary.vcf", reference)]
    for source, fasta in runs:
        argv = ["variants", str(source), "--reference", str(fasta), "--model", str(tiny_folder)]
        assert main([*argv, "-o", str(tmp_path / "out.tsv")]) == 2
        assert not (tmp_path / "out.tsv").exists()
    err = capsys.readouterr().err
    assert "missing.fa: no such reference FASTA" in err and "zcat" in err and "binary.vcf: not a text VCF" in err


def test_with_a_background_each_window_gets_its_p_value(tmp_path, tiny_folder):
    from ienhancer_elm.background import Background
    from ienhancer_elm.scan import ScanSettings, compute_background

    genome = genome_fasta(tmp_path / "genome.fa", bases=2000, seed=8)
    background = compute_background(tiny_folder, [genome], ScanSettings(precision="fp32"), "cpu", gc_strata=2)
    background.write(tiny_folder / "background.json")
    sequence = _contigs(genome)["piece"].upper()
    vcf = write_vcf(tmp_path / "in.vcf", random_variants(sequence, "piece", 5, seed=4))
    options = ["--reference", str(genome), "--model", str(tiny_folder), "--precision", "fp32", "--no-progress"]
    assert main(["variants", str(vcf), *options, "-o", str(tmp_path / "out.tsv")]) == 0
    rows = read_tsv(tmp_path / "out.tsv")
    assert list(rows[0]) == table_header(background)
    model, tokenizer = load_model(tiny_folder, "cpu", precision="fp32")
    saved = Background.read(tiny_folder / "background.json")
    for row, scored in zip(rows, variant_effects(vcf, genome, model, tokenizer, precision="fp32")):
        expected = saved.p_values([scored.ref_probability, scored.alt_probability], [scored.ref_gc, scored.alt_gc])
        assert [row["ref_background_p"], row["alt_background_p"]] == [f"{p:.6g}" for p in expected]
    # windows of another length than the background's get no p-value
    assert main(["variants", str(vcf), *options, "--window", "150", "-o", str(tmp_path / "other.tsv")]) == 0
    assert all(row["ref_background_p"] == row["alt_background_p"] == "" for row in read_tsv(tmp_path / "other.tsv"))
