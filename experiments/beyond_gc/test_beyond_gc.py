"""The beyond-GC experiment's rule and comparison, on hand-made inputs."""

import numpy as np
import pytest
from beyond_gc import compare, ships


def test_the_rule_needs_the_gc_matched_gain_and_tolerates_a_small_auc_loss():
    assert ships(gc_matched_gain=0.03, auc_loss=0.01)  # both on their bounds
    assert ships(gc_matched_gain=0.05, auc_loss=-0.02)  # a gain in AUC is no loss
    assert not ships(gc_matched_gain=0.029, auc_loss=0.0)
    assert not ships(gc_matched_gain=0.08, auc_loss=0.011)


def test_a_candidate_that_reads_a_motif_beside_gc_ships_and_gc_alone_does_not():
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 150)
    gc = np.round(np.concatenate([rng.normal(0.49, 0.05, 150), rng.normal(0.40, 0.05, 150)]) * 200) / 200
    motif = labels * (rng.random(300) < 0.6)  # a site in 60% of the enhancers
    rows = compare(labels, gc, {"as shipped": gc + rng.normal(0, 0.01, 300), "motif": gc + 0.1 * motif}, 200)
    assert "ships" not in rows["as shipped"]
    assert rows["motif"]["gc_matched_change"]["value"] > 0.03 and rows["motif"]["ships"]
    assert rows["as shipped"]["gc_matched_auc"]["value"] < 0.6


def test_scan_yield_counts_called_shares_and_their_ratio_against_the_target():
    from scan_yield import shares

    enhancer_p = np.array([0.001, 0.005, 0.01, 0.2, 0.5, 0.9, 0.3, 0.04, 0.02, 0.6])  # 3 of 10 at p <= 0.01
    window_p = np.array([0.5, 0.005, 0.3, 0.8, 0.9, 0.7, 0.6, 0.4, 0.2, 0.1])  # 1 of 10
    found = shares(enhancer_p, window_p, 0.01, resamples=200)
    assert found["enhancers_called"]["value"] == 0.3 and found["windows_called"]["value"] == 0.1
    assert found["ratio"] == pytest.approx(3.0) and not found["meets_target"]
    assert found["difference"]["value"] == pytest.approx(0.2)
    low, high = found["enhancers_called"]["ci95"]
    assert 0 <= low <= 0.3 <= high <= 1
    assert shares(enhancer_p, window_p, 0.05, resamples=200)["enhancers_called"]["value"] == 0.5
    assert shares(enhancer_p, np.ones(10), 0.01, resamples=200)["meets_target"]  # no window called: any call meets it
    assert not shares(np.ones(10), np.ones(10), 0.01, resamples=200)["meets_target"]  # nothing called at all


def test_the_screen_takes_the_gc_offset_off_to_score_the_member_alone(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    from scipy.special import expit

    path = Path(__file__).parent / "bert_screen" / "score.py"
    spec = importlib.util.spec_from_file_location("bert_screen_score", path)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    (tmp_path / "gc_offset.json").write_text(json.dumps({"slope": 12.0, "intercept": -5.5}))
    member_log_odds, gc = np.array([-1.0, 0.0, 2.5]), np.array([0.3, 0.5, 0.45])
    combined = expit(member_log_odds + 12.0 * gc - 5.5)
    assert score.without_offset(combined, gc, tmp_path) == pytest.approx(expit(member_log_odds), abs=1e-12)
