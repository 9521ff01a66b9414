"""Registered version → candidate: recorded once, then taken on by queued steps
(gate → staging deployment → smoke test → approval request; candidate_steps.py)."""
from __future__ import annotations

import logging

from shared.domain.candidates import RECEIVED, Candidate, Production
from shared.domain.clock import iso
from shared.domain.models import ModelRegistered
from shared.domain.steps import GATE, StepState
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.steps import StepRunner

log = logging.getLogger(__name__)


class CandidatePipeline:
    """Takes each registered version of the model once from registration to an approval request."""

    def __init__(self, ctx: PromotionContext, runner: StepRunner):
        self.ctx = ctx
        self.runner = runner
        self.candidates = ctx.repos.candidates

    def handle_registered(self, event: ModelRegistered) -> Candidate:
        """Record the version and send its first step; a repeated delivery changes nothing but
        resends the due step when its message was never sent (a crash between the two)."""
        now = iso(self.ctx.clock())
        candidate = Candidate(
            model_name=event.model_name, version=event.version, status=RECEIVED, received_at=now,
            run_id=event.run_id, source=event.source,
            history=[{"at": now, "status": RECEIVED, "detail": f"via {event.source}"}],
            steps=StepState(GATE, started_at=now).to_dict(),
        )
        self.candidates.add(candidate)
        stored = self.candidates.get(event.version)
        if not StepState.from_dict(stored.steps).enqueued:
            self.runner.send("candidate", event.version)
        return self.candidates.get(event.version)

    def redeploy(self, version: str) -> Candidate:
        """Retry a candidate that failed on the platform or in its smoke test (a new run from the gate)."""
        self.candidates.get(version)  # NotFound before anything is written
        self.candidates.reopen(version, iso(self.ctx.clock()))
        self.candidates.change(version, lambda c: c.retry(self.ctx.clock()))
        self.runner.send("candidate", version)
        return self.candidates.get(version)

    def list(self, limit: int = 100, continuation: str | None = None):
        """Candidates, newest version first, one page at a time."""
        return self.candidates.newest(limit, continuation)

    def production(self) -> Production:
        """Who serves production, the previous champion, staging and the newest candidate seen."""
        return self.ctx.repos.production.get()
