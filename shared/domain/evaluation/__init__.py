"""Model evaluation on scored rows: classification metrics and calibration, a paired bootstrap of a
metric's difference and bootstrap intervals of each model's figures, ROC curve points, calibration bins
and the confusion matrix, subgroup slices, disagreement between two models, and performance estimated
without labels (CBPE). numpy is imported inside the functions that need it (no cold-start cost)."""
from shared.domain.evaluation.bootstrap import (
    INTERVAL_FIGURES, Interval, difference_interval, figure_intervals, paired_difference, resampled,
)
from shared.domain.evaluation.cbpe import estimate_performance
from shared.domain.evaluation.curves import calibration_bins, confusion, gate_curves, roc_points
from shared.domain.evaluation.disagreement import disagreement
from shared.domain.evaluation.metrics import METRICS, classification_metrics, metric_value
from shared.domain.evaluation.rows import ScoredRows
from shared.domain.evaluation.subgroups import DEFAULT_SLICES, Slice, parse_slices, slice_rows

__all__ = ["DEFAULT_SLICES", "INTERVAL_FIGURES", "METRICS", "Interval", "ScoredRows", "Slice", "calibration_bins",
           "classification_metrics", "confusion", "difference_interval", "disagreement", "estimate_performance",
           "figure_intervals", "gate_curves", "metric_value", "paired_difference", "parse_slices", "resampled",
           "roc_points", "slice_rows"]
