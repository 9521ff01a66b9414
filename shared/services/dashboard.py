"""The loop at a glance: one plain dict gathered from the repositories, newest first and bounded
(the newest page of each listing, never a walk over the history), for the dashboard page and its JSON."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from shared.domain.clock import iso
from shared.domain.steps import STEP_LABELS, StepState
from shared.services.repositories import Repositories

RECENT = 20  # rows per table
TREND = 30  # points per trend


@dataclass(frozen=True)
class DashboardConfig:
    model_name: str
    recent: int = RECENT
    trend: int = TREND


class Dashboard:
    """What the page shows, in the issue's order: files, jobs, candidates, approvals, production,
    trends, messages that were given up on. Only chosen fields: no link token or fingerprint."""

    def __init__(self, repos: Repositories, config: DashboardConfig, clock: Callable[[], datetime]):
        self.repos = repos
        self.config = config
        self.clock = clock

    def overview(self, now: datetime | None = None) -> dict:
        """The dashboard's figures as of `now` (default: the clock's now; pending approvals' expiry counts from it)."""
        now = now or self.clock()
        return {
            "model_name": self.config.model_name,
            "generated_at": iso(now),
            "files": self._files(),
            "jobs": self._jobs(),
            "candidates": self._candidates(),
            "approvals": self._approvals(now),
            "production": self._production(),
            "trends": {"drift": self._drift(), "performance": self._performance()},
            "messages": self._messages(),
        }

    def _files(self) -> list[dict]:
        return [{"name": b.name, "status": b.status, "received_at": b.received_at, "decided_at": b.decided_at,
                 "rows": b.rows, "summary": b.summary[:300], "problem_count": b.problem_count,
                 "superseded": bool(b.superseded_by), "withdrawn": bool(b.withdrawn_at)}
                for b in self.repos.batches.newest(self.config.recent).items]

    def _jobs(self) -> list[dict]:
        return [{"name": j.name, "status": j.status, "reason": j.reason[:200], "submitted_at": j.submitted_at,
                 "finished_at": j.finished_at, "model_version": j.model_version, "files": len(j.batches),
                 "error": j.error[:300]}
                for j in self.repos.jobs.newest(self.config.recent).items]

    def _candidates(self) -> list[dict]:
        rows = []
        for c in self.repos.candidates.newest(self.config.recent).items:
            steps = StepState.from_dict(c.steps)
            rows.append({"version": c.version, "status": c.status, "step": steps.step,
                         "step_label": STEP_LABELS.get(steps.step, steps.step), "received_at": c.received_at,
                         "last_change": c.last_change, "failed_step": c.failed_step, "error": c.error[:300],
                         "approval_id": c.approval_id, "deployment": c.deployment})
        return rows

    def _approvals(self, now: datetime) -> list[dict]:
        rows = []
        for a in self.repos.approvals.open():
            left = (datetime.fromisoformat(a.expires_at) - now).total_seconds()
            rows.append({"id": a.id, "version": a.candidate_version, "status": a.status, "created_at": a.created_at,
                         "expires_at": a.expires_at, "expires_in_seconds": int(left), "expired": left <= 0,
                         "champion_version": a.champion_version, "decided_by": a.decided_by,
                         "reminded_at": a.reminded_at})
        return rows[: self.config.recent]

    def _production(self) -> dict:
        p = self.repos.production.get()
        rollback = p.rollback or {}
        return {"champion_version": p.champion_version, "champion_deployment": p.champion_deployment,
                "previous_version": p.previous_version, "previous_deployment": p.previous_deployment,
                "previous_kept_until": p.previous_kept_until, "staging_version": p.staging_version,
                "staging_deployment": p.staging_deployment, "newest_candidate": p.newest_candidate,
                "rollback": ({"by": rollback.get("by"), "at": rollback.get("at"), "to_version": rollback.get("to_version"),
                              "from_version": rollback.get("from_version"), "under_way": p.rollback_under_way}
                             if rollback else None),
                "updated_at": p.updated_at}

    def _drift(self) -> list[dict]:
        """The champion's drift checks, oldest first (a trend reads left to right)."""
        checks = self.repos.drift_checks.newest(self.config.trend).items
        return [{"at": c.get("at"), "verdict": c.get("verdict"), "champion_version": c.get("champion_version"),
                 "rows": c.get("rows"), "drifted_share": c.get("drifted_share"),
                 "drifted_features": list(c.get("drifted_features") or [])[:20]}
                for c in reversed(checks)]

    def _performance(self) -> list[dict]:
        """The champion's figure on each labelled file or live-traffic estimate, oldest first."""
        points = []
        for r in reversed(self.repos.performance.newest(self.config.trend).items):
            metric = r.get("metric")
            value = (r.get("metrics") or {}).get(metric)
            points.append({"at": r.get("file_decided_at") or r.get("at"), "metric": metric,
                           "value": value if isinstance(value, (int, float)) else None,
                           "kind": r.get("kind") or "labelled", "champion_version": r.get("champion_version"),
                           "dropped": bool(r.get("dropped")), "file": r.get("file")})
        return points

    def _messages(self) -> dict:
        """Messages the service gave up on: step messages poisoned after their last try, events and
        step messages that could not be parsed (and the per-minute counts of those not kept whole),
        and model events the registry did not confirm."""
        limit = self.config.recent
        malformed = [{"received_at": m.get("received_at"), "reason": str(m.get("reason", ""))[:300],
                      "what": "step message" if isinstance(m.get("event"), dict) and "queue_message" in m["event"]
                      else "event"}
                     for m in self.repos.malformed_events.newest(limit).items]
        dropped = [{"minute": d.get("minute"), "count": d.get("count"), "last_reason": str(d.get("last_reason", ""))[:300]}
                   for d in self.repos.malformed_events.dropped(limit).items]
        rejected = [{"received_at": r.get("received_at"), "version": r.get("version"), "source": r.get("source"),
                     "reason": str(r.get("reason", ""))[:300]}
                    for r in self.repos.rejected_models.newest(limit).items]
        poisoned = [{k: p.get(k) for k in ("at", "kind", "subject", "step", "attempt", "tries", "reason")}
                    for p in self.repos.poisoned.newest(limit).items]
        return {"poisoned_steps": poisoned, "malformed": malformed, "malformed_dropped": dropped,
                "rejected_model_events": rejected}
