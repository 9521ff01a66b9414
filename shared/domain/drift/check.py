"""The drift check: every feature of the window against the baseline, then one verdict for the window.

Verdict rules, in order: an empty window is "insufficient_data"; a required feature with
no usable value makes it "data_quality"; a window under `min_window_rows` is
"insufficient_data" (the service pools such windows); it is "drift" when at least one
feature drifted (and at least `drifted_share` of them, when set), else "no_drift". Every
other data-quality signal is listed in `problems` beside the verdict.

The false-alarm rate is split across the features and their tests (Bonferroni): with F
features, t tests per feature and `votes_needed` v, each test runs at rate*v/(F*t). A feature
needs v votes, and P(at least v of t tests fire) <= t*(rate*v/(F*t))/v = rate/F, so an
undrifted window is called "drift" with probability at most `false_alarm_rate`.
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
    per_feature = policy.false_alarm_rate / max(len(baseline.features), 1)

    for name, feature in baseline.features.items():
        tally = window.tally(name)
        if isinstance(feature, NumericBaseline):
            signals = numeric_quality(name, feature, tally, rows, policy)
            stats = compare_numeric(feature, tally, policy, per_feature * policy.votes_needed / 3)
        else:
            signals = categorical_quality(name, feature, tally, rows, policy)
            stats = compare_categorical(feature, tally, policy, per_feature * min(policy.votes_needed, 2) / 2)
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
    needed = policy.drifted_share
    rule = (f"at the false-alarm rate {policy.false_alarm_rate:g}" if needed is None
            else f"{share:.0%} vs {needed:.0%} needed")
    if drifted and (needed is None or share >= needed - 1e-12):
        return "drift", f"{len(drifted)} of {feature_count} features drifted ({rule}): " + ", ".join(drifted)
    return "no_drift", (f"{len(drifted)} of {feature_count} features drifted ({rule})"
                        + (": " + ", ".join(drifted) if drifted else ""))
