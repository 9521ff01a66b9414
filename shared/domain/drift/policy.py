"""The rules of a drift check and their defaults.

A statistic votes when it is beyond the value sampling noise alone would reach with the
check's false-alarm rate (significance.py: critical values that depend on both sample
sizes) AND beyond its minimum effect size (the thresholds), so a million-row window does not
alarm on a negligible difference. Measured on the project data (baseline diabetes-dev.csv,
windows of diabetes-prod.csv with and without listed shifts): tests/quality/.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DriftPolicy:
    """Thresholds and rules of a drift check (all configurable; defaults tuned on the project data).

    false_alarm_rate: the chance that a window of undrifted data is called "drift" (per check,
        for all features together: each of the F features' t tests runs at
        false_alarm_rate * votes_needed / (F * t), a Bonferroni bound).
    psi_threshold / ks_threshold / js_threshold: minimum effect sizes; a statistic "votes" when it
        is above both its critical value at that rate and its threshold.
    votes_needed: a feature drifts when at least this many of its statistics vote (KS, PSI, JS
        for numeric features; PSI and JS for categorical ones, where at most 2 can vote).
    drifted_share: the dataset drifts when at least this share of the features drift (and at least
        one); None: one drifted feature is enough.
    min_window_rows: smaller windows are "insufficient_data" (the service pools them).
    max_null_rate: a feature with more empty values than this (and more than its baseline) is a problem.
    max_out_of_range_rate: a feature with more values outside the baseline [min, max] than this is a problem.
    """

    psi_threshold: float = 0.01
    ks_threshold: float = 0.03
    js_threshold: float = 0.04
    votes_needed: int = 2
    drifted_share: float | None = None
    min_window_rows: int = 1000
    max_null_rate: float = 0.05
    max_out_of_range_rate: float = 0.01
    false_alarm_rate: float = 0.01

    def __post_init__(self) -> None:
        for name in ("psi_threshold", "ks_threshold", "js_threshold", "max_null_rate", "max_out_of_range_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f"DriftPolicy.{name} must be a finite number >= 0, got {value!r}")
        if not isinstance(self.votes_needed, int) or not 1 <= self.votes_needed <= 3:
            raise ValueError(f"DriftPolicy.votes_needed must be 1, 2 or 3, got {self.votes_needed!r}")
        if not isinstance(self.false_alarm_rate, (int, float)) or not 0 < self.false_alarm_rate <= 0.5:
            raise ValueError(f"DriftPolicy.false_alarm_rate must be in (0, 0.5], got {self.false_alarm_rate!r}")
        if self.drifted_share is not None and (
                not isinstance(self.drifted_share, (int, float)) or not 0 < self.drifted_share <= 1):
            raise ValueError(f"DriftPolicy.drifted_share must be in (0, 1], got {self.drifted_share!r}")
        if not isinstance(self.min_window_rows, int) or self.min_window_rows < 1:
            raise ValueError(f"DriftPolicy.min_window_rows must be an integer >= 1, got {self.min_window_rows!r}")

    def to_dict(self) -> dict[str, Any]:
        """The policy as a plain dict (stored with each result)."""
        return asdict(self)
