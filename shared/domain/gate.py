"""The quality gate: candidate vs champion on one primary metric, evaluated on the same rows."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GatePolicy:
    metric: str = "auc"
    minimum: float = 0.75
    max_drop: float = 0.02


@dataclass(frozen=True)
class GateResult:
    passed: bool
    metric: str
    candidate: dict
    champion: dict | None
    champion_version: str | None
    evaluated_on: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        return {**asdict(self), "reasons": list(self.reasons)}

    def table(self) -> tuple:
        """Metric | candidate | champion rows, for people to compare side by side."""
        rows = [("metric", "candidate", f"champion v{self.champion_version}" if self.champion else "champion (none)")]
        for name in sorted(self.candidate):
            champion = f"{self.champion[name]:.4f}" if self.champion and name in self.champion else "-"
            rows.append((name, f"{self.candidate[name]:.4f}", champion))
        return tuple(rows)


def judge(policy: GatePolicy, candidate: dict, champion: dict | None, champion_version: str | None,
          evaluated_on: str) -> GateResult:
    """Pass when the candidate reaches the minimum and does not drop more than allowed below the champion."""
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
