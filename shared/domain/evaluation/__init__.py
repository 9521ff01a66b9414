"""Model evaluation on scored rows: classification metrics and calibration, a paired bootstrap of a
metric's difference, subgroup slices, disagreement between two models, and performance estimated
without labels (CBPE). numpy is imported inside the functions that need it (no cold-start cost)."""
from shared.domain.evaluation.bootstrap import Interval, paired_difference
from shared.domain.evaluation.cbpe import estimate_performance
from shared.domain.evaluation.disagreement import disagreement
from shared.domain.evaluation.metrics import METRICS, classification_metrics, metric_value
from shared.domain.evaluation.rows import ScoredRows
from shared.domain.evaluation.subgroups import DEFAULT_SLICES, Slice, parse_slices, slice_rows

__all__ = ["DEFAULT_SLICES", "METRICS", "Interval", "ScoredRows", "Slice", "classification_metrics",
           "disagreement", "estimate_performance", "metric_value", "paired_difference", "parse_slices",
           "slice_rows"]
