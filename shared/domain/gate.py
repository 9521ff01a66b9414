"""The quality gate: candidate vs champion, both scored on the same rows, with the uncertainty of the comparison.

The rule (non-inferiority): the candidate passes when it reaches the minimum of the gate metric,
when the lower bound of the paired-bootstrap interval of metric(candidate) − metric(champion)
is above −max_drop (so "the candidate is worse by more than the margin" is unlikely, not merely
unobserved), and when no subgroup slice with enough rows drops by more than the margin.
Calibration and the operating point are measured and shown, not judged.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from shared.domain.evaluation import (
    DEFAULT_SLICES, INTERVAL_FIGURES, ScoredRows, Slice, classification_metrics, difference_interval,
    figure_intervals, gate_curves, metric_value, parse_slices, resampled, slice_rows,
)

TABLE_FIGURES = ("auc", "accuracy", "sensitivity", "specificity", "precision", "f1", "brier", "ece")


@dataclass(frozen=True)
class GatePolicy:
    metric: str = "auc"
    minimum: float = 0.75
    max_drop: float = 0.02
    resamples: int = 1000
    confidence: float = 0.95
    threshold: float = 0.5
    slices: tuple[Slice, ...] = field(default_factory=lambda: parse_slices(DEFAULT_SLICES))
    subgroup_min_rows: int = 100
    recent_rows: int = 5000
    seed: int = 12


@dataclass(frozen=True)
class GateResult:
    passed: bool
    metric: str
    candidate: dict
    champion: dict | None
    champion_version: str | None
    evaluated_on: str
    reasons: tuple[str, ...]
    rows: int | None = None
    difference: dict | None = None  # Interval.to_dict() + the margin
    subgroups: list = field(default_factory=list)
    disagreement: dict | None = None
    rule: str = ""
    curves: dict = field(default_factory=dict)  # ROC, calibration bins, confusion of both (evaluation.curves)
    intervals: dict = field(default_factory=dict)  # bootstrap interval of each version's headline figures

    def to_dict(self) -> dict:
        return {**asdict(self), "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, gate: dict) -> GateResult:
        known = {name: gate[name] for name in cls.__dataclass_fields__ if name in gate}
        return cls(**{**known, "reasons": tuple(gate.get("reasons", ())), "champion": gate.get("champion"),
                      "champion_version": gate.get("champion_version"), "evaluated_on": gate.get("evaluated_on", "")})

    def table(self) -> tuple:
        """Metric | candidate | champion rows, for people to compare side by side (subgroups last)."""
        rows = [("metric", "candidate", f"champion v{self.champion_version}" if self.champion else "champion (none)")]
        names = [n for n in TABLE_FIGURES if n in self.candidate] + sorted(set(self.candidate) - set(TABLE_FIGURES))
        for name in names:
            champion = f"{self.champion[name]:.4f}" if self.champion and name in self.champion else "-"
            rows.append((name, f"{self.candidate[name]:.4f}", champion))
        if self.difference:
            d = self.difference
            rows.append((f"Δ {self.metric} {d['confidence']:.0%} CI", f"{d['point']:+.4f}",
                         f"[{d['lower']:+.4f}, {d['upper']:+.4f}]"))
        for group in self.subgroups:
            if group.get("candidate") is not None:
                champion = f"{group['champion']:.4f}" if group.get("champion") is not None else "-"
                mark = " ✗" if group.get("regressed") else ""
                rows.append((f"{self.metric} {group['name']} (n={group['rows']}){mark}", f"{group['candidate']:.4f}",
                             champion))
        return tuple(rows)


def judge(policy: GatePolicy, candidate: dict, champion: dict | None, champion_version: str | None,
          evaluated_on: str) -> GateResult:
    """Point estimates only (figures without per-row predictions): the minimum, and at most max_drop below the champion."""
    reasons = []
    value = candidate.get(policy.metric)
    if value is None:
        reasons.append(f"candidate has no {policy.metric}")
    else:
        if value < policy.minimum:
            reasons.append(f"{policy.metric} {value:.4f} is below the minimum {policy.minimum:.4f}")
        if champion is not None and policy.metric in champion:
            drop = champion[policy.metric] - value
            if drop > policy.max_drop:
                reasons.append(
                    f"{policy.metric} {value:.4f} is {drop:.4f} below champion v{champion_version} "
                    f"({champion[policy.metric]:.4f}); at most {policy.max_drop:.4f} allowed"
                )
    return GateResult(not reasons, policy.metric, candidate, champion, champion_version, evaluated_on, tuple(reasons))


def judge_rows(policy: GatePolicy, rows: ScoredRows, candidate: str, champion: str | None) -> GateResult:
    """The gate on per-row probabilities of both versions on the same labelled rows (see the module's rule)."""
    rows = rows.labelled()
    metric, margin = policy.metric, policy.max_drop
    ours = classification_metrics(rows.labels, rows.probabilities[candidate], policy.threshold)
    theirs = classification_metrics(rows.labels, rows.probabilities[champion], policy.threshold) if champion else None
    reasons = []
    value = ours.get(metric)
    if value is None:
        reasons.append(f"{metric} of the candidate is undefined on these {rows.rows} rows (one class only?)")
    elif value < policy.minimum:
        reasons.append(f"{metric} {value:.4f} is below the minimum {policy.minimum:.4f}")
    difference = None
    intervals, interval = _bootstrap(policy, rows, candidate, champion)
    if interval is not None:
        difference = {**interval.to_dict(), "margin": margin}
        if not interval.lower > -margin:
            reasons.append(
                f"{metric} may be more than {margin:.4f} below champion v{champion}: candidate − champion "
                f"{interval.point:+.4f}, {policy.confidence:.0%} interval [{interval.lower:+.4f}, {interval.upper:+.4f}]; "
                f"its lower bound must be above {-margin:+.4f}")
    subgroups = [_subgroup(policy, rows, s, candidate, champion) for s in policy.slices]
    reasons += [f"subgroup {g['name']} ({g['rows']} rows): {metric} {g['candidate']:.4f} vs champion "
                f"{g['champion']:.4f} ({g['difference']:+.4f}, beyond {-margin:+.4f})" for g in subgroups if g["regressed"]]
    rule = (f"pass when {metric} ≥ {policy.minimum:g}"
            + (f", the lower bound of the {policy.confidence:.0%} paired-bootstrap interval of {metric}(candidate) − "
               f"{metric}(champion) > {-margin:+g}, and no subgroup of ≥ {policy.subgroup_min_rows} rows drops by more "
               f"than {margin:g}" if champion else " (no champion to compare with)"))
    return GateResult(not reasons, metric, ours, theirs, champion, rows.describe(), tuple(reasons),
                      rows=rows.rows, difference=difference, subgroups=subgroups, rule=rule,
                      curves=gate_curves(rows.labels, rows.probabilities, candidate, champion, policy.threshold),
                      intervals=intervals)


def _bootstrap(policy: GatePolicy, rows: ScoredRows, candidate: str, champion: str | None) -> tuple:
    """Each version's figure intervals and the paired difference (None without a champion), all from one
    set of resamples: the same draws, each version scored once per draw."""
    metric = policy.metric
    figures = INTERVAL_FIGURES + (() if metric in INTERVAL_FIGURES else (metric,))
    versions = {"candidate": candidate, **({"champion": champion} if champion else {})}
    values = resampled(rows.labels, {k: rows.probabilities[v] for k, v in versions.items()}, figures,
                       policy.threshold, policy.resamples, policy.seed)
    own = {k: figure_intervals({f: values[k][f] for f in INTERVAL_FIGURES}, policy.confidence) for k in values}
    intervals = {"candidate": own["candidate"], "champion": own.get("champion"), "confidence": policy.confidence,
                 "resamples": policy.resamples}
    if not champion:
        return intervals, None
    return intervals, difference_interval(
        metric, rows.labels, rows.probabilities[candidate], rows.probabilities[champion], values["candidate"][metric],
        values["champion"][metric], policy.threshold, policy.confidence, policy.seed)


def _subgroup(policy: GatePolicy, rows: ScoredRows, slice_: Slice, candidate: str, champion: str | None) -> dict:
    indices = slice_rows(slice_, rows.features)
    group = {"name": slice_.name, "rows": len(indices or ()), "candidate": None, "champion": None,
             "difference": None, "judged": False, "regressed": False}
    if indices is None:
        return {**group, "note": f"the rows have no column {slice_.column}"}
    labels = [rows.labels[i] for i in indices]
    group["positives"] = sum(labels)
    ours = _metric_on(policy, labels, rows.probabilities[candidate], indices)
    theirs = _metric_on(policy, labels, rows.probabilities[champion], indices) if champion else None
    group.update(candidate=ours, champion=theirs)
    if ours is None or len(indices) < policy.subgroup_min_rows:
        return {**group, "note": f"fewer than {policy.subgroup_min_rows} rows or one class only: not judged"}
    if theirs is None:
        return group
    difference = round(ours - theirs, 6)
    return {**group, "difference": difference, "judged": True, "regressed": difference < -policy.max_drop}


def _metric_on(policy: GatePolicy, labels: list, probabilities, indices: list[int]) -> float | None:
    value = metric_value(policy.metric, labels, [probabilities[i] for i in indices], policy.threshold)
    return round(value, 6) if value == value else None
