"""shared/domain/drift/: statistics, streaming accumulator, pooling, bad input, verdicts."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.domain.drift import (
    Baseline,
    DriftPolicy,
    DriftResult,
    ProfileError,
    WindowAccumulator,
    baseline_from_profile,
    check_drift,
    js_distance,
    ks_from_counts,
    psi,
)
from training.baseline_profile import build_profile

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]


@pytest.fixture(scope="module")
def dev():
    return pd.read_csv(ROOT / "data" / "diabetes-dev.csv")[FEATURES]


@pytest.fixture(scope="module")
def prod():
    return pd.read_csv(ROOT / "data" / "diabetes-prod.csv")[FEATURES]


@pytest.fixture(scope="module")
def baseline(dev) -> Baseline:
    return baseline_from_profile(build_profile(dev))


def columns_of(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in frame.columns}


def check(baseline, *chunks, policy=None, **kwargs) -> DriftResult:
    window = WindowAccumulator(baseline, **kwargs)
    for chunk in chunks:
        window.add(chunk)
    return check_drift(baseline, window, policy or DriftPolicy())


# ---------------------------------------------------------------- statistics


def test_psi_known_values():
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    p, q = [0.5, 0.5], [0.25, 0.75]
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(p, q) == pytest.approx(expected)
    assert psi([1, 0], [0, 1]) == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4))  # empty bins: epsilon
    assert psi([1, 1], [1, 0]) == psi([1, 0], [1, 1])  # symmetric


def test_js_distance_known_values():
    assert js_distance([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint: 1 in base 2
    # half overlapping: JSD = 0.5 bit
    assert js_distance([1, 1, 0], [0, 1, 1]) == pytest.approx(math.sqrt(0.5))
    scipy_distance = pytest.importorskip("scipy.spatial.distance")
    p, q = [0.1, 0.4, 0.3, 0.2], [0.3, 0.3, 0.2, 0.2]
    assert js_distance(p, q) == pytest.approx(scipy_distance.jensenshannon(p, q, base=2))


def test_ks_known_values():
    assert ks_from_counts([5, 5], [50, 50]) == 0.0
    assert ks_from_counts([1, 0], [0, 1]) == 1.0
    assert ks_from_counts([1, 1, 1, 1], [0, 0, 1, 1]) == pytest.approx(0.5)


def test_identical_distributions_give_about_zero(dev, baseline):
    result = check(baseline, columns_of(dev))
    for name, stats in result.features.items():
        assert stats["psi"] == pytest.approx(0.0, abs=1e-9), name
        assert stats["js"] == pytest.approx(0.0, abs=1e-6), name
        assert stats["ks"] == pytest.approx(0.0, abs=1e-9), name
    assert result.verdict == "no_drift" and result.problems == ()


def test_disjoint_distributions_give_large_statistics(dev, baseline):
    moved = columns_of(dev)
    moved = {name: values + 10_000 for name, values in moved.items()}
    result = check(baseline, moved)
    for name, stats in result.features.items():
        assert stats["ks"] == pytest.approx(1.0), name
        # open-ended bins: everything lands in the last bin, which holds some reference mass
        assert stats["js"] > 0.75 and stats["psi"] > 2, name
    assert result.verdict == "drift" and result.drifted_share == 1.0
    assert any("outside the baseline range" in p for p in result.problems)


def test_ks_agrees_with_scipy(dev, prod, baseline):
    stats = pytest.importorskip("scipy.stats")
    window = prod.sample(n=2000, random_state=3)
    shifted = window.assign(Age=window.Age * 1.2, BMI=window.BMI * 1.1)
    result = check(baseline, columns_of(window))
    shifted_result = check(baseline, columns_of(shifted))
    for name in FEATURES:
        exact = stats.ks_2samp(dev[name], window[name]).statistic
        # integer features: one grid cell per integer, so the statistic is exact
        tolerance = 1e-9 if name not in ("BMI", "DiabetesPedigree") else 0.003
        assert result.features[name]["ks"] == pytest.approx(exact, abs=tolerance), name
    for name in ("BMI", "DiabetesPedigree", "PlasmaGlucose"):
        exact = stats.ks_2samp(dev[name], shifted[name]).statistic
        assert shifted_result.features[name]["ks"] == pytest.approx(exact, abs=0.003), name
    # Age x 1.2 is not integer any more: values between two integers share the cell of the
    # nearer one, so the statistic is a lower bound, within one cell's reference mass
    exact_age = stats.ks_2samp(dev["Age"], shifted["Age"]).statistic
    biggest_cell = max(np.bincount(dev["Age"])) / len(dev)
    assert exact_age - biggest_cell <= shifted_result.features["Age"]["ks"] <= exact_age + 1e-9


# ---------------------------------------------------------------- accumulator


def test_chunking_does_not_change_the_result(prod, baseline):
    columns = columns_of(prod)
    whole = check(baseline, columns, seed=5)
    parts = [{n: v[i:i + 937] for n, v in columns.items()} for i in range(0, len(prod), 937)]
    chunked = check(baseline, *parts, seed=5)
    for name in FEATURES:
        a, b = whole.features[name], chunked.features[name]
        assert (a["psi"], a["ks"], a["js"], a["votes"]) == (b["psi"], b["ks"], b["js"], b["votes"])
        assert a["current"]["counts"] == b["current"]["counts"]
        assert a["current"]["mean"] == pytest.approx(b["current"]["mean"], rel=1e-12)
    assert whole.quality == chunked.quality and whole.rows == chunked.rows == 10_000
    # the reservoir is chunk-invariant too (same key stream)
    one, many = WindowAccumulator(baseline, 500, seed=1), WindowAccumulator(baseline, 500, seed=1)
    one.add(columns)
    for part in parts:
        many.add(part)
    assert one.sample() == many.sample()


def test_merge_pools_windows(prod, baseline):
    columns = columns_of(prod)
    first = WindowAccumulator(baseline, reservoir_size=300, seed=1)
    second = WindowAccumulator(baseline, reservoir_size=300, seed=2)
    first.add({n: v[:600] for n, v in columns.items()})
    second.add({n: v[600:1500] for n, v in columns.items()})
    assert check_drift(baseline, first, DriftPolicy()).verdict == "insufficient_data"
    first.merge(second)
    pooled = check_drift(baseline, first, DriftPolicy())
    direct = check(baseline, {n: v[:1500] for n, v in columns.items()})
    assert pooled.rows == 1500 and pooled.verdict == direct.verdict == "no_drift"
    for name in FEATURES:
        assert pooled.features[name]["current"]["counts"] == direct.features[name]["current"]["counts"]
        assert pooled.features[name]["ks"] == direct.features[name]["ks"]
        assert pooled.features[name]["psi"] == direct.features[name]["psi"]
    sample = first.sample()
    assert all(len(values) == 300 for values in sample.values())
    assert set(sample["Age"]) <= set(prod.Age[:1500].tolist())


def test_lists_and_mixed_inputs(baseline):
    rows = 1200
    rng = np.random.default_rng(0)
    columns = {name: rng.integers(20, 60, rows).tolist() for name in FEATURES}
    result = check(baseline, columns)
    assert result.rows == rows and result.verdict in ("drift", "no_drift")


def test_memory_is_bounded(baseline):
    window = WindowAccumulator(baseline, reservoir_size=100)
    rng = np.random.default_rng(0)
    for _ in range(20):
        window.add({name: rng.normal(30, 5, 10_000) for name in FEATURES})
    assert window.rows == 200_000
    assert all(len(v) == 100 for v in window.sample().values())
    assert all(state.counts.size <= 1002 for state in window._numeric.values())


# ---------------------------------------------------------------- bad input


def test_empty_window_is_insufficient(baseline):
    result = check(baseline)
    assert result.verdict == "insufficient_data" and result.rows == 0
    assert check(baseline, {}).verdict == "insufficient_data"
    assert check(baseline, {name: [] for name in FEATURES}).verdict == "insufficient_data"


def test_small_window_is_insufficient(prod, baseline):
    result = check(baseline, columns_of(prod.head(999)))
    assert result.verdict == "insufficient_data" and "fewer than the minimum" in result.reason
    assert result.features["Age"]["psi"] is not None  # statistics are still there to look at


def test_missing_column_is_data_quality(prod, baseline):
    result = check(baseline, columns_of(prod.drop(columns=["BMI"])))
    assert result.verdict == "data_quality"
    assert result.quality["BMI"]["missing"] is True
    assert "column 'BMI' is missing from the window" in result.problems
    assert result.window["missing_features"] == ["BMI"]
    assert result.features["BMI"]["psi"] is None and not result.features["BMI"]["drifted"]


def test_column_missing_in_some_chunks_is_named(prod, baseline):
    columns = columns_of(prod)
    result = check(baseline, columns, {n: v for n, v in columns.items() if n != "Age"})
    assert result.verdict == "no_drift"
    assert "column 'Age' is missing in 10000 of 20000 rows" in result.problems


def test_all_null_column_is_data_quality(prod, baseline):
    columns = columns_of(prod)
    columns["Age"] = np.full(len(prod), np.nan)
    result = check(baseline, columns)
    assert result.verdict == "data_quality"
    assert result.quality["Age"]["null_rate"] == 1.0
    assert any(p.startswith("column 'Age' has no usable value: 10000 empty") for p in result.problems)
    none_column = columns_of(prod)
    none_column["BMI"] = [None] * len(prod)
    assert check(baseline, none_column).verdict == "data_quality"


def test_constant_column_is_named(prod, baseline):
    columns = columns_of(prod)
    columns["PlasmaGlucose"] = np.full(len(prod), 100)
    result = check(baseline, columns)
    assert result.quality["PlasmaGlucose"]["constant"] is True
    assert any("column 'PlasmaGlucose' is constant (100 in all 10000 values" in p for p in result.problems)
    assert "PlasmaGlucose" in result.drifted_features


def test_nan_and_inf_are_counted_not_used(prod, baseline):
    columns = columns_of(prod)
    bmi = columns["BMI"].copy()
    bmi[:300] = np.nan
    bmi[300:310] = np.inf
    bmi[310:312] = -np.inf
    columns["BMI"] = bmi
    result = check(baseline, columns)
    quality = result.quality["BMI"]
    assert quality["null_count"] == 300 and quality["non_finite"] == 12
    assert quality["null_rate"] == pytest.approx(0.03)
    assert "column 'BMI': 12 values are infinite" in result.problems
    assert result.features["BMI"]["current"]["rows"] == 10_000 - 312
    assert result.verdict == "no_drift"
    columns["BMI"][:1000] = np.nan  # 10% empty: above the 5% limit
    assert any("column 'BMI': 10.0% of values are empty" in p for p in check(baseline, columns).problems)


def test_strings_in_a_numeric_column_are_type_errors(prod, baseline):
    columns = columns_of(prod)
    age = columns["Age"].astype(object)
    age[5] = "abc"
    age[6] = "n/a "
    age[7] = None
    age[8] = "42"  # a numeric string is a number
    columns["Age"] = age
    result = check(baseline, columns)
    assert result.quality["Age"]["type_errors"] == 2 and result.quality["Age"]["null_count"] == 1
    assert "column 'Age': 2 values are not numbers (e.g. 'abc', 'n/a ')" in result.problems
    assert result.features["Age"]["current"]["rows"] == 10_000 - 3
    all_text = columns_of(prod)
    all_text["Age"] = np.array(["old"] * len(prod))
    result = check(baseline, all_text)
    assert result.verdict == "data_quality"
    assert any("column 'Age' has no usable value: 10000 not numbers" in p for p in result.problems)


def test_extra_columns_are_ignored_but_recorded(prod, baseline):
    columns = columns_of(prod)
    columns["PatientID"] = np.arange(len(prod))
    result = check(baseline, columns)
    assert result.verdict == "no_drift" and result.window["extra_columns"] == ["PatientID"]


def test_categorical_features_and_unseen_categories():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({
        "colour": rng.choice(["red", "green", "blue"], 3000, p=[0.5, 0.3, 0.2]),
        "size": rng.normal(10, 2, 3000),
    })
    baseline = baseline_from_profile(build_profile(reference))
    assert baseline.features["colour"].kind == "categorical"
    same = {"colour": rng.choice(["red", "green", "blue"], 2000, p=[0.5, 0.3, 0.2]), "size": rng.normal(10, 2, 2000)}
    result = check(baseline, same)
    assert result.verdict == "no_drift" and result.features["colour"]["ks"] is None
    assert result.features["colour"]["psi"] < 0.02
    new = {"colour": rng.choice(["red", "purple", "teal"], 2000, p=[0.4, 0.4, 0.2]), "size": rng.normal(14, 2, 2000)}
    result = check(baseline, new)
    assert result.quality["colour"]["unseen_categories"] == ["purple", "teal"]
    assert any("column 'colour': 1" in p and "categories the baseline never saw ('purple', 'teal')" in p
               for p in result.problems)
    assert result.features["colour"]["drifted"] and result.verdict == "drift"
    assert result.features["colour"]["reference"]["categories"][-1] == "(other)"
    json.dumps(result.to_dict(), allow_nan=False)


def test_version_1_profile_still_works(dev, prod):
    """Profiles logged before the grids (version 1: bins + a sorted 1,000-value sample)."""
    v2 = build_profile(dev, sample_size=1000)
    v1 = {"version": 1, "rows": v2["rows"], "features": {
        name: {k: spec[k] for k in ("dtype", "count", "null_count", "min", "max", "mean", "std", "bin_edges", "bin_counts", "sample")}
        for name, spec in v2["features"].items()}}
    old, new = baseline_from_profile(v1), baseline_from_profile(v2)
    window = columns_of(prod.sample(n=2000, random_state=1))
    a, b = check(old, window), check(new, window)
    assert a.verdict == b.verdict == "no_drift"
    for name in FEATURES:
        assert a.features[name]["ks"] == pytest.approx(b.features[name]["ks"], abs=0.01)


def test_bad_profiles_raise_profile_error():
    with pytest.raises(ProfileError):
        baseline_from_profile({})
    with pytest.raises(ProfileError):
        baseline_from_profile({"features": {"x": {"count": 0}}})
    with pytest.raises(ProfileError, match="'x' is malformed"):
        baseline_from_profile({"version": 2, "features": {"x": {"count": 5, "min": 0, "max": 1, "grid": {"start": 0, "width": 1, "cells": 3, "counts": [1]}}}})


def test_policy_validation():
    with pytest.raises(ValueError, match="votes_needed"):
        DriftPolicy(votes_needed=4)
    with pytest.raises(ValueError, match="psi_threshold"):
        DriftPolicy(psi_threshold=-1)
    with pytest.raises(ValueError, match="drifted_share"):
        DriftPolicy(drifted_share=0)


def test_votes_rule(prod, baseline):
    window = columns_of(prod.head(2000))
    window["BMI"] = window["BMI"] * 1.1
    strict = check(baseline, window, policy=DriftPolicy(votes_needed=3, drifted_share=0.1))
    loose = check(baseline, window, policy=DriftPolicy(votes_needed=1, drifted_share=0.1))
    assert strict.features["BMI"]["votes"] == 3 and strict.verdict == "drift"
    assert loose.drifted_features == ("BMI",)
    assert check(baseline, window, policy=DriftPolicy(drifted_share=0.25)).verdict == "no_drift"  # 1 of 8 < 25%
    assert check(baseline, window).verdict == "drift"  # by default one significant feature is enough


# ---------------------------------------------------------------- result


def test_to_dict_is_strict_json(prod, baseline):
    columns = columns_of(prod)
    columns["BMI"] = np.full(len(prod), np.inf)
    result = check(baseline, columns)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["verdict"] == "data_quality" and data["rows"] == 10_000
    assert set(data["features"]) == set(FEATURES) == set(data["quality"])
    assert data["policy"]["psi_threshold"] == DriftPolicy().psi_threshold
    assert {"psi", "ks", "js", "drifted", "votes", "reference", "current"} <= set(data["features"]["Age"])
    assert {"null_rate", "out_of_range_rate", "type_errors", "non_finite", "missing", "constant",
            "unseen_categories"} <= set(data["quality"]["Age"])


def test_importing_drift_imports_no_numpy():
    code = ("import sys; import shared.domain.drift, shared.domain.drift.report; "
            "print(sorted({'numpy', 'pandas', 'scipy'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


# ---------------------------------------------------------------- streaming readers (shared/adapters/window_reader.py)


def test_csv_reader_on_bytes_chunks_matches_the_whole_file(prod, baseline):
    from shared.adapters.window_reader import iter_csv_columns

    raw = (ROOT / "data" / "diabetes-prod.csv").read_bytes()
    pieces = [raw[i:i + 7777] for i in range(0, len(raw), 7777)]  # cuts inside rows and numbers
    window = WindowAccumulator(baseline)
    chunks = list(iter_csv_columns(iter(pieces), FEATURES, chunk_rows=3000))
    assert [len(c["Age"]) for c in chunks] == [3000, 3000, 3000, 1000]
    assert set(chunks[0]) == set(FEATURES)  # only the wanted columns
    for chunk in chunks:
        window.add(chunk)
    streamed = check_drift(baseline, window, DriftPolicy())
    direct = check(baseline, columns_of(prod))
    assert streamed.rows == 10_000
    assert {n: s["ks"] for n, s in streamed.features.items()} == {n: s["ks"] for n, s in direct.features.items()}


def test_csv_reader_passes_bad_cells_on_as_type_errors(baseline, prod):
    import io

    from shared.adapters.window_reader import iter_csv_columns

    frame = prod.head(1500).astype({"Age": object})
    frame.loc[3, "Age"] = "abc"
    frame.loc[4, "BMI"] = None
    text = frame.drop(columns=["SerumInsulin"]).to_csv(index=False).encode()
    window = WindowAccumulator(baseline)
    for chunk in iter_csv_columns(io.BytesIO(text), FEATURES):
        window.add(chunk)
    result = check_drift(baseline, window, DriftPolicy())
    assert result.verdict == "data_quality"  # SerumInsulin missing
    assert result.quality["Age"]["type_errors"] == 1 and result.quality["BMI"]["null_count"] == 1
    assert "column 'SerumInsulin' is missing from the window" in result.problems
    assert list(iter_csv_columns(iter([b""]))) == []


def test_parquet_reader_from_chunks_and_ranges(prod, baseline, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")

    from shared.adapters.window_reader import RangeReader, iter_parquet_columns

    table = pa.Table.from_pandas(prod.assign(Extra="x"), preserve_index=False)
    path = tmp_path / "window.parquet"
    pq.write_table(table, path, row_group_size=2500)
    data = path.read_bytes()
    direct = check(baseline, columns_of(prod))
    sources = {
        "chunks": iter([data[i:i + 4096] for i in range(0, len(data), 4096)]),
        "range": RangeReader(lambda offset, length: data[offset:offset + length], len(data)),
        "path": str(path),
    }
    for name, source in sources.items():
        window = WindowAccumulator(baseline)
        for chunk in iter_parquet_columns(source, FEATURES, batch_rows=4000):
            assert set(chunk) == set(FEATURES)
            window.add(chunk)
        result = check_drift(baseline, window, DriftPolicy())
        assert result.rows == 10_000, name
        assert {n: s["psi"] for n, s in result.features.items()} == {n: s["psi"] for n, s in direct.features.items()}, name
