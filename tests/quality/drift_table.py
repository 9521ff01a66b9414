"""The drift quality table on the project data (issue 12, item 4), shared by the test and bench/drift_quality.py.

Baseline: diabetes-dev.csv profiled as training does. Windows: rows of diabetes-prod.csv (the
same generator, no real drift), drawn without replacement up to 5,000 rows and with
replacement for 50,000 (the file has 10,000 rows), profiled on the contract's grid and
projected onto the baseline, as the service does. False alarms: unshifted windows called
"drift". Detection: shifted windows called "drift", per listed shift.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.drift import DriftPolicy, baseline_from_profile, check_drift
from shared.domain.drift.window_profile import new_profile, profile_grids, project
from training.baseline_profile import build_profile

DATA = Path(__file__).resolve().parents[2] / "data"
FEATURES = ["Pregnancies", "PlasmaGlucose", "DiastolicBloodPressure", "TricepsThickness",
            "SerumInsulin", "BMI", "DiabetesPedigree", "Age"]
SIZES = (200, 1000, 5000, 50000)
SEED = 20240604


def course(columns, rng):
    shifted = dict(columns)
    shifted["Pregnancies"] = columns["Pregnancies"] + 1
    shifted["Age"] = columns["Age"] * 1.2
    shifted["BMI"] = columns["BMI"] * 1.1
    return shifted


def make_shifts(prod: pd.DataFrame):
    glucose_sd = float(prod["PlasmaGlucose"].std())
    bmi_mean = float(prod["BMI"].mean())

    def mean_shift(columns, rng):
        return {**columns, "PlasmaGlucose": columns["PlasmaGlucose"] + 0.25 * glucose_sd}

    def variance(columns, rng):
        return {**columns, "BMI": bmi_mean + (columns["BMI"] - bmi_mean) * 1.5}

    def partial(columns, rng):
        n = len(columns["Age"])
        rows = rng.random(n) < 0.30
        shifted = course(columns, rng)
        return {name: np.where(rows, shifted[name], columns[name]) for name in columns}

    return {
        "course shift (Pregnancies +1, Age x1.2, BMI x1.1)": course,
        "PlasmaGlucose mean +0.25 sd": mean_shift,
        "BMI spread x1.5 (variance change)": variance,
        "course shift on 30% of rows": partial,
        "older patients only (Age >= 40)": "older",
        "shifted file after an unshifted one (PlasmaGlucose x1.10, SerumInsulin x1.20; both pooled)": "after",
    }


class Table:
    COURSE = "course shift (Pregnancies +1, Age x1.2, BMI x1.1)"

    @staticmethod
    def shift_names():
        return tuple(make_shifts(pd.DataFrame({"PlasmaGlucose": [0.0, 1.0], "BMI": [0.0, 1.0]})))

    def __init__(self, policy: DriftPolicy | None = None):
        self.dev = pd.read_csv(DATA / "diabetes-dev.csv")[FEATURES]
        self.prod = pd.read_csv(DATA / "diabetes-prod.csv")[FEATURES]
        self.baseline = baseline_from_profile(build_profile(self.dev))
        self.grids = profile_grids(DIABETES_CONTRACT.columns)
        self.policy = policy or DriftPolicy()
        self.arrays = {n: self.prod[n].to_numpy() for n in FEATURES}
        self.older = np.flatnonzero(self.prod["Age"].to_numpy() >= 40)
        self.shifts = make_shifts(self.prod)

    def sample(self, rng, size: int, pool=None):
        pool = np.arange(len(self.prod)) if pool is None else pool
        rows = rng.choice(pool, size, replace=size > len(pool))
        return {n: v[rows] for n, v in self.arrays.items()}

    def verdict(self, *chunks) -> str:
        profile = new_profile(self.grids, reservoir_size=0)
        for columns in chunks:
            profile.add(columns)
        return check_drift(self.baseline, project(profile, self.baseline), self.policy).verdict

    def false_alarm_rate(self, size: int, windows: int) -> float:
        return self.rate(None, size, windows)

    def detection_rate(self, shift: str, size: int, windows: int) -> float:
        return self.rate(shift, size, windows)

    def rate(self, shift: str | None, size: int, windows: int) -> float:
        """Share of the cell's windows called "drift" (`shift` None: the unshifted windows)."""
        return sum(self.verdict(*chunks) == "drift" for chunks in self.windows(shift, size, windows)) / windows

    def windows(self, shift: str | None, size: int, count: int):
        """The cell's windows, each a list of chunks (column name → array) that the window pools, from a
        seeded stream: the first k windows of a cell are the same whatever `count` (bench/drift_quality.py
        hands the same windows to Evidently)."""
        if shift is None:
            rng = np.random.default_rng([SEED, size])
            for _ in range(count):
                yield [self.sample(rng, size)]
            return
        rng = np.random.default_rng([SEED, size, len(shift)])
        how = self.shifts[shift]
        for _ in range(count):
            if how == "older":
                yield [self.sample(rng, size, self.older)]
            elif how == "after":
                later = self.sample(rng, size)
                later = {**later, "PlasmaGlucose": later["PlasmaGlucose"] * 1.10,
                         "SerumInsulin": later["SerumInsulin"] * 1.20}
                yield [self.sample(rng, size), later]
            else:
                yield [how(self.sample(rng, size), rng)]
