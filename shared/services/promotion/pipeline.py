"""Registered version → quality gate → staging deployment → smoke test → approval request."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from shared.domain.candidates import (
    AWAITING_APPROVAL, DEPLOYING, FAILED, GATE_FAILED, GATING, RECEIVED, SMOKE_FAILED, STALE, SUPERSEDED,
    Approval, Candidate, Production,
)
from shared.domain.clock import iso
from shared.domain.errors import DomainError
from shared.domain.gate import GateResult, judge
from shared.domain.model_contract import JOB_NAME_TAG, TRAINING_SET_BATCHES_TAG, TRAINING_SET_ID_TAG, TRAINING_SET_TAG
from shared.domain.models import ModelRegistered
from shared.domain.naming import deployment_name_for
from shared.domain.smoke import SmokeResult, check_response, payload, sample_rows
from shared.services.promotion import notifications
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.staging import close_approval, remove_staging_quietly

log = logging.getLogger(__name__)


class CandidatePipeline:
    """Takes each registered version of the model once from registration to an approval request."""

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.config = ctx.config
        self.candidates = ctx.repos.candidates

    def handle_registered(self, event: ModelRegistered) -> Candidate:
        """Idempotent: a repeated delivery of the same version returns its record and does nothing."""
        now = iso(self.ctx.clock())
        candidate = Candidate(
            model_name=event.model_name, version=event.version, status=RECEIVED, received_at=now,
            run_id=event.run_id, source=event.source,
            history=[{"at": now, "status": RECEIVED, "detail": f"via {event.source}"}],
        )
        if not self.candidates.add(candidate):
            return self.candidates.get(event.version)
        return self._advance(candidate)

    def redeploy(self, version: str) -> Candidate:
        """Retry a candidate that failed on the platform or in its smoke test."""
        candidate, _ = self.candidates.change(version, lambda c: c.retry(self.ctx.clock()))
        return self._advance(candidate, retry=True)

    def list(self, limit: int = 100, continuation: str | None = None):
        """Candidates, newest version first, one page at a time."""
        return self.candidates.newest(limit, continuation)

    def production(self) -> Production:
        """Who serves production, the previous champion, staging and the newest candidate seen."""
        return self.ctx.repos.production.get()

    # --- the steps -------------------------------------------------------------------

    def _advance(self, candidate: Candidate, retry: bool = False) -> Candidate:
        version = candidate.version
        production = self._claim_newest(version, retry)
        if production is None:
            newest = self.ctx.repos.production.get().newest_candidate
            return self._move(version, STALE, f"v{newest} is newer; an older version never replaces it")
        step, deployment = "quality gate", None
        try:
            self._move(version, GATING)
            gate = self._gate(version, production)
            if not gate.passed:
                return self._gate_failed(version, gate)
            step = "staging deployment"
            deployment = deployment_name_for(self.config.model_name, version)
            self._move(version, DEPLOYING, f"deploying {deployment}", gate=gate.to_dict(), deployment=deployment)
            self._supersede_pending(production, version)
            self.ctx.endpoints.ensure_endpoint(self.config.endpoint_name)
            self.ctx.endpoints.create_or_update_deployment(self.config.endpoint_name, deployment,
                                                           self.config.model_name, version)
            step = "smoke test"
            smoke = self._smoke_test(version, deployment)
            if not smoke.passed:
                return self._smoke_failed(version, deployment, smoke)
            step = "approval request"
            if self.config.mirror_percent and production.champion_deployment:
                self._mirror_to(deployment)
            return self._request_approval(version, deployment, gate, smoke, production)
        except DomainError as error:
            return self._failed(version, step, error.message, deployment)
        except Exception as error:  # noqa: BLE001 - recorded as failed (retryable), never lost
            log.exception("candidate v%s failed at %s", version, step)
            return self._failed(version, step, f"{error.__class__.__name__}: {error}", deployment)

    def _move(self, version: str, status: str, detail: str = "", **fields) -> Candidate:
        return self.candidates.move_to(version, status, self.ctx.clock(), detail, **fields)

    def _claim_newest(self, version: str, retry: bool) -> Production | None:
        """Record this version as the newest candidate, unless a newer one was already seen."""
        claimed = []

        def claim(production: Production) -> bool:
            claimed.append(production.claim_newest(version, retry))
            return claimed[-1]

        production = self.ctx.repos.production.change(claim)
        return production if claimed[-1] else None

    def _gate(self, version: str, production: Production) -> GateResult:
        champion = production.champion_version
        versions = [version] + ([champion] if champion and champion != version else [])
        scores = self.ctx.platform.evaluate_models(self.config.model_name, versions, data_from_version=version)
        evaluated_on = f"held-out split of v{version}'s training set ({scores[version].get('rows', '?')} rows)"
        return judge(self.config.gate, _metrics(scores[version]),
                     _metrics(scores[champion]) if champion in scores else None, champion, evaluated_on)

    def _smoke_test(self, version: str, deployment: str) -> SmokeResult:
        columns, rows = self.ctx.platform.get_input_example(self.config.model_name, version)
        recent_columns, recent_rows = self._recent_rows()
        if recent_rows and recent_columns == columns:
            rows = rows + recent_rows
        started = time.perf_counter()
        result = self.ctx.endpoints.invoke(self.config.endpoint_name, payload(columns, rows), deployment=deployment)
        latency = (time.perf_counter() - started) * 1000
        return check_response(result.status, result.body, len(rows), latency, self.config.smoke_max_latency_ms)

    def _recent_rows(self) -> tuple[list[str], list[list]]:
        accepted = self.ctx.repos.accepted.all()
        if not accepted:
            return [], []
        newest = accepted[-1]
        try:
            return sample_rows(self.ctx.files.read_chunks(newest.container, newest.name, newest.etag, 64 * 1024), 5)
        except Exception:  # noqa: BLE001 - the input example alone still makes a smoke test
            log.warning("could not read recent rows from %s", newest.name)
            return [], []

    def _supersede_pending(self, production: Production, version: str) -> None:
        """A newer candidate closes the older pending approval (its links stop working) and replaces its staging."""
        old_approval, old_deployment = production.staging_approval, production.staging_deployment
        if not old_approval or production.staging_version == version:
            return
        closed = close_approval(self.ctx, old_approval, SUPERSEDED, actor="system", reason=f"superseded by v{version}")
        if closed and old_deployment:
            remove_staging_quietly(self.ctx, old_deployment)

    def _mirror_to(self, deployment: str) -> None:
        endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
        self.ctx.endpoints.set_traffic(self.config.endpoint_name, dict(endpoint.traffic),
                                       {deployment: self.config.mirror_percent})

    def _request_approval(self, version: str, deployment: str, gate: GateResult, smoke: SmokeResult,
                          production: Production) -> Candidate:
        now = self.ctx.clock()
        info = self.ctx.platform.get_model_version(self.config.model_name, version)
        approval = Approval(
            id=f"{self.config.model_name}-v{version}-{uuid.uuid4().hex[:8]}",
            model_name=self.config.model_name, candidate_version=version, deployment=deployment,
            champion_version=production.champion_version, champion_deployment=production.champion_deployment,
            gate=gate.to_dict(), smoke=smoke.to_dict(),
            training_set={
                "id": info.tags.get(TRAINING_SET_ID_TAG, ""),
                "batches": info.tags.get(TRAINING_SET_BATCHES_TAG, ""),
                "files": info.tags.get(TRAINING_SET_TAG, ""),
                "job": info.tags.get(JOB_NAME_TAG, ""),
            },
            created_at=iso(now), expires_at=iso(now + timedelta(hours=self.config.approval_ttl_hours)),
        )
        self.ctx.repos.approvals.add(approval)
        self.ctx.repos.production.change(lambda production: production.stage(version, deployment, approval.id))
        candidate = self._move(version, AWAITING_APPROVAL, f"approval {approval.id}",
                               smoke=smoke.to_dict(), approval_id=approval.id)
        self.ctx.record("approval_requested", "system", version, approval_id=approval.id,
                        champion_version=production.champion_version,
                        evidence={"gate": gate.to_dict(), "smoke": smoke.to_dict()})
        self.ctx.notifier.notify(notifications.approval_notification(self.ctx, approval, gate))
        log.info("candidate v%s awaits approval %s", version, approval.id)
        return candidate

    # --- the unhappy paths -------------------------------------------------------------

    def _gate_failed(self, version: str, gate: GateResult) -> Candidate:
        candidate = self._move(version, GATE_FAILED, "; ".join(gate.reasons), gate=gate.to_dict())
        self.ctx.record("gate_failed", "system", version, evidence={"gate": gate.to_dict()})
        self.ctx.notifier.notify(notifications.gate_failed(self.ctx, version, gate))
        return candidate

    def _smoke_failed(self, version: str, deployment: str, smoke: SmokeResult) -> Candidate:
        remove_staging_quietly(self.ctx, deployment)
        candidate = self._move(version, SMOKE_FAILED, "; ".join(smoke.problems), smoke=smoke.to_dict())
        self.ctx.record("smoke_failed", "system", version, evidence={"smoke": smoke.to_dict()})
        self.ctx.notifier.notify(notifications.smoke_failed(self.ctx, version, deployment, smoke))
        return candidate

    def _failed(self, version: str, step: str, reason: str, deployment: str | None) -> Candidate:
        if deployment:
            remove_staging_quietly(self.ctx, deployment)
        candidate = self._move(version, FAILED, f"{step}: {reason}", error=reason, failed_step=step)
        self.ctx.notifier.notify(notifications.candidate_failed(self.ctx, version, step, reason))
        return candidate


def _metrics(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if k != "rows"}
