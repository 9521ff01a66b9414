"""The drift check: every feature of the window against the baseline, then one verdict for the window.

Verdict rules, in order: an empty window is "insufficient_data"; a required feature with
no usable value makes it "data_quality"; a window under `min_window_rows` is
"insufficient_data" (the service pools such windows); it is "drift" when at least
`drifted_share` of the features (and at least one) drifted, else "no_drift". Every other
data-quality signal is listed in `problems` beside the verdict.
"""
from __future__ import annotations

from shared.domain.drift.baseline import Baseline, NumericBaseline
from shared.domain.drift.comparison import compare_categorical, compare_numeric
from shared.domain.drift.policy import DriftPolicy
from shared.domain.drift.quality import categorical_quality, numeric_quality
from shared.domain.drift.result import DriftResult
from shared.domain.drift.window import WindowAccumulator


def check_drift(baseline: Baseline, window: WindowAccumulator, policy: DriftPolicy | None = None) -> DriftResult:
    """Compare the window with the baseline: statistics per feature, data-quality signals, one verdict."""
    policy = policy or DriftPolicy()
    if window.baseline is not baseline and set(window.baseline.features) != set(baseline.features):
        raise ValueError("the window was accumulated against a different baseline")
    features: dict[str, dict] = {}
    quality: dict[str, dict] = {}
    problems: list[str] = []
    unusable: list[str] = []
    drifted: list[str] = []
    rows = window.rows

    for name, feature in baseline.features.items():
        tally = window.tally(name)
        if isinstance(feature, NumericBaseline):
            signals = numeric_quality(name, feature, tally, rows, policy)
            stats = compare_numeric(feature, tally, policy)
        else:
            signals = categorical_quality(name, feature, tally, rows, policy)
            stats = compare_categorical(feature, tally, policy)
        mismatch = window.length_mismatches.get(name, 0)
        if mismatch:
            signals["problems"].insert(0, f"column {name!r}: {mismatch} rows had no value (column shorter than the chunk)")
        quality[name] = {k: v for k, v in signals.items() if k != "problems"}
        problems.extend(signals["problems"])
        if not signals["usable"]:
            unusable.append(name)
        if stats.get("drifted"):
            drifted.append(name)
        features[name] = stats

    share = len(drifted) / len(baseline.features) if baseline.features else 0.0
    verdict, reason = _verdict(rows, unusable, drifted, share, len(baseline.features), policy)
    return DriftResult(
        verdict=verdict,
        rows=rows,
        drifted_features=tuple(drifted),
        drifted_share=share,
        features=features,
        quality=quality,
        problems=tuple(problems),
        reason=reason,
        policy=policy.to_dict(),
        window={
            "rows": rows,
            "chunks": window.chunks,
            "features": len(baseline.features),
            "missing_features": [n for n in baseline.features if quality[n]["missing"]],
            "unusable_features": unusable,
            "extra_columns": list(window.extra_columns),
            "baseline_rows": baseline.rows,
        },
    )


def _verdict(rows: int, unusable: list[str], drifted: list[str], share: float, feature_count: int,
             policy: DriftPolicy) -> tuple[str, str]:
    """The window's verdict and the sentence that explains it."""
    if rows == 0:
        return "insufficient_data", "the window is empty"
    if unusable:
        return "data_quality", "no usable values for required feature(s) " + ", ".join(repr(n) for n in unusable)
    if rows < policy.min_window_rows:
        return "insufficient_data", f"{rows} rows, fewer than the minimum window of {policy.min_window_rows}"
    if drifted and share >= policy.drifted_share - 1e-12:
        return "drift", (f"{len(drifted)} of {feature_count} features drifted ({share:.0%} >= "
                         f"{policy.drifted_share:.0%}): " + ", ".join(drifted))
    return "no_drift", (f"{len(drifted)} of {feature_count} features drifted ({share:.0%} < "
                        f"{policy.drifted_share:.0%})" + (": " + ", ".join(drifted) if drifted else ""))
