"""Classification metrics of predicted probabilities against labels, at an operating threshold.

Every metric is computed from row weights, so one implementation serves the point estimate
(all weights 1) and a whole block of bootstrap resamples at once (a matrix of counts, one row
per resample). numpy is imported inside the functions.
"""
from __future__ import annotations

# The gate metrics (GATE_METRIC) and the other figures recorded with them.
METRICS = ("auc", "accuracy", "precision", "recall", "f1")
ECE_BINS = 10


def metric_value(metric: str, labels, probabilities, threshold: float = 0.5) -> float:
    """One metric on all rows (nan when it is undefined, e.g. AUC with one class only)."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    return float(weighted_metric(metric, y, p, threshold, np.ones((1, len(y))))[0])


def weighted_metric(metric: str, y, p, threshold: float, weights):
    """The metric under each row of `weights` (resamples × rows): an array with one value per resample."""
    import numpy as np

    if not len(y):
        return np.full(len(weights), np.nan)
    if metric == "auc":
        return weighted_auc(y, p, weights)
    predicted = (p >= threshold).astype(float)
    tp = weights @ (predicted * y)
    fp = weights @ (predicted * (1 - y))
    fn = weights @ ((1 - predicted) * y)
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "accuracy":
            return (total - fp - fn) / total
        if metric == "precision":
            return np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        if metric == "recall":
            return np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        if metric == "f1":
            return np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")


def weighted_auc(y, p, weights):
    """Area under the ROC curve per resample: the weighted share of (positive, negative) pairs
    ranked right, ties counting half; the rows are sorted once for every resample."""
    import numpy as np

    order = np.argsort(p, kind="mergesort")
    ordered = p[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # one group per distinct score
    w = weights[:, order]
    positives = np.add.reduceat(w * y[order], starts, axis=1)
    negatives = np.add.reduceat(w * (1 - y[order]), starts, axis=1)
    below = np.cumsum(negatives, axis=1) - negatives
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (positives * (below + 0.5 * negatives)).sum(axis=1) / pairs, np.nan)


def classification_metrics(labels, probabilities, threshold: float = 0.5) -> dict:
    """AUC, accuracy, precision, recall, F1, sensitivity and specificity at `threshold`, Brier score and
    expected calibration error; undefined figures are left out."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    figures = {metric: metric_value(metric, y, p, threshold) for metric in METRICS}
    predicted = p >= threshold
    negatives = (y == 0).sum()
    figures["sensitivity"] = figures["recall"]
    figures["specificity"] = float(((~predicted) & (y == 0)).sum() / negatives) if negatives else float("nan")
    figures["brier"] = brier_score(y, p)
    figures["ece"] = expected_calibration_error(y, p)
    return {name: round(value, 6) for name, value in figures.items() if value == value}


def brier_score(labels, probabilities) -> float:
    """Mean squared difference between the probability and the outcome (0 perfect, 0.25 a coin)."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def expected_calibration_error(labels, probabilities, bins: int = ECE_BINS) -> float:
    """Row-weighted mean |observed rate − mean probability| over equal-width probability bins."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    if not len(y):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    gaps = np.abs(np.bincount(which, weights=y, minlength=bins) - np.bincount(which, weights=p, minlength=bins))
    return float(gaps.sum() / counts.sum())
