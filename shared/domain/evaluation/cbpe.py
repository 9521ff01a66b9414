"""Confidence-based performance estimation (CBPE): a model's accuracy and AUC on rows without
labels, estimated from its own predicted probabilities.

If the model is calibrated (of the rows it gives 0.7, 70% are positive), each row's probability
is the chance that its label is positive, so the expected confusion matrix at the threshold —
and the expected ROC curve — follow from the probabilities alone. The estimate is only as good
as the calibration: it is checked on the held-out split, where labels are known, and an estimate
from a model whose expected calibration error exceeds the limit is reported as not valid.
"""
from __future__ import annotations


def estimate_performance(probabilities, threshold: float = 0.5) -> dict:
    """Expected accuracy and AUC of a calibrated model on these (unlabelled) rows."""
    import numpy as np

    p = np.asarray(probabilities, dtype=float)
    if not len(p):
        return {"rows": 0}
    predicted = p >= threshold
    accuracy = float(np.where(predicted, p, 1 - p).mean())
    order = np.argsort(-p, kind="mergesort")
    ordered = p[order]
    # The expected ROC: walking down the scores, each row adds p to the positives and 1 − p to the negatives.
    ends = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]), len(ordered) - 1]
    true_positives = np.r_[0.0, np.cumsum(ordered)[ends]]
    false_positives = np.r_[0.0, np.cumsum(1 - ordered)[ends]]
    positives, negatives = true_positives[-1], false_positives[-1]
    auc = float("nan")
    if positives and negatives:
        tpr, fpr = true_positives / positives, false_positives / negatives
        auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return {"rows": int(len(p)), "accuracy": round(accuracy, 6), "auc": round(auc, 6) if auc == auc else None,
            "expected_positive_rate": round(float(p.mean()), 6)}
