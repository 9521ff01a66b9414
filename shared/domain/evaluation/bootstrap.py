"""Bootstrap intervals on scored rows: the paired difference in a metric between two models, and each
model's own headline figures.

Each resample draws the rows with replacement once and scores EVERY model and figure on that same
draw, so the difference's interval reflects how much the comparison (not each model alone) depends on
which patients happened to be held out, and one block of resample weights serves all figures.
Seeded: the same rows give the same intervals.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.domain.evaluation.metrics import weighted_metric

BLOCK = 250  # resamples scored per matrix block: bounds memory at BLOCK × rows counts
INTERVAL_FIGURES = ("auc", "accuracy", "sensitivity", "specificity", "brier")


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
    values = resampled(labels, {"a": candidate, "b": champion}, (metric,), threshold, resamples, seed)
    return difference_interval(metric, labels, candidate, champion, values["a"][metric], values["b"][metric],
                               threshold, confidence, seed)


def difference_interval(metric: str, labels, candidate, champion, candidate_values, champion_values,
                        threshold: float, confidence: float, seed: int) -> Interval:
    """The Interval of the difference from both models' resampled values of `metric` (see resampled)."""
    import numpy as np

    y = np.asarray(labels, dtype=float)
    ones = np.ones((1, len(y)))
    point = float(weighted_figure(metric, y, np.asarray(candidate, dtype=float), threshold, ones)[0]
                  - weighted_figure(metric, y, np.asarray(champion, dtype=float), threshold, ones)[0])
    values = candidate_values - champion_values
    values = values[~np.isnan(values)]
    if not len(values):
        nan = float("nan")
        return Interval(metric, point, nan, nan, confidence, 0, nan, seed)
    lower, upper = _percentiles(values, confidence)
    return Interval(metric, point, lower, upper, confidence, int(len(values)),
                    float(values.std(ddof=1)) if len(values) > 1 else 0.0, seed)


def resampled(labels, probabilities: dict, figures, threshold: float, resamples: int, seed: int) -> dict:
    """{key: {figure: array of `resamples` values}}: every model of `probabilities` and every figure scored
    on the same resamples (nan where a figure is undefined); BLOCK resamples in memory at a time."""
    import numpy as np

    y = np.asarray(labels, dtype=float)
    scores = {key: np.asarray(p, dtype=float) for key, p in probabilities.items()}
    blocks = {key: {figure: [] for figure in figures} for key in scores}
    for weights in resample_weights(len(y), resamples, seed):
        for key, p in scores.items():
            for figure, values in weighted_figures(figures, y, p, threshold, weights).items():
                blocks[key][figure].append(values)
    return {key: {figure: np.concatenate(parts) if parts else np.zeros(0) for figure, parts in by_figure.items()}
            for key, by_figure in blocks.items()}


def resample_weights(rows: int, resamples: int, seed: int):
    """Blocks of at most BLOCK × rows counts: how often each resample drew each row (none without rows)."""
    import numpy as np

    if not rows:
        return
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, BLOCK):
        size = min(BLOCK, resamples - start)
        draws = rng.integers(0, rows, size=(size, rows)) + (np.arange(size) * rows)[:, None]
        yield np.bincount(draws.ravel(), minlength=size * rows).reshape(size, rows).astype(float)


def weighted_figure(figure: str, y, p, threshold: float, weights):
    """weighted_metric's metrics plus sensitivity, specificity and the Brier score under row weights."""
    return weighted_figures((figure,), y, p, threshold, weights)[figure]


def weighted_figures(figures, y, p, threshold: float, weights) -> dict:
    """{figure: one value per resample}; accuracy, sensitivity, specificity and Brier from one product of the
    weights with the rows' confusion cells (cheaper than a product per figure), the rest by weighted_metric."""
    import numpy as np

    counted = [f for f in figures if f in _COUNTED]
    values = {f: weighted_metric(f, y, p, threshold, weights) for f in figures if f not in _COUNTED}
    if counted:
        hit = (p >= threshold).astype(float)
        cells = np.stack([hit * y, hit * (1 - y), (1 - hit) * y, (1 - hit) * (1 - y), (p - y) ** 2], axis=1)
        tp, fp, fn, tn, squared = (weights @ cells).T
        total = weights.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            every = {"accuracy": lambda: (tp + tn) / total, "brier": lambda: squared / total,
                     "sensitivity": lambda: np.where(tp + fn > 0, tp / (tp + fn), np.nan),
                     "specificity": lambda: np.where(tn + fp > 0, tn / (tn + fp), np.nan)}
            values.update({f: every[f]() for f in counted})
    return values


_COUNTED = ("accuracy", "sensitivity", "specificity", "brier")


def figure_intervals(values: dict, confidence: float) -> dict:
    """{figure: {"lower", "upper"}} percentile intervals of one model's resampled figures (None when undefined)."""
    import numpy as np

    intervals = {}
    for figure, figures in values.items():
        defined = figures[~np.isnan(figures)]
        lower, upper = _percentiles(defined, confidence) if len(defined) else (None, None)
        intervals[figure] = {"lower": None if lower is None else round(lower, 6),
                             "upper": None if upper is None else round(upper, 6)}
    return intervals


def _percentiles(values, confidence: float) -> tuple[float, float]:
    import numpy as np

    tail = (1 - confidence) / 2
    lower, upper = np.quantile(values, [tail, 1 - tail])
    return float(lower), float(upper)
