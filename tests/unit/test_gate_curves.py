"""The gate's evidence figures: ROC points, calibration bins and confusion matrix of both versions, and
bootstrap intervals of each version's headline figures (evidence-spec section A)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from shared.domain.evaluation import (
    ScoredRows, calibration_bins, classification_metrics, confusion, paired_difference, roc_points,
)
from shared.domain.evaluation.bootstrap import resample_weights, weighted_figures
from shared.domain.evaluation.metrics import expected_calibration_error
from shared.domain.gate import GatePolicy, GateResult, judge, judge_rows

FIGURES = ("auc", "accuracy", "sensitivity", "specificity", "brier")


def binormal(rng, labels, separation):
    return 1 / (1 + np.exp(-1.7 * (separation * labels + rng.normal(0, 1, len(labels)) - separation / 2)))


def scored(labels, candidate, champion=None) -> ScoredRows:
    probabilities = {"2": tuple(map(float, candidate))}
    if champion is not None:
        probabilities["1"] = tuple(map(float, champion))
    return ScoredRows(tuple(int(v) for v in labels), {"Age": (40.0,) * len(labels)}, probabilities,
                      (("held-out split of v2", len(labels)),))


def area(points) -> float:
    x, y = np.asarray(points).T
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def monotone(points) -> bool:
    x, y = np.asarray(points).T
    return bool(np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0))


def test_roc_of_a_perfect_a_random_and_an_inverted_model():
    labels = [0, 0, 0, 1, 1]
    perfect = roc_points(labels, [0.1, 0.2, 0.3, 0.8, 0.9])
    assert perfect == [[0, 0], [0, 0.5], [0, 1], [0.3333, 1], [0.6667, 1], [1, 1]] and area(perfect) == 1
    inverted = roc_points(labels, [0.9, 0.8, 0.7, 0.2, 0.1])
    assert inverted[0] == [0, 0] and inverted[-1] == [1, 1] and area(inverted) == 0
    assert all(tpr == 0 for fpr, tpr in inverted[:-2])
    rng = np.random.default_rng(3)
    many = (rng.random(5000) < 0.4).astype(int)
    random = roc_points(many, rng.random(5000))
    assert abs(area(random) - 0.5) < 0.03 and monotone(random)


def test_rows_with_the_same_score_are_one_step_and_one_class_has_no_curve():
    labels = [0, 1, 0, 1, 1, 0]
    p = [0.2, 0.2, 0.5, 0.5, 0.9, 0.9]  # three distinct scores: three steps after [0, 0]
    points = roc_points(labels, p)
    assert points == [[0, 0], [0.3333, 0.3333], [0.6667, 0.6667], [1, 1]]
    assert area(points) == pytest.approx(roc_auc_score(labels, p), abs=1e-4)
    assert roc_points([1, 1, 1], [0.2, 0.5, 0.9]) == [] and roc_points([], []) == []


def test_thinning_keeps_at_most_101_points_the_endpoints_monotonicity_and_the_area():
    rng = np.random.default_rng(7)
    labels = (rng.random(6500) < 0.35).astype(int)
    p = binormal(rng, labels, 1.6)
    points = roc_points(labels, p)
    assert 90 <= len(points) <= 101
    assert points[0] == [0.0, 0.0] and points[-1] == [1.0, 1.0] and monotone(points)
    assert area(points) == pytest.approx(roc_auc_score(labels, p), abs=0.003)
    assert all(round(v, 4) == v for point in points for v in point)
    assert len(roc_points(labels, p, max_points=11)) <= 11
    few = roc_points([0, 1] * 10, np.linspace(0.05, 0.95, 20))  # 20 distinct scores: every step kept
    assert len(few) == 21 and few[0] == [0, 0] and few[-1] == [1, 1]


def test_calibration_bins_cover_every_row_and_agree_with_the_calibration_error():
    rng = np.random.default_rng(8)
    p = np.r_[rng.random(300) * 0.6, 1.0]  # nothing in 0.6–1.0 but one row at exactly 1.0
    labels = (rng.random(len(p)) < p).astype(int)
    bins = calibration_bins(labels, p)
    assert len(bins) == 10 and sum(b["rows"] for b in bins) == len(p)
    assert [(b["lower"], b["upper"]) for b in bins][0] == (0.0, 0.1) and bins[-1]["upper"] == 1.0
    assert bins[-1]["rows"] == 1 and bins[-1]["mean_probability"] == 1.0
    empty = [b for b in bins if not b["rows"]]
    assert len(empty) == 3 and all(b["mean_probability"] is None and b["observed_rate"] is None for b in empty)
    gap = sum(b["rows"] * abs(b["observed_rate"] - b["mean_probability"]) for b in bins if b["rows"]) / len(p)
    assert gap == pytest.approx(expected_calibration_error(labels, p), abs=1e-5)


def test_the_confusion_matrix_sums_to_the_rows_and_matches_sensitivity_and_specificity():
    rng = np.random.default_rng(9)
    labels = (rng.random(800) < 0.3).astype(int)
    p = binormal(rng, labels, 1.5)
    cells = confusion(labels, p, 0.4)
    assert all(type(v) is int for v in cells.values()) and sum(cells.values()) == 800
    figures = classification_metrics(labels, p, 0.4)
    assert cells["tp"] / (cells["tp"] + cells["fn"]) == pytest.approx(figures["sensitivity"], abs=1e-6)
    assert cells["tn"] / (cells["tn"] + cells["fp"]) == pytest.approx(figures["specificity"], abs=1e-6)
    assert confusion([1, 0], [0.5, 0.49], 0.5) == {"tp": 1, "fp": 0, "tn": 1, "fn": 0}  # ≥ threshold is positive


def gate_on(n, seed=4, policy=None):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.35).astype(int)
    rows = scored(labels, binormal(rng, labels, 1.7), binormal(rng, labels, 1.5))
    return judge_rows(policy or GatePolicy(minimum=0.6, slices=()), rows, "2", "1")


def test_judge_rows_stores_curves_and_intervals_of_both_versions_in_the_shared_shape():
    result = gate_on(1500)
    curves = result.curves
    assert curves["threshold"] == 0.5 and set(curves) == {"threshold", "roc", "calibration", "confusion"}
    for version in ("candidate", "champion"):
        assert curves["roc"][version][0] == [0.0, 0.0] and len(curves["roc"][version]) <= 101
        assert sum(b["rows"] for b in curves["calibration"][version]) == 1500
        assert sum(curves["confusion"][version].values()) == 1500
    intervals = result.intervals
    assert intervals["confidence"] == 0.95 and intervals["resamples"] == 1000
    for version, point in (("candidate", result.candidate), ("champion", result.champion)):
        assert set(intervals[version]) == set(FIGURES)
        for figure in FIGURES:
            bounds = intervals[version][figure]
            assert bounds["lower"] < point[figure] < bounds["upper"], (version, figure, bounds, point[figure])
    stored = json.loads(json.dumps(result.to_dict(), allow_nan=False))  # what candidate.gate keeps
    assert GateResult.from_dict(stored) == result


def test_weighted_figures_are_the_point_figures_under_unit_weights_and_a_resample_is_a_drawn_copy():
    rng = np.random.default_rng(10)
    labels = (rng.random(700) < 0.35).astype(float)
    p = binormal(rng, labels, 1.5)
    point = classification_metrics(labels, p, 0.45)
    at_one = weighted_figures(FIGURES, labels, p, 0.45, np.ones((1, 700)))
    assert {f: round(float(v[0]), 6) for f, v in at_one.items()} == {f: point[f] for f in FIGURES}
    weights = next(resample_weights(700, 3, seed=1))
    assert weights.shape == (3, 700) and (weights.sum(axis=1) == 700).all()
    drawn = np.repeat(np.arange(700), weights[1].astype(int))  # the rows resample 1 drew, as a plain sample
    again = classification_metrics(labels[drawn], p[drawn], 0.45)
    assert {f: round(float(v[1]), 6) for f, v in weighted_figures(FIGURES, labels, p, 0.45, weights).items()} == {
        f: again[f] for f in FIGURES}


def test_the_difference_is_the_paired_bootstrap_it_was_on_the_shared_resamples():
    rng = np.random.default_rng(4)
    labels = (rng.random(900) < 0.35).astype(int)
    a, b = binormal(rng, labels, 1.7), binormal(rng, labels, 1.5)
    policy = GatePolicy(minimum=0.6, slices=())
    for metric in ("auc", "f1"):  # f1 has no interval of its own: resampled for the difference only
        alone = paired_difference(metric, labels, a, b, 0.5, policy.resamples, policy.confidence, policy.seed)
        result = judge_rows(GatePolicy(metric=metric, minimum=0.0, slices=()), scored(labels, a, b), "2", "1")
        assert result.difference == {**alone.to_dict(), "margin": policy.max_drop}


def test_intervals_narrow_with_more_rows_and_are_repeatable_with_the_seed():
    small, large = gate_on(400).intervals["candidate"], gate_on(6000).intervals["candidate"]
    for figure in FIGURES:
        assert large[figure]["upper"] - large[figure]["lower"] < small[figure]["upper"] - small[figure]["lower"]
    assert gate_on(400).intervals == gate_on(400).intervals
    other = gate_on(400, policy=GatePolicy(minimum=0.6, slices=(), seed=99)).intervals
    assert other["candidate"]["auc"] != small["auc"]
    fewer = gate_on(400, policy=GatePolicy(minimum=0.6, slices=(), resamples=300, confidence=0.8)).intervals
    assert fewer["resamples"] == 300 and fewer["confidence"] == 0.8
    assert fewer["candidate"]["auc"]["upper"] - fewer["candidate"]["auc"]["lower"] < (
        small["auc"]["upper"] - small["auc"]["lower"])


def test_without_a_champion_its_figures_are_null_and_one_class_leaves_undefined_intervals_null():
    rng = np.random.default_rng(5)
    labels = (rng.random(300) < 0.35).astype(int)
    alone = judge_rows(GatePolicy(minimum=0.6, slices=()), scored(labels, binormal(rng, labels, 1.6)), "2", None)
    assert alone.intervals["champion"] is None and alone.intervals["candidate"]["auc"]["lower"] is not None
    assert all(alone.curves[name]["champion"] is None for name in ("roc", "calibration", "confusion"))
    healthy = judge_rows(GatePolicy(minimum=0.6, slices=()), scored([0] * 50, rng.random(50)), "2", None)
    assert healthy.intervals["candidate"]["auc"] == {"lower": None, "upper": None}
    assert healthy.intervals["candidate"]["sensitivity"] == {"lower": None, "upper": None}
    assert healthy.intervals["candidate"]["specificity"]["lower"] is not None
    assert healthy.curves["roc"]["candidate"] == []


def test_point_estimates_leave_them_empty_and_old_gate_records_still_load():
    assert judge(GatePolicy(), {"auc": 0.9}, None, None, "held out").curves == {}
    old = {"passed": True, "metric": "auc", "candidate": {"auc": 0.9}, "champion": None, "champion_version": None,
           "evaluated_on": "held out", "reasons": [], "rows": 1500, "difference": None, "subgroups": [],
           "disagreement": None, "rule": "pass when auc ≥ 0.75"}
    loaded = GateResult.from_dict(old)
    assert loaded.curves == {} and loaded.intervals == {} and loaded.rows == 1500
    assert {k: v for k, v in loaded.to_dict().items() if k in old} == old
