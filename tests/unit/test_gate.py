"""The gate's rule on per-row probabilities: non-inferiority by a paired bootstrap interval, the minimum,
subgroups; and the figures beside it (calibration, operating point, disagreement, CBPE)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from shared.domain.evaluation import (
    ScoredRows, classification_metrics, disagreement, estimate_performance, metric_value, paired_difference,
    parse_slices,
)
from shared.domain.gate import GatePolicy, GateResult, judge, judge_rows


def scored(labels, candidate, champion=None, **features) -> ScoredRows:
    probabilities = {"2": tuple(map(float, candidate))}
    if champion is not None:
        probabilities["1"] = tuple(map(float, champion))
    n = len(labels)
    columns = {"Age": features.get("Age", [40.0] * n), "BMI": features.get("BMI", [27.0] * n),
               "Pregnancies": features.get("Pregnancies", [1.0] * n)}
    return ScoredRows(tuple(int(v) for v in labels), {k: tuple(map(float, v)) for k, v in columns.items()},
                      probabilities, (("held-out split of v2", n),))


def binormal(rng, labels, separation, noise=None):
    noise = rng.normal(0, 1, len(labels)) if noise is None else noise
    return 1 / (1 + np.exp(-1.7 * (separation * labels + noise - separation / 2)))


def test_point_estimates_within_the_margin_but_an_interval_beyond_it_fails():
    rng = np.random.default_rng(5)  # a draw where the two AUCs differ by less than 0.01
    labels = (rng.random(150) < 0.35).astype(int)
    champion = binormal(rng, labels, 1.6)
    candidate = binormal(rng, labels, 1.6)  # independent noise: the comparison on 150 rows is very uncertain
    rows = scored(labels, candidate, champion)
    policy = GatePolicy(minimum=0.6, max_drop=0.02, slices=())
    point = {"auc": metric_value("auc", labels, candidate)}
    old = judge(policy, point, {"auc": metric_value("auc", labels, champion)}, "1", "held out")

    result = judge_rows(policy, rows, "2", "1")

    assert abs(result.difference["point"]) < 0.01 and old.passed, "the point estimates alone would pass"
    assert result.difference["lower"] < -0.02 and not result.passed
    assert "below champion v1" in result.reasons[0] and "interval" in result.reasons[0]


def test_a_candidate_as_good_as_the_champion_on_enough_rows_passes_with_its_interval():
    rng = np.random.default_rng(4)
    labels = (rng.random(6500) < 0.35).astype(int)
    noise = rng.normal(0, 1, len(labels))
    champion = binormal(rng, labels, 1.6, noise)
    candidate = binormal(rng, labels, 1.65, noise + rng.normal(0, 0.1, len(labels)))
    result = judge_rows(GatePolicy(minimum=0.6, slices=()), scored(labels, candidate, champion), "2", "1")

    assert result.passed, result.reasons
    d = result.difference
    assert d["lower"] > -0.02 and d["lower"] < d["point"] < d["upper"] and d["resamples"] == 1000
    assert d["confidence"] == 0.95 and d["margin"] == 0.02
    assert "lower bound" in result.rule and result.rows == 6500


def test_the_minimum_decides_alone_without_a_champion():
    rng = np.random.default_rng(5)
    labels = (rng.random(500) < 0.35).astype(int)
    weak = binormal(rng, labels, 0.6)
    result = judge_rows(GatePolicy(minimum=0.75, slices=()), scored(labels, weak), "2", None)
    assert not result.passed and "below the minimum 0.7500" in result.reasons[0]
    assert result.difference is None and result.champion is None


def test_a_subgroup_that_regresses_fails_the_gate_and_a_small_one_is_not_judged():
    rng = np.random.default_rng(6)
    n = 4000
    labels = (rng.random(n) < 0.35).astype(int)
    age = rng.integers(21, 80, n).astype(float)
    pregnancies = np.where(np.arange(n) < 60, 0.0, 2.0)  # 60 rows with no pregnancies: too few to judge
    noise = rng.normal(0, 1, n)
    champion = binormal(rng, labels, 2.0, noise)
    candidate = champion.copy()
    older = age >= 70
    candidate[older] = binormal(rng, labels[older], 0.8)  # much worse for the oldest patients only
    rows = scored(labels, candidate, champion, Age=age, Pregnancies=pregnancies)
    policy = GatePolicy(minimum=0.6, max_drop=0.02, slices=parse_slices("Age=30,70;Pregnancies=1"),
                        subgroup_min_rows=100)

    result = judge_rows(policy, rows, "2", "1")

    groups = {g["name"]: g for g in result.subgroups}
    assert groups["Age ≥ 70"]["regressed"] and groups["Age ≥ 70"]["difference"] < -0.02
    assert not groups["Age < 30"]["regressed"] and groups["Age < 30"]["difference"] == 0
    assert groups["Pregnancies < 1"]["rows"] == 60 and not groups["Pregnancies < 1"]["judged"]
    assert not result.passed
    assert any(r.startswith("subgroup Age ≥ 70") for r in result.reasons)


def test_the_bootstrap_is_seeded_and_its_auc_is_the_usual_one():
    rng = np.random.default_rng(7)
    labels = (rng.random(800) < 0.4).astype(int)
    a, b = binormal(rng, labels, 1.5), np.round(binormal(rng, labels, 1.2), 2)  # rounding makes ties
    assert metric_value("auc", labels, b) == pytest.approx(roc_auc_score(labels, b))
    first, again = paired_difference("auc", labels, a, b, seed=1), paired_difference("auc", labels, a, b, seed=1)
    assert first == again
    assert paired_difference("auc", labels, a, b, seed=2) != first
    assert first.point == pytest.approx(roc_auc_score(labels, a) - roc_auc_score(labels, b))
    assert paired_difference("auc", labels, a, a).upper == 0 == paired_difference("auc", labels, a, a).lower


def test_calibration_and_the_operating_point():
    rng = np.random.default_rng(8)
    p = rng.random(20000)
    labels = (rng.random(20000) < p).astype(int)  # calibrated by construction
    calibrated = classification_metrics(labels, p)
    overconfident = classification_metrics(labels, np.where(p >= 0.5, 0.99, 0.01))
    assert calibrated["brier"] == pytest.approx(brier_score_loss(labels, p), abs=1e-6)
    assert calibrated["ece"] < 0.02 < 0.2 < overconfident["ece"]
    predicted = p >= 0.5
    assert calibrated["sensitivity"] == pytest.approx((predicted & (labels == 1)).sum() / (labels == 1).sum())
    assert calibrated["specificity"] == pytest.approx((~predicted & (labels == 0)).sum() / (labels == 0).sum())


def test_cbpe_estimates_accuracy_and_auc_of_a_calibrated_model_without_labels():
    rng = np.random.default_rng(9)
    p = rng.beta(0.8, 1.6, 20000)
    labels = (rng.random(20000) < p).astype(int)
    estimate = estimate_performance(p)
    assert estimate["rows"] == 20000
    assert estimate["accuracy"] == pytest.approx(metric_value("accuracy", labels, p), abs=0.01)
    assert estimate["auc"] == pytest.approx(roc_auc_score(labels, p), abs=0.01)


def test_disagreement_counts_rows_answered_differently_with_the_furthest_apart_as_examples():
    rows = scored([0, 1, 0, 1], [0.1, 0.9, 0.6, 0.45], [0.2, 0.8, 0.3, 0.55], Age=[30, 40, 50, 60])
    found = disagreement(rows, "2", "1")
    assert found["differing"] == 2 and found["share"] == 0.5 and found["rows"] == 4
    assert [e["features"]["Age"] for e in found["examples"]] == [50.0, 60.0]
    assert found["examples"][0] == {"features": {"Age": 50.0, "BMI": 27.0, "Pregnancies": 1.0},
                                    "candidate": 0.6, "champion": 0.3}


def test_slices_are_parsed_and_bad_specifications_name_the_part():
    names = [s.name for s in parse_slices("Age=30,50;Pregnancies=1")]
    assert names == ["Age < 30", "30 ≤ Age < 50", "Age ≥ 50", "Pregnancies < 1", "Pregnancies ≥ 1"]
    assert parse_slices("") == ()
    for bad, says in (("Age", "no cut points"), ("Age=thirty", "numbers"), ("../x=1", "column name")):
        with pytest.raises(ValueError, match=says):
            parse_slices(bad)


def test_the_result_round_trips_and_its_table_shows_interval_and_subgroups():
    rng = np.random.default_rng(10)
    labels = (rng.random(600) < 0.35).astype(int)
    noise = rng.normal(0, 1, 600)
    rows = scored(labels, binormal(rng, labels, 1.6, noise), binormal(rng, labels, 1.5, noise),
                  Age=rng.integers(21, 80, 600))
    result = judge_rows(GatePolicy(minimum=0.6), rows, "2", "1")
    again = GateResult.from_dict(result.to_dict())
    assert again == result
    table = result.table()
    assert table[0] == ("metric", "candidate", "champion v1")
    assert [r[0] for r in table[1:4]] == ["auc", "accuracy", "sensitivity"]
    assert any(r[0] == "Δ auc 95% CI" and r[2].startswith("[") for r in table)
    assert any(r[0].startswith("auc Age ≥ 50 (n=") for r in table)
    old = {"passed": True, "metric": "auc", "candidate": {"auc": 0.9}, "champion": None, "evaluated_on": "x"}
    assert GateResult.from_dict(old).table()[1] == ("auc", "0.9000", "-")
