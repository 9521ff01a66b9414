"""Window profiles: made by the validation pass, stored, merged, projected; critical values; the windows."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.domain.contract import DIABETES_CONTRACT, validate_csv
from shared.domain.drift import WindowAccumulator, baseline_from_profile, check_drift
from shared.domain.drift.file_profiler import FileProfiler
from shared.domain.drift.significance import chi_square_quantile, histogram_critical, ks_critical, ks_p_value
from shared.domain.drift.window_profile import (
    merge_profiles, new_profile, profile_from_dict, profile_grids, profile_to_dict, project,
)
from training.baseline_profile import build_profile

DATA = Path(__file__).resolve().parents[2] / "data"
FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]


@pytest.fixture(scope="module")
def baseline():
    return baseline_from_profile(build_profile(pd.read_csv(DATA / "diabetes-dev.csv")[FEATURES]))


@pytest.fixture(scope="module")
def prod():
    return pd.read_csv(DATA / "diabetes-prod.csv")


def profiled(data: bytes, seed: int = 0):
    profiler = FileProfiler(DIABETES_CONTRACT, seed=seed)
    report = validate_csv([data], DIABETES_CONTRACT, observer=profiler)
    return report, profiler.profile


def test_the_validation_pass_profile_equals_the_streamed_window(baseline, prod):
    report, profile = profiled((DATA / "diabetes-prod.csv").read_bytes())
    assert report.accepted and profile.rows == report.rows == 10_000
    streamed = WindowAccumulator(baseline)
    streamed.add({n: prod[n].to_numpy() for n in FEATURES})
    ours, theirs = check_drift(baseline, project(profile, baseline)), check_drift(baseline, streamed)
    assert ours.verdict == theirs.verdict
    for name in ("Pregnancies", "PlasmaGlucose", "SerumInsulin", "Age"):  # integer grids: exact
        assert ours.features[name]["ks"] == pytest.approx(theirs.features[name]["ks"], abs=1e-12)
    for name in ("BMI", "DiabetesPedigree"):  # float grids: within a cell
        assert ours.features[name]["ks"] == pytest.approx(theirs.features[name]["ks"], abs=1e-3)
        assert profile.tally(name).sum == pytest.approx(float(prod[name].sum()))


def test_integer_cells_numpy_does_not_read_are_counted_like_the_others(baseline, prod):
    """'3.0', ' 5' and '+2' are valid in an int column: the profile counts them as 3, 5 and 2."""
    lines = (DATA / "diabetes-prod.csv").read_text().splitlines()
    header, body = lines[0], lines[1:]
    column = header.split(",").index("Pregnancies")
    spelled = []
    for i, line in enumerate(body):
        cells = line.split(",")
        if i % 3 == 0:
            cells[column] = (f"{cells[column]}.0", f" {cells[column]}", f"+{cells[column]}")[i % 9 // 3]
        spelled.append(",".join(cells))
    report, profile = profiled(("\n".join([header, *spelled]) + "\n").encode())
    _, plain = profiled((DATA / "diabetes-prod.csv").read_bytes())
    assert report.accepted
    for name in FEATURES:
        assert np.array_equal(profile.tally(name).counts, plain.tally(name).counts), name
        assert profile.tally(name).sum == plain.tally(name).sum
    assert profile.sample() == plain.sample()


def test_empty_cells_are_counted_as_nulls_and_rejected_files_still_profile_safely():
    text = (DATA / "diabetes-prod.csv").read_text().splitlines()
    text[5] = text[5].replace(",", ",,", 1).replace(",,", ",", 1)
    cells = text[5].split(",")
    cells[6] = ""
    text[5] = ",".join(cells)
    report, profile = profiled(("\n".join(text) + "\n").encode())
    assert report.accepted
    assert profile.tally("BMI").nulls == 1 and profile.tally("BMI").valid == 9_999


def test_profiles_round_trip_through_json_and_merge_exactly(baseline, prod):
    data = (DATA / "diabetes-prod.csv").read_text().splitlines()
    half = len(data) // 2
    _, first = profiled(("\n".join(data[:half]) + "\n").encode(), seed=1)
    _, second = profiled(("\n".join([data[0], *data[half:]]) + "\n").encode(), seed=2)
    # stores may sort keys (Blob Storage documents do)
    stored = [profile_from_dict(json.loads(json.dumps(profile_to_dict(p), allow_nan=False, sort_keys=True)))
              for p in (first, second)]
    grids = profile_grids(DIABETES_CONTRACT.columns)
    merged = merge_profiles(stored, grids)
    _, whole = profiled((DATA / "diabetes-prod.csv").read_bytes())
    assert merged.rows == whole.rows
    for name in FEATURES:
        assert np.array_equal(merged.tally(name).counts, whole.tally(name).counts)
        assert merged.tally(name).min == whole.tally(name).min
    assert len(merged.sample()["Age"]) == 500 and all(v is not None for v in merged.sample()["Age"])


def test_a_baseline_feature_the_profile_lacks_is_missing(baseline):
    profile = new_profile(profile_grids([r for r in DIABETES_CONTRACT.columns if r.name != "Age"]))
    profile.add({"BMI": [30.0] * 10})
    result = check_drift(baseline, project(profile, baseline))
    assert result.verdict == "data_quality" and "Age" in result.window["missing_features"]


def test_critical_values_shrink_with_both_sample_sizes():
    assert ks_critical(5000, 200, 0.001) > ks_critical(5000, 1000, 0.001) > ks_critical(5000, 50_000, 0.001)
    assert ks_critical(500, 50_000, 0.001) > ks_critical(5000, 50_000, 0.001)
    assert ks_p_value(ks_critical(5000, 1000, 0.001), 5000, 1000) == pytest.approx(0.001, rel=0.05)
    small, large = histogram_critical([100] * 10, 5000, 200, 0.001), histogram_critical([100] * 10, 5000, 50_000, 0.001)
    assert small[0] > large[0] and small[1] > large[1]
    # under no drift PSI is about (1/n + 1/m) chi2(k-1): the bootstrap recovers that quantile
    expected = (1 / 5000 + 1 / 1000) * chi_square_quantile(9, 0.999)
    assert histogram_critical([100] * 10, 5000, 1000, 0.001)[0] == pytest.approx(expected, rel=0.25)
    assert chi_square_quantile(9, 0.99) == pytest.approx(21.666, rel=0.01)
    assert math.isinf(histogram_critical([5], 10, 10, 0.01)[0])


def test_merging_many_profiles_at_once_equals_merging_them_one_by_one(prod):
    grids = profile_grids(DIABETES_CONTRACT.columns)
    parts = []
    for i in range(7):
        part = new_profile(grids, seed=i)
        rows = prod.iloc[i * 700:(i + 1) * 700]
        columns = {n: rows[n].to_numpy().astype(object) for n in FEATURES}
        columns["BMI"][i] = "abc" if i % 2 else None
        part.add({**columns, f"extra{i}": [1] * len(rows)})
        parts.append(part)
    at_once = merge_profiles(parts, grids)
    one_by_one = new_profile(grids)
    for part in parts:
        one_by_one.merge(part)
    assert at_once.rows == one_by_one.rows == 4900 and at_once.extra_columns == one_by_one.extra_columns
    for name in FEATURES:
        ours, theirs = at_once.tally(name), one_by_one.tally(name)
        assert np.array_equal(ours.counts, theirs.counts)
        for field in ("present_rows", "nulls", "type_errors", "valid", "sum", "min", "max", "examples"):
            assert getattr(ours, field) == getattr(theirs, field), (name, field)
    assert at_once.tally("BMI").type_errors == 3 and at_once.tally("BMI").examples == ["'abc'"] * 3
    assert at_once.sample() == one_by_one.sample()


@pytest.mark.parametrize("cell", ["3.0", " 3", "3 ", "+3", "\t3", "", "1e3", "1_0", "٣", "0x1", "-1", "31", "-0",
                                  "99999999999999999999", "-99999999999999999999", "3,", "abc", "1 2", "3\f"])
def test_the_profiled_validation_pass_gives_the_same_verdict_as_the_plain_one(cell):
    """The profile reads int columns at once with numpy: whatever a cell holds, the report is the same."""
    lines = (DATA / "diabetes-prod.csv").read_text().splitlines()[:3001]
    header = lines[0].split(",")
    for column in ("Pregnancies", "Age"):  # Pregnancies: 0..30, Age: 0..120
        at = header.index(column)
        edited = list(lines)
        for row in (5, 1700):
            cells = edited[row].split(",")
            cells[at] = cell
            edited[row] = ",".join(cells)
        data = ("\n".join(edited) + "\n").encode()
        plain = validate_csv([data], DIABETES_CONTRACT)
        profiled_report, profile = profiled(data)
        assert profiled_report == plain, (column, cell)
        if plain.accepted:
            assert profile.tally(column).valid + profile.tally(column).nulls == 3000
