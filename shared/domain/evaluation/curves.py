"""The figures a reviewer looks at beside the gate's numbers: ROC curve points, calibration (reliability)
bins and the confusion matrix at the operating threshold, each of one model on labelled rows.
numpy is imported inside the functions."""
from __future__ import annotations

from shared.domain.evaluation.metrics import ECE_BINS

ROC_POINTS = 101


def roc_points(labels, probabilities, max_points: int = ROC_POINTS) -> list:
    """[[fpr, tpr], ...] from [0, 0] to [1, 1], monotone, rounded to 4 places; rows with the same score are
    one step; at most `max_points`, picked evenly along the curve's length. [] when one class is missing."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    positives, negatives = y.sum(), len(y) - y.sum()
    if not positives or not negatives:
        return []
    order = np.argsort(-p, kind="mergesort")
    ordered, hits = p[order], y[order]
    ends = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]), len(ordered) - 1]  # the last row of each score
    tpr = np.r_[0.0, np.cumsum(hits)[ends] / positives]
    fpr = np.r_[0.0, np.cumsum(1 - hits)[ends] / negatives]
    keep = _evenly_along(fpr, tpr, max(max_points, 2))
    points = []
    for x, t in zip(np.round(fpr[keep], 4), np.round(tpr[keep], 4)):
        point = [float(x), float(t)]
        if not points or point != points[-1]:
            points.append(point)
    return points


def _evenly_along(x, y, count: int):
    """Indices of `count` or fewer vertices of the polyline, spread evenly by length, first and last included.
    By length rather than by index: a curve that rises steeply keeps its shape there too."""
    import numpy as np

    if len(x) <= count:
        return np.arange(len(x))
    length = np.r_[0.0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]
    targets = np.linspace(0.0, length[-1], count)
    indices = np.clip(np.searchsorted(length, targets), 0, len(x) - 1)
    return np.unique(np.r_[0, indices, len(x) - 1])


def calibration_bins(labels, probabilities, bins: int = ECE_BINS) -> list[dict]:
    """Equal-width probability bins (as in the expected calibration error): rows, mean probability and
    observed positive rate of each; the two means are None in an empty bin."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1) if len(p) else np.zeros(0, dtype=int)
    counts = np.bincount(which, minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    observed = np.bincount(which, weights=y, minlength=bins)
    return [{"lower": round(i / bins, 6), "upper": round((i + 1) / bins, 6), "rows": int(counts[i]),
             "mean_probability": round(float(predicted[i] / counts[i]), 6) if counts[i] else None,
             "observed_rate": round(float(observed[i] / counts[i]), 6) if counts[i] else None}
            for i in range(bins)]


def confusion(labels, probabilities, threshold: float = 0.5) -> dict:
    """True/false positives and negatives when a probability ≥ `threshold` predicts the positive class."""
    import numpy as np

    y, p = np.asarray(labels, dtype=float) == 1, np.asarray(probabilities, dtype=float) >= threshold
    return {"tp": int((p & y).sum()), "fp": int((p & ~y).sum()), "tn": int((~p & ~y).sum()),
            "fn": int((~p & y).sum())}


def gate_curves(labels, probabilities: dict, candidate: str, champion: str | None, threshold: float) -> dict:
    """The curves of both versions on the same rows, as stored in the gate's result (champion's None without one)."""
    def each(figure, *args) -> dict:
        return {"candidate": figure(labels, probabilities[candidate], *args),
                "champion": figure(labels, probabilities[champion], *args) if champion else None}

    return {"threshold": threshold, "roc": each(roc_points), "calibration": each(calibration_bins),
            "confusion": each(confusion, threshold)}
