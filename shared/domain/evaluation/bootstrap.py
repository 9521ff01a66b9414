"""Paired bootstrap of the difference in a metric between two models scored on the same rows.

Each resample draws the rows with replacement once and scores BOTH models on that same draw,
so the interval reflects how much the comparison (not each model alone) depends on which
patients happened to be held out. Seeded: the same rows give the same interval.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.domain.evaluation.metrics import weighted_metric

BLOCK = 250  # resamples scored per matrix block: bounds memory at BLOCK × rows counts


@dataclass(frozen=True)
class Interval:
    """metric(candidate) − metric(champion): the point estimate and a percentile interval."""

    metric: str
    point: float
    lower: float
    upper: float
    confidence: float
    resamples: int
    standard_error: float
    seed: int

    def to_dict(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def paired_difference(metric: str, labels, candidate, champion, threshold: float = 0.5,
                      resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> Interval:
    """The bootstrap interval of metric(candidate) − metric(champion); resamples where the metric is
    undefined (one class only) are left out."""
    import numpy as np

    y = np.asarray(labels, dtype=float)
    a, b = np.asarray(candidate, dtype=float), np.asarray(champion, dtype=float)
    n = len(y)
    point = float(weighted_metric(metric, y, a, threshold, np.ones((1, n)))[0]
                  - weighted_metric(metric, y, b, threshold, np.ones((1, n)))[0])
    rng = np.random.default_rng(seed)
    differences = []
    for start in range(0, resamples, BLOCK):
        size = min(BLOCK, resamples - start)
        draws = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        weights = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(float)
        differences.append(weighted_metric(metric, y, a, threshold, weights)
                           - weighted_metric(metric, y, b, threshold, weights))
    values = np.concatenate(differences)
    values = values[~np.isnan(values)]
    if not len(values):
        nan = float("nan")
        return Interval(metric, point, nan, nan, confidence, 0, nan, seed)
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(values, [tail, 1 - tail])
    return Interval(metric, point, float(lower), float(upper), confidence, int(len(values)),
                    float(values.std(ddof=1)) if len(values) > 1 else 0.0, seed)
