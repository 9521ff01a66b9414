"""The profile layout is declared once (shared/domain/drift/profile_format.py); the training job's copy must match.

The Azure ML job runs training/ on its own (`code: .` uploads that folder alone), so
training/baseline_profile.py cannot import `shared` and repeats the declaration in numpy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.domain.drift import baseline_from_profile
from shared.domain.drift import profile_format
from training import baseline_profile

COLUMNS = {
    "small integers": np.random.default_rng(1).integers(0, 15, 3000),
    "negative integers": np.random.default_rng(2).integers(-40, 7, 3000),
    "wide integers": np.random.default_rng(3).integers(0, 9_000, 3000),   # several integers per cell
    "floats": np.round(np.random.default_rng(4).normal(30.0, 5.0, 3000), 2),
    "skewed floats": np.round(np.random.default_rng(5).exponential(2.0, 3000), 3),
    "constant float": np.full(50, 2.5),
    "constant integer": np.full(50, 7),
    "few floats": np.array([0.1, 0.2, 0.2, 0.9]),
}


def test_both_sides_declare_the_same_layout():
    for name in ("PROFILE_VERSION", "DEFAULT_BINS", "FLOAT_CELLS", "MAX_INTEGER_CELLS"):
        assert getattr(baseline_profile, name) == getattr(profile_format, name), name
    profile = baseline_profile.build_profile(pd.DataFrame({"x": COLUMNS["floats"]}))
    assert profile["version"] == profile_format.PROFILE_VERSION
    assert profile["bins"] == profile_format.DEFAULT_BINS


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_both_sides_build_the_same_grid(name):
    values = COLUMNS[name]
    integer = values.dtype.kind == "i"
    grid = baseline_profile.make_grid(values.astype(float), integer)
    counts = baseline_profile.grid_counts(values, grid)
    start, width, cells, fine = profile_format.grid_from_values([float(v) for v in values], integer)
    assert (grid["start"], grid["width"], grid["cells"]) == (start, width, cells)
    assert counts.tolist() == list(fine)


@pytest.mark.parametrize("bins", [2, 4, 10, 20])
@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_both_sides_cut_the_same_quantiles(name, bins):
    values = COLUMNS[name]
    _, _, _, fine = profile_format.grid_from_values([float(v) for v in values], values.dtype.kind == "i")
    assert baseline_profile.coarse_cuts(np.array(fine), bins) == profile_format.coarse_cuts(fine, bins)


def test_a_version_1_profile_rebuilds_the_grid_and_bins_the_job_writes():
    frame = pd.DataFrame({name: values for name, values in COLUMNS.items() if len(values) == 3000})
    written = baseline_profile.build_profile(frame, sample_size=len(frame))  # the sample holds every value
    version_1 = {**written, "version": 1,
                 "features": {n: {k: v for k, v in spec.items() if k != "grid"} for n, spec in written["features"].items()}}
    stored, rebuilt = baseline_from_profile(written), baseline_from_profile(version_1)
    assert stored.version == 2 and rebuilt.version == 1
    for name in frame.columns:
        ours, theirs = stored.features[name], rebuilt.features[name]
        assert (theirs.start, theirs.width, theirs.cells) == (ours.start, ours.width, ours.cells), name
        assert theirs.fine_counts == ours.fine_counts, name
        assert theirs.cuts == ours.cuts and len(ours.cuts) >= 1, name
