"""Data drift: a window of inputs against the baseline profile stored with the model, rules, one verdict.

The baseline (written by training/baseline_profile.py, MLflow artifact
`baseline_profile.json`) holds, per numeric feature, a fine uniform grid of reference
counts (one cell per integer for integer features, 1,000 cells between min and max for
floats) and the coarse quantile bins (deciles) as boundaries of that grid. A window is
streamed through a `WindowAccumulator`: per chunk and feature, one multiply-add, one clip
and one `bincount` into the same grid, plus counts of bad values and a small row sample.
Memory is bounded whatever the window size, and windows merge (pooling small windows).
`check_drift` compares each feature (PSI, KS, Jensen-Shannon), applies the `DriftPolicy`
and names every data-quality problem: never a crash, never a silent pass.

Modules, one job each:

    profile_format  the profile's grid and quantile cuts, shared with the training job
    baseline        profile → Baseline
    policy          DriftPolicy: thresholds and rules, tuned defaults
    statistics      PSI, KS, Jensen-Shannon
    column_values   a chunk's column as an array of floats, bad values counted
    tallies         one feature's counts in a window
    row_sample      the window's bounded, mergeable row sample
    window          WindowAccumulator
    quality         one feature's data-quality signals and problem sentences
    comparison      one feature's histograms, statistics and votes
    check           check_drift: the verdict rules
    result          DriftResult
    report          the HTML report of a result

numpy is imported inside the functions that count, so importing this package costs
nothing at cold start (`.importlinter` lists the modules allowed to).
"""
from __future__ import annotations

from shared.domain.drift.baseline import (
    Baseline,
    CategoricalBaseline,
    NumericBaseline,
    ProfileError,
    baseline_from_profile,
)
from shared.domain.drift.check import check_drift
from shared.domain.drift.policy import DriftPolicy
from shared.domain.drift.report import render_html
from shared.domain.drift.result import VERDICTS, DriftResult
from shared.domain.drift.statistics import js_distance, ks_from_counts, psi
from shared.domain.drift.window import WindowAccumulator

__all__ = [
    "DriftPolicy",
    "NumericBaseline",
    "CategoricalBaseline",
    "Baseline",
    "ProfileError",
    "baseline_from_profile",
    "WindowAccumulator",
    "DriftResult",
    "check_drift",
    "psi",
    "js_distance",
    "ks_from_counts",
    "VERDICTS",
    "render_html",
]
