"""The calibration check's intervals: whole contigs resampled."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the script, imported by name as when run

import background_calibration  # noqa: E402


def test_calibration_intervals_resample_whole_contigs():
    names = ["a"] * 10 + ["b"] * 10
    p_values = np.r_[np.full(10, 0.005), np.full(10, 0.5)]  # contig a called whole at 0.01, b never
    intervals = background_calibration.contig_intervals(names, p_values, rates=(0.01, 0.001))
    assert intervals["0.001"] == [0.0, 0.0]
    assert intervals["0.01"] == [0.0, 1.0]  # two contigs: a resample holds a twice, b twice, or one of each
    same_contig = background_calibration.contig_intervals(["a"] * 20, p_values, rates=(0.01,))
    assert same_contig["0.01"] == [0.5, 0.5]
