"""training/baseline_profile.py: the per-feature baseline profile."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.baseline_profile import bin_counts, bin_edges, build_profile, reference_sample

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "data" / "diabetes-dev.csv"


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "ints": rng.integers(0, 15, 2000),
        "floats": rng.normal(30.0, 5.0, 2000),
        "name": ["x"] * 2000,
    })


def test_profile_fields_and_statistics(frame):
    profile = build_profile(frame)
    assert profile["rows"] == 2000 and profile["bins"] == 10
    assert set(profile["features"]) == {"ints", "floats", "name"}
    assert profile["version"] == 2
    assert profile["features"]["name"] == {
        "kind": "categorical", "dtype": str(frame.name.dtype), "count": 2000, "null_count": 0,
        "categories": {"x": 2000}, "other_count": 0,
    }
    floats = profile["features"]["floats"]
    assert floats["dtype"] == "float64" and floats["kind"] == "numeric" and not floats["integer"]
    assert floats["count"] == 2000 and floats["null_count"] == 0
    assert floats["min"] == pytest.approx(frame.floats.min(), abs=1e-6)
    assert floats["max"] == pytest.approx(frame.floats.max(), abs=1e-6)
    assert floats["mean"] == pytest.approx(frame.floats.mean())
    assert floats["std"] == pytest.approx(frame.floats.std())
    assert len(floats["bin_edges"]) == 11 and floats["bin_edges"] == sorted(floats["bin_edges"])
    assert sum(floats["bin_counts"]) == 2000
    assert all(150 <= c <= 250 for c in floats["bin_counts"])  # deciles: about 200 each
    ints = profile["features"]["ints"]
    assert ints["dtype"] == "int64" and isinstance(ints["min"], int) and isinstance(ints["sample"][0], int)
    assert ints["integer"] and ints["grid"]["width"] == 1.0 and ints["grid"]["cells"] == 15  # one cell per integer
    assert ints["grid"]["start"] == -0.5 and ints["grid"]["counts"][1:-1] == np.bincount(frame.ints, minlength=15).tolist()
    assert len(ints["bin_edges"]) - 1 == len(ints["bin_counts"])  # ties may merge deciles
    assert sum(ints["bin_counts"]) == 2000


def test_fine_grid_of_a_float_column(frame):
    floats = build_profile(frame)["features"]["floats"]
    grid = floats["grid"]
    assert grid["cells"] == 1000 and len(grid["counts"]) == 1002 and sum(grid["counts"]) == 2000
    assert grid["counts"][0] == 0 and grid["counts"][-1] == 0  # min and max inside the grid
    assert grid["start"] == pytest.approx(frame.floats.min())
    # the coarse bins are sums of fine cells
    edges = floats["bin_edges"]
    cuts = [round((e - grid["start"]) / grid["width"]) + 1 for e in edges[1:-1]]
    bounds = [0, *cuts, len(grid["counts"])]
    assert floats["bin_counts"] == [sum(grid["counts"][a:b]) for a, b in zip(bounds, bounds[1:])]


def test_reference_sample_is_sorted_bounded_and_keeps_the_distribution(frame):
    sample = build_profile(frame, sample_size=1000)["features"]["floats"]["sample"]
    assert len(sample) == 1000 and sample == sorted(sample)
    assert sample[0] == pytest.approx(frame.floats.min(), abs=1e-6)
    assert sample[-1] == pytest.approx(frame.floats.max(), abs=1e-6)
    assert np.median(sample) == pytest.approx(frame.floats.median(), abs=0.1)
    small = build_profile(frame.head(50))["features"]["floats"]["sample"]
    assert len(small) == 50  # fewer values than the sample size: all of them
    assert len(build_profile(frame)["features"]["floats"]["sample"]) == 200  # default: short
    assert len(reference_sample(np.arange(5000), 300)) == 300


def test_nulls_constant_and_empty_columns():
    frame = pd.DataFrame({
        "with_nulls": [1.0, None, 3.0, None, 5.0],
        "constant": [7, 7, 7, 7, 7],
        "empty": [np.nan] * 5,
    })
    features = build_profile(frame)["features"]
    assert features["with_nulls"]["count"] == 3 and features["with_nulls"]["null_count"] == 2
    assert sum(features["with_nulls"]["bin_counts"]) == 3
    assert features["constant"]["bin_counts"] == [5] and features["constant"]["std"] == 0.0
    assert features["empty"]["count"] == 0 and features["empty"]["null_count"] == 5
    assert features["empty"]["bin_edges"] == [] and features["empty"]["mean"] is None
    assert features["empty"]["grid"] is None
    json.dumps(build_profile(frame), allow_nan=False)  # strict JSON: no NaN anywhere


def test_bin_counts_are_open_ended():
    edges = bin_edges(np.arange(100, dtype=float), 10)
    assert len(edges) == 11 and edges[0] == 0 and edges[-1] == 99
    assert list(edges[1:-1]) == [9.5, 19.5, 29.5, 39.5, 49.5, 59.5, 69.5, 79.5, 89.5]  # integers: half-integer edges
    counts = bin_counts(np.array([-50.0, 0.0, 50.0, 99.0, 1000.0, np.nan]), edges)
    assert len(counts) == 10 and sum(counts) == 5
    assert counts[0] == 2 and counts[-1] == 2


def test_pure_function(frame):
    before = frame.copy()
    assert build_profile(frame) == build_profile(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_real_data_profile_is_compact_json():
    features = pd.read_csv(DEV).drop(columns=["PatientID", "Diabetic"])
    text = json.dumps(build_profile(features), separators=(",", ":"), allow_nan=False)
    assert 2_000 < len(text) < 40_000
    assert len(json.loads(text)["features"]) == 8


def test_needs_only_pandas_and_numpy():
    code = (
        "import sys; import training.baseline_profile; "
        "heavy = {'sklearn', 'mlflow', 'matplotlib', 'scipy'} & {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
