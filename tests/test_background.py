"""Genomic background: exact p-values, BH q-values, calls at a background rate, and what a scan writes with one."""

import hashlib
import json
import math
import shutil

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from ienhancer_elm.background import Background, BackgroundError, bh_q_values
from ienhancer_elm.cli import main
from ienhancer_elm.sequences import gc_fraction

from conftest import GATA_SITE, TINY, random_dna

WINDOW, STRIDE = ["--window", "100"], ["--stride", "25"]


def write_fasta(path, records):
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in records))
    return path


def read_bed(path):
    """(header line or None, rows)."""
    lines = path.read_text().splitlines()
    header = lines[0] if lines and lines[0].startswith(("#", "track")) else None
    return header, [line.split("\t") for line in lines[1 if header else 0 :]]


def read_bedgraph(path):
    return [
        (line.split("\t")[0], int(line.split("\t")[1]), line.split("\t")[3])
        for line in path.read_text().splitlines()[1:]
    ]


def p_value(saved: dict, score: float, gc: float) -> float:
    """The definition, counted directly from background.json: (1 + #{b >= s}) / (n + 1) over the background
    windows in the GC stratum of the window scored (a stratum: the GC fractions between two cuts)."""
    cuts = saved["gc_cuts"]

    def stratum(fraction):
        return sum(round(fraction, 6) > cut for cut in cuts)

    same = [b for b, g in zip(saved["scores"], saved["gc"]) if stratum(g) == stratum(gc)]
    return (1 + sum(b >= score for b in same)) / (len(same) + 1)


SCANNED = {"a": random_dna(3000, 7), "b": random_dna(2000, 8)}


def window_gc(name: str, bin_start: int, records=SCANNED) -> float:
    """The GC fraction of the 100 bp window whose bedGraph bin starts at `bin_start` (37 bp into it)."""
    return gc_fraction(records[name][bin_start - 37 : bin_start - 37 + 100])


def merged(starts, window=100):
    """Windows (by start) merged where they overlap or touch, as [start, end, [starts]]."""
    regions = []
    for start in sorted(starts):
        if regions and start <= regions[-1][1]:
            regions[-1][1] = start + window
            regions[-1][2].append(start)
        else:
            regions.append([start, start + window, [start]])
    return regions


@pytest.fixture(scope="module")
def tiny_with_background(tmp_path_factory):
    """The tiny random model, copied, with a background computed by the command on 8 kbp of random DNA."""
    folder = tmp_path_factory.mktemp("background")
    model = folder / "model"
    shutil.copytree(TINY, model)
    genome = write_fasta(folder / "background.fa", [("bg1", random_dna(5000, 1)), ("bg2", random_dna(3000, 2))])
    arguments = ["background", str(model), str(genome), *WINDOW, *STRIDE, "--precision", "fp32", "--no-progress"]
    assert main(arguments) == 0
    return model, genome, arguments


def test_p_values_on_a_hand_made_background_count_ties_as_at_least_as_high():
    background = Background([0.9, 0.2, 0.5, 0.2, 0.1], window=200, stride=50, max_n_fraction=0.1)
    assert background.strata[0].tolist() == [0.1, 0.2, 0.2, 0.5, 0.9] and background.levels_count == 6
    scores = [0.05, 0.1, 0.15, 0.2, 0.5, 0.7, 0.9, 0.95]
    assert background.p_values(scores).tolist() == [6 / 6, 6 / 6, 5 / 6, 5 / 6, 3 / 6, 2 / 6, 2 / 6, 1 / 6]
    assert background.levels(scores).tolist() == [5, 5, 4, 4, 2, 1, 1, 0]
    # scores are compared as the bedGraph prints them, to 6 decimals: 0.2000004 ties with 0.2, 0.2000006 does not
    assert background.p_values([0.2000004, 0.2000006]).tolist() == [5 / 6, 3 / 6]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bh_q_values_from_the_level_histogram_match_scipy(seed):
    rng = np.random.default_rng(seed)
    n = 40
    levels = np.minimum(rng.geometric(0.08, size=1500) - 1, n)  # many ties, some levels empty
    if seed == 2:
        levels = np.full(20, 7)  # all windows on one level
    p = (1 + levels) / (n + 1)
    q = bh_q_values(np.bincount(levels, minlength=n + 1), (1 + np.arange(n + 1)) / (n + 1))[levels]
    np.testing.assert_allclose(q, false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)


def test_gc_strata_compare_a_score_only_with_windows_of_its_own_gc():
    # AT-rich windows score low, GC-rich ones high, as the shipped model does on genomic DNA
    scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
    gc = [0.30, 0.32, 0.34, 0.36, 0.60, 0.62, 0.64, 0.66]
    background = Background(scores, window=200, stride=50, max_n_fraction=0.1, gc=gc, gc_strata=2)
    assert background.gc_cuts.tolist() == [0.36] and [s.tolist() for s in background.strata] == [
        [0.1, 0.2, 0.3, 0.4],
        [0.6, 0.7, 0.8, 0.9],
    ]
    # 0.5 tops the AT-rich stratum (p = 1/5) and sits below the whole GC-rich one (p = 5/5); pooled, 5/9
    assert background.p_values([0.5, 0.5, 0.35], [0.36, 0.37, 0.2]).tolist() == [1 / 5, 5 / 5, 2 / 5]
    pooled = Background(scores, window=200, stride=50, max_n_fraction=0.1, gc=gc, gc_strata=1)
    assert pooled.p_values([0.5]).tolist() == [5 / 9]
    with pytest.raises(BackgroundError, match="need each window's GC"):
        background.p_values([0.5])
    assert background.levels([0.95, 0.95], [0.3, 0.7]).tolist() == [0, 5]  # each stratum's first level
    assert background.p_of_levels([0, 5]).tolist() == [1 / 5, 1 / 5] and background.smallest_p == 1 / 5


def test_gc_fraction_of_a_string_and_of_scan_codes_agree():
    import torch

    from ienhancer_elm.scan import window_gc
    from ienhancer_elm.tokenization_ienhancer_elm import encode_bases

    windows = ["ACGTNNGGCC", "atatatatgc", "NNNNNNNNNN", "GGGGGGGGGC"]
    assert [gc_fraction(w) for w in windows] == [6 / 8, 2 / 10, 0.0, 1.0]
    codes = torch.stack([encode_bases(w) for w in windows])
    assert window_gc(codes) == [gc_fraction(w) for w in windows]


@pytest.mark.parametrize("seed", [0, 1])
def test_bh_q_values_over_gc_strata_match_scipy(seed):
    rng = np.random.default_rng(seed)
    gc = rng.uniform(0.3, 0.6, size=97)
    background = Background(rng.random(97), window=200, stride=50, max_n_fraction=0.1, gc=gc, gc_strata=4)
    assert len(background.strata) == 4 and len({len(s) for s in background.strata}) > 1  # 24 or 25: p-grids differ
    levels = background.levels(rng.random(800) ** 0.3, rng.uniform(0.25, 0.65, size=800))
    q = bh_q_values(np.bincount(levels, minlength=background.levels_count), background.level_p)[levels]
    expected = false_discovery_control(background.p_of_levels(levels), method="bh")
    np.testing.assert_allclose(q, expected, rtol=1e-12, atol=0)


def test_a_background_without_one_piece_recuts_its_strata(tmp_path):
    scores, gc = np.linspace(0, 1, 30), np.linspace(0.3, 0.6, 30)
    pieces = [{"file": "a.fa", "windows": 10}, {"file": "b.fa", "windows": 20}]
    background = Background(scores, 200, 50, 0.1, pieces=pieces, gc=gc, gc_strata=3)
    background.write(tmp_path / "background.json")
    again = Background.read(tmp_path / "background.json")
    np.testing.assert_array_equal(again.gc_cuts, background.gc_cuts)
    assert [s.tolist() for s in again.strata] == [s.tolist() for s in background.strata]
    left = background.without("a.fa")
    assert left.n == 20 and left.scores.tolist() == np.round(scores[10:], 6).tolist()
    assert [p["file"] for p in left.pieces] == ["b.fa"] and len(left.strata) == 3
    with pytest.raises(BackgroundError, match="no piece named"):
        background.without("c.fa")


def test_background_json_holds_scores_and_gc_in_window_order_pieces_and_model(tiny_with_background):
    model, genome, arguments = tiny_with_background
    saved = json.loads((model / "background.json").read_text())
    windows = (5000 - 100) // 25 + 1 + (3000 - 100) // 25 + 1
    assert (saved["window"], saved["stride"], saved["max_n_fraction"], saved["windows"]) == (100, 25, 0.1, windows)
    assert len(saved["scores"]) == len(saved["gc"]) == windows == sum(saved["stratum_windows"])
    first, last = random_dna(5000, 1)[:100], random_dna(3000, 2)[-100:]  # the first and last windows
    assert (saved["gc"][0], saved["gc"][-1]) == (round(gc_fraction(first), 6), round(gc_fraction(last), 6))
    assert saved["gc_strata"] == 10 and len(saved["gc_cuts"]) == len(saved["stratum_windows"]) - 1
    assert all(score == round(score, 6) for score in saved["scores"])
    sha = hashlib.sha256(genome.read_bytes()).hexdigest()
    assert saved["pieces"] == [
        {"file": "background.fa", "sha256": sha, "records": 2, "bases": 8000, "windows": windows, "skipped_n": 0}
    ]
    weights = hashlib.sha256((model / "model.safetensors").read_bytes()).hexdigest()
    assert saved["model"] == {
        "weights_sha256": weights,
        "threshold": 0.5,
        "calibration_slope": 1.0,
        "spectrum_weight": None,
        "precision": "fp32",
    }
    assert saved["command"] == " ".join(["ienhancer-elm", *arguments])


@pytest.fixture(scope="module")
def scanned(tiny_with_background, tmp_path_factory):
    """A scan of 5 kbp of random DNA at background rate 0.05: (arguments, folder, stderr)."""
    import contextlib
    import io

    model, _, _ = tiny_with_background
    folder = tmp_path_factory.mktemp("scanned")
    genome = write_fasta(folder / "g.fa", list(SCANNED.items()))
    common = [str(genome), "--model", str(model), *WINDOW, *STRIDE, "--precision", "fp32", "--no-progress"]
    outputs = ["-o", str(folder / "o.bed"), "--bedgraph", str(folder / "o.bg")]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["scan", *common, *outputs, "--background-rate", "0.05"]) == 0
    return common, folder, err.getvalue()


def test_background_rate_calls_exactly_the_windows_at_or_below_it(tiny_with_background, scanned):
    model, _, _ = tiny_with_background
    saved = json.loads((model / "background.json").read_text())
    _, folder, err = scanned
    windows = read_bedgraph(folder / "o.bg")
    p = [p_value(saved, float(value), window_gc(name, start)) for name, start, value in windows]
    q = false_discovery_control(p, method="bh")  # over all windows scanned
    called = [i for i, value in enumerate(p) if value <= 0.05]
    assert 0 < len(called) < len(windows) / 5
    assert f"{len(called)} window(s) called (background p-value <= 0.05)" in err
    header, regions = read_bed(folder / "o.bed")
    assert header is None  # narrowPeak: no header line
    expected = []
    for record in ("a", "b"):
        starts = {windows[i][1] - 37: i for i in called if windows[i][0] == record}  # the bin starts 37 bp in
        for start, end, members in merged(starts):
            best = max((starts[s] for s in members), key=lambda i: float(windows[i][2]))  # first of the best
            significant = min((starts[s] for s in members), key=lambda i: p[i])  # GC strata: maybe another one
            expected.append(
                (
                    record,
                    start,
                    end,
                    float(windows[best][2]),
                    p[significant],
                    q[significant],
                    windows[best][1] - 37 - start,
                )
            )
    assert [(r[0], int(r[1]), int(r[2])) for r in regions] == [e[:3] for e in expected]
    for region, (*_, probability, p_best, q_best, offset) in zip(regions, expected):
        assert float(region[6]) == probability and region[4] == str(round(1000 * probability))
        assert float(region[7]) == pytest.approx(-math.log10(p_best), rel=1e-5)
        assert float(region[8]) == pytest.approx(-math.log10(q_best), rel=1e-5, abs=1e-6)
        assert int(region[9]) == offset + 50  # the best window's centre (windows of 100 bp)


def test_an_explicit_threshold_wins_and_regions_keep_their_p_values(scanned, tmp_path, capsys):
    common, folder, _ = scanned
    windows = read_bedgraph(folder / "o.bg")
    values = sorted({float(value) for *_, value in windows})
    threshold = (values[len(values) // 2] + values[len(values) // 2 + 1]) / 2  # between two printed scores
    arguments = ["scan", *common, "-o", str(tmp_path / "t.bed"), "--threshold", f"{threshold:.7f}"]
    assert main([*arguments, "--background-rate", "0.01"]) == 0
    assert "--threshold given: windows are called by probability" in capsys.readouterr().err
    _, regions = read_bed(tmp_path / "t.bed")
    expected = []
    for record in ("a", "b"):
        above = [start - 37 for name, start, value in windows if name == record and float(value) > threshold]
        expected += [(record, start, end) for start, end, _ in merged(above)]
    assert [(r[0], int(r[1]), int(r[2])) for r in regions] == expected
    assert all(len(r) == 10 and float(r[7]) >= 0 and float(r[8]) >= 0 for r in regions)  # -log10 p, -log10 q


def test_bedgraph_log10p_holds_minus_log10_of_each_windows_p_value(tiny_with_background, scanned, tmp_path):
    model, _, _ = tiny_with_background
    saved = json.loads((model / "background.json").read_text())
    common, folder, _ = scanned
    log10p = ["--bedgraph", str(tmp_path / "l.bg"), "--bedgraph-value", "log10p", "--background-rate", "0.05"]
    assert main(["scan", *common, "-o", str(tmp_path / "l.bed"), *log10p]) == 0
    assert (tmp_path / "l.bed").read_text() == (folder / "o.bed").read_text()  # the regions do not change
    assert (tmp_path / "l.bg").read_text().startswith("track type=bedGraph name=ienhancer-elm description=-log10")
    probabilities, logs = read_bedgraph(folder / "o.bg"), read_bedgraph(tmp_path / "l.bg")
    assert [w[:2] for w in probabilities] == [w[:2] for w in logs]
    for (name, start, probability), (_, _, value) in zip(probabilities, logs):
        expected = p_value(saved, float(probability), window_gc(name, start))
        assert float(value) == pytest.approx(-math.log10(expected), abs=1e-6)


@pytest.mark.parametrize(
    "option, message",
    [
        (["--bedgraph-value", "log10p"], "--bedgraph-value log10p needs a genomic background"),
        (["--background-rate", "0.05"], "--background-rate needs a genomic background"),
    ],
)
def test_what_needs_a_background_is_refused_without_one(tmp_path, capsys, option, message):
    genome = write_fasta(tmp_path / "g.fa", [("a", random_dna(400, 3))])
    arguments = ["scan", str(genome), "--model", str(TINY), "-o", str(tmp_path / "o.bed"), "--bedgraph"]
    assert main([*arguments, str(tmp_path / "o.bg"), *option]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.glob("o.*")) == []


def test_without_a_background_the_scan_says_once_that_it_calls_by_probability(tmp_path, capsys):
    genome = write_fasta(tmp_path / "g.fa", [("a", random_dna(400, 3))])
    assert main(["scan", str(genome), "--model", str(TINY), "-o", str(tmp_path / "o.bed"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("has no background.json") == 1 and "called by probability > 0.5" in err
    assert not (tmp_path / "o.bed").read_text().startswith("#")  # BED6, as before


@pytest.mark.parametrize("regions", [False, True], ids=["fasta", "regions"])
def test_records_sharing_a_name_are_refused_before_any_output(tmp_path, capsys, regions):
    genome = write_fasta(tmp_path / "g.fa", [("a", random_dna(300, 1)), ("b", random_dna(300, 2)), ("a", "ACGT" * 60)])
    (tmp_path / "r.bed").write_text("b\t0\t250\n")
    arguments = ["scan", str(genome), "--model", str(TINY), "-o", str(tmp_path / "o.bed"), "--bedgraph"]
    arguments += [str(tmp_path / "o.bg"), *(["--regions", str(tmp_path / "r.bed")] if regions else [])]
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "Duplicate key" in err if regions else "1 record name(s) appear more than once (a)" in err, err
    assert list(tmp_path.glob("o.*")) == []


def test_predict_gives_background_p_after_probability(tiny_with_background, tmp_path, capsys):
    model, _, _ = tiny_with_background
    saved = json.loads((model / "background.json").read_text())
    records = {"s1": random_dna(100, 4), "bad": "ACGTXACGT", "s2": random_dna(150, 5)}
    fasta = write_fasta(tmp_path / "in.fa", list(records.items()))
    assert main(["predict", str(fasta), "--model", str(model), "--precision", "fp32", "--no-progress"]) == 1
    header, *rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert header[:5] == ["id", "length", "probability", "background_p", "label"]
    for row in rows:
        if row[0] == "bad":
            assert row[2] == row[3] == "" and row[-1]
        else:
            expected = p_value(saved, float(row[2]), gc_fraction(records[row[0]]))
            assert float(row[3]) == pytest.approx(expected, rel=1e-5)
    assert main(["predict", str(fasta), "--model", str(TINY), "--no-progress"]) == 1
    assert "background_p" not in capsys.readouterr().out.splitlines()[0]


def test_a_background_for_another_spectrum_share_is_refused(tiny_with_background):
    from types import SimpleNamespace

    model, _, _ = tiny_with_background
    background = Background.read(model / "background.json")
    config = SimpleNamespace(threshold=0.5, calibration_slope=1.0, spectrum_weight=None)
    background.check(SimpleNamespace(config=config))
    with pytest.raises(BackgroundError, match="spectrum member's share None, the model has 0.5"):
        background.check(SimpleNamespace(config=SimpleNamespace(**{**vars(config), "spectrum_weight": 0.5})))


def test_a_background_for_other_weights_is_refused(tiny_with_background, tmp_path, capsys):
    model, _, _ = tiny_with_background
    stale = tmp_path / "stale"
    shutil.copytree(model, stale)
    saved = json.loads((stale / "background.json").read_text())
    saved["model"]["weights_sha256"] = "0" * 64
    (stale / "background.json").write_text(json.dumps(saved))
    fasta = write_fasta(tmp_path / "in.fa", [("s1", random_dna(100, 4))])
    assert main(["predict", str(fasta), "--model", str(stale), "-o", str(tmp_path / "o.tsv")]) == 2
    assert "computed for other weights" in capsys.readouterr().err and not (tmp_path / "o.tsv").exists()


STRATA = ["--gc-strata", "2"]  # 2 x 10 kbp of background at stride 25: 400 windows a stratum, p down to 1/401


def test_a_planted_enhancer_is_called_at_0_01_and_ordinary_genome_at_about_the_rate(gata_model, tmp_path):
    """Background from one random genome without sites; a second one, with a GATA-rich stretch, is scanned."""
    model = tmp_path / "model"
    shutil.copytree(gata_model, model)  # the session's model stays without a background
    background = write_fasta(tmp_path / "background.fa", [(f"bg{i}", random_dna(10000, 100 + i)) for i in range(2)])
    assert (
        main(
            [
                "background",
                str(model),
                str(background),
                *WINDOW,
                *STRIDE,
                *STRATA,
                "--precision",
                "fp32",
                "--no-progress",
            ]
        )
        == 0
    )
    saved = json.loads((model / "background.json").read_text())
    site = ((GATA_SITE + random_dna(17, 1)) * 6)[:150]
    ordinary = random_dna(20000, 200)
    genome = write_fasta(tmp_path / "genome.fa", [("chrTest", ordinary[:10000] + site + ordinary[10150:])])
    outputs = ["-o", str(tmp_path / "o.bed"), "--bedgraph", str(tmp_path / "o.bg")]
    arguments = ["scan", str(genome), "--model", str(model), *WINDOW, *STRIDE, "--precision", "fp32", *outputs]
    assert main(arguments) == 0  # at the default rate, 0.01
    _, regions = read_bed(tmp_path / "o.bed")
    planted = [r for r in regions if int(r[1]) < 10150 and int(r[2]) > 10000]
    assert len(planted) == 1 and float(planted[0][7]) >= 2  # -log10 p: p <= 0.01
    scanned = {"chrTest": ordinary[:10000] + site + ordinary[10150:]}
    windows = [(start, float(value)) for _, start, value in read_bedgraph(tmp_path / "o.bg")]
    ordinary_p = np.array(
        [
            p_value(saved, value, window_gc("chrTest", start, scanned))
            for start, value in windows
            if start - 37 + 100 <= 10000 or start - 37 >= 10150
        ]
    )
    shares = {rate: float(np.mean(ordinary_p <= rate)) for rate in (0.01, 0.05)}
    assert 0.01 / 4 <= shares[0.01] <= 0.01 * 3, shares  # about the nominal rate (neighbouring windows overlap)
    assert 0.05 / 2 <= shares[0.05] <= 0.05 * 2, shares


def test_a_record_the_model_reads_in_windows_gets_no_p_value():
    from types import SimpleNamespace

    from ienhancer_elm.background import Background
    from ienhancer_elm.predict import Prediction, table_cells, table_header

    model = SimpleNamespace(config=SimpleNamespace(kmers=[3], window_bp=200))
    background = Background([0.9, 0.2, 0.5, 0.2, 0.1], window=200, stride=50, max_n_fraction=0.1)
    header = table_header(model, background=background)
    short, long = (Prediction(name, length, 0.6, "enhancer") for name, length in (("short", 200), ("long", 201)))
    assert table_cells(model, short, background=background)[header.index("background_p")] == "0.333333"
    assert table_cells(model, long, background=background)[header.index("background_p")] == ""
