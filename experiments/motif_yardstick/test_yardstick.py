"""The yardstick's pairing (the package's GC matching) and enrichment test, on hand-made inputs."""

import numpy as np
from scipy.stats import fisher_exact
from yardstick import enrichment

from ienhancer_elm.training.negatives import gc_matched_pairs


def test_pairs_match_gc_within_the_tolerance_and_use_each_non_enhancer_once():
    pairs = gc_matched_pairs([0.50, 0.50, 0.30, 0.80], [0.505, 0.299, 0.60, 0.495], tolerance=0.01, seed=0)
    assert sorted(pairs) == [(0, 0), (1, 3), (2, 1)] or sorted(pairs) == [(0, 3), (1, 0), (2, 1)]
    assert len({b for _, b in pairs}) == len(pairs)


def test_enrichment_is_one_sided_fisher_with_bh_q_values():
    present_a = np.array([[1, 0], [1, 0], [1, 1], [0, 1]], dtype=bool)
    present_b = np.array([[0, 1], [0, 1], [0, 1], [1, 0]], dtype=bool)
    p, q = enrichment(present_a, present_b)
    assert p[0] == fisher_exact([[3, 1], [1, 3]], alternative="greater")[1]
    assert p[1] == fisher_exact([[2, 2], [3, 1]], alternative="greater")[1]
    assert np.all(q >= p)
