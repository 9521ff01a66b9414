"""The candidate's steps: gate → deploy → await deployment → smoke test → approval request.

Each step is idempotent: run twice, it leaves what one run leaves (the deployment is asked for
by name, the approval's id comes from the candidate's run). A step that waits on the platform
starts the operation and returns Poll; it never waits itself.
"""
from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta

from shared.domain.candidates import (
    AWAITING_APPROVAL, DEPLOYING, FAILED, GATE_FAILED, GATING, SMOKE_FAILED, STALE, SUPERSEDED, Approval, Production,
)
from shared.domain.clock import iso
from shared.domain.errors import DomainError, PlatformError
from shared.domain.gate import GateResult
from shared.domain.model_contract import JOB_NAME_TAG, TRAINING_SET_BATCHES_TAG, TRAINING_SET_ID_TAG, TRAINING_SET_TAG
from shared.domain.naming import deployment_name_for
from shared.domain.smoke import SmokeResult, check_response, payload, sample_rows
from shared.domain.steps import (
    AWAIT_DEPLOYMENT, DEPLOY, DONE, GATE, REQUEST_APPROVAL, SMOKE_TEST, STEP_LABELS, StepState,
)
from shared.ports import DocumentExists
from shared.services.promotion import notifications
from shared.services.promotion.audit_trail import recorded
from shared.services.promotion.binding import gated_artifact_change
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.gate import QualityGate
from shared.services.promotion.requesters import requesters_of
from shared.services.promotion.staging import close_approval, release_staging, remove_staging_quietly
from shared.services.promotion.steps import Next, Poll

log = logging.getLogger(__name__)

SUCCEEDED, FAILED_STATE = "Succeeded", "Failed"


class CandidateTrack:
    kind = "candidate"

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.config = ctx.config
        self.candidates = ctx.repos.candidates

    # --- Track -------------------------------------------------------------------------

    def state(self, subject: str) -> StepState | None:
        candidate = self.candidates.find(subject)
        return StepState.from_dict(candidate.steps) if candidate else None

    def change_state(self, subject: str, change) -> StepState:
        def apply(candidate) -> bool:
            state = StepState.from_dict(candidate.steps)
            if change(state) is False:
                return False
            candidate.steps = state.to_dict()
            return True

        return StepState.from_dict(self.candidates.change(subject, apply)[0].steps)

    def run(self, step: str, version: str, state: StepState) -> Next | Poll:
        try:
            return {GATE: self._gate, DEPLOY: self._deploy, AWAIT_DEPLOYMENT: self._await_deployment,
                    SMOKE_TEST: self._smoke_test, REQUEST_APPROVAL: self._request_approval}[step](version, state)
        except PlatformError:
            raise  # transient as far as we know: the queue delivers the step again
        except DomainError as error:
            self.fail(version, step, error.message)
            return Next(DONE)

    def fail(self, version: str, step: str, reason: str) -> None:
        label = STEP_LABELS[step]
        candidate = self.candidates.get(version)
        release_staging(self.ctx, version, candidate.deployment if step != GATE else None)
        self._move(version, FAILED, f"{label}: {reason}", error=reason, failed_step=label)
        self.ctx.notifier.notify(notifications.candidate_failed(self.ctx, version, label, reason))

    # --- the steps -----------------------------------------------------------------------

    def _gate(self, version: str, state: StepState) -> Next:
        production = self._claim_newest(version, retry=state.attempt > 1)
        if production is None:
            newest = self.ctx.repos.production.get().newest_candidate
            release_staging(self.ctx, version)  # a redeploy of a version that held staging: a newer one takes it
            self._move(version, STALE, f"v{newest} is newer; an older version never replaces it")
            return Next(DONE)
        self._move(version, GATING)
        # taken before the gate loads the model: the approval request asks only for these artifacts
        artifacts = self.ctx.platform.model_artifact_digest(self.config.model_name, version)
        gate = self._evaluate(version, production)
        record = {**gate.to_dict(), "artifact_digest": artifacts}
        if not gate.passed:
            release_staging(self.ctx, version)  # a redeploy of a version that held staging ends here
            self._move(version, GATE_FAILED, "; ".join(gate.reasons), gate=record)
            self.ctx.record("gate_failed", "system", version, evidence={"gate": gate.to_dict()})
            self.ctx.notifier.notify(notifications.gate_failed(self.ctx, version, gate))
            return Next(DONE)
        deployment = deployment_name_for(self.config.model_name, version)
        self._move(version, DEPLOYING, f"deploying {deployment}", gate=record, deployment=deployment)
        self._supersede_pending(production, version)
        return Next(DEPLOY)

    def _deploy(self, version: str, state: StepState) -> Next | Poll:
        deployment = self.candidates.get(version).deployment
        endpoint = self.ctx.endpoints.ensure_endpoint(self.config.endpoint_name, wait=False)
        if endpoint.state != SUCCEEDED:  # a first endpoint is being created (minutes on Azure)
            return self._poll_until_deadline(version, state, f"endpoint {self.config.endpoint_name}")
        self.ctx.endpoints.begin_deployment(self.config.endpoint_name, deployment, self.config.model_name, version)
        return Next(AWAIT_DEPLOYMENT, self.config.poll_seconds)

    def _await_deployment(self, version: str, state: StepState) -> Next | Poll:
        deployment = self.candidates.get(version).deployment
        info = self.ctx.endpoints.get_deployment(self.config.endpoint_name, deployment)
        if info is not None and info.state == SUCCEEDED and info.model_version == version:
            return Next(SMOKE_TEST)
        if info is None or info.state == FAILED_STATE:
            self.fail(version, AWAIT_DEPLOYMENT, f"deployment {deployment} is {info.state if info else 'gone'}")
            return Next(DONE)
        return self._poll_until_deadline(version, state, f"deployment {deployment}")

    def _poll_until_deadline(self, version: str, state: StepState, what: str) -> Next | Poll:
        if state.overdue(self.ctx.clock(), self.config.deployment_timeout_seconds):
            self.fail(version, state.step, f"{what} did not answer within {self.config.deployment_timeout_seconds:.0f} s")
            return Next(DONE)
        return Poll(self.config.poll_seconds)

    def _smoke_test(self, version: str, state: StepState) -> Next:
        deployment = self.candidates.get(version).deployment
        smoke = self._smoke(version, deployment)
        if not smoke.passed:
            release_staging(self.ctx, version, deployment)
            self._move(version, SMOKE_FAILED, "; ".join(smoke.problems), smoke=smoke.to_dict())
            self.ctx.record("smoke_failed", "system", version, evidence={"smoke": smoke.to_dict()})
            self.ctx.notifier.notify(notifications.smoke_failed(self.ctx, version, deployment, smoke))
            return Next(DONE)
        self._move(version, DEPLOYING, "smoke test passed", smoke=smoke.to_dict())
        return Next(REQUEST_APPROVAL)

    def _request_approval(self, version: str, state: StepState) -> Next:
        candidate = self.candidates.get(version)
        production = self.ctx.repos.production.get()
        if production.newest_candidate != version:  # a newer one passed its gate meanwhile: it takes staging
            release_staging(self.ctx, version, candidate.deployment)
            self._move(version, SUPERSEDED, f"v{production.newest_candidate} is newer")
            return Next(DONE)
        approval = self._approval(candidate, production, state.attempt)
        stored, created = self.ctx.repos.approvals.find(approval.id), False
        changed = gated_artifact_change(self.ctx, candidate) if stored is None else ""
        if changed:  # swapped between the gate (and the smoke test) and now: never asked for unreviewed files
            self.fail(version, REQUEST_APPROVAL, f"{changed}; redeploy re-runs the gate on them")
            return Next(DONE)
        if self.config.mirror_percent and production.champion_deployment:
            endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
            self.ctx.endpoints.set_traffic(self.config.endpoint_name, dict(endpoint.traffic),
                                           {candidate.deployment: self.config.mirror_percent})
        if stored is None:
            self._bind(candidate, approval)
            try:
                self.ctx.repos.approvals.add(approval)
                created = True
            except DocumentExists:  # another delivery of this step stored it meanwhile
                stored = self.ctx.repos.approvals.get(approval.id)
        if not created:  # this step ran before and crashed after creating it
            approval = stored
            if not recorded(self.ctx.audit, "approval_requested", approval_id=approval.id):  # the crash came before its audit entry
                self._record_request(approval, candidate, production)
            if approval.status != "pending":
                return Next(DONE)  # already decided (or closed): nothing here may undo that
        self.ctx.repos.production.change(lambda p: p.stage(version, candidate.deployment, approval.id))
        self._move(version, AWAITING_APPROVAL, f"approval {approval.id}", approval_id=approval.id,
                   requested_by=approval.requested_by)
        if created:
            self._record_request(approval, candidate, production)
        self.ctx.notifier.notify(notifications.approval_notification(self.ctx, approval))
        log.info("candidate v%s awaits approval %s", version, approval.id)
        return Next(DONE)

    # --- helpers ---------------------------------------------------------------------------

    def _record_request(self, approval: Approval, candidate, production: Production) -> None:
        """The audit entry of the request, with the digests of what is reviewed (the chained log keeps them)."""
        self.ctx.record("approval_requested", "system", approval.candidate_version, approval_id=approval.id,
                        champion_version=production.champion_version, requested_by=approval.requested_by,
                        artifact_digest=approval.artifact_digest, evidence_digest=approval.evidence_digest,
                        evidence={"gate": candidate.gate, "smoke": candidate.smoke})

    def _move(self, version: str, status: str, detail: str = "", **fields):
        return self.candidates.move_to(version, status, self.ctx.clock(), detail, **fields)

    def _claim_newest(self, version: str, retry: bool) -> Production | None:
        """Record this version as the newest candidate, unless a newer one was already seen."""
        claimed = []

        def claim(production: Production) -> bool:
            claimed.append(production.claim_newest(version, retry) or production.newest_candidate == version)
            return claimed[-1]

        production = self.ctx.repos.production.change(claim)
        return production if claimed[-1] else None

    def _evaluate(self, version: str, production: Production) -> GateResult:
        return QualityGate(self.ctx).evaluate(version, production.champion_version)

    def _smoke(self, version: str, deployment: str) -> SmokeResult:
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
            return sample_rows(self.ctx.files.read_chunks(*newest.stored_at, 64 * 1024), 5)
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
        elif not closed and not getattr(self.ctx.repos.approvals.find(old_approval), "is_open", False):
            # kept for a redeploy (a void approval, a failed promotion) that this newer version makes stale
            release_staging(self.ctx, production.staging_version, old_deployment)

    def _bind(self, candidate, approval: Approval) -> None:
        """Bind the approval to what is reviewed: the version's artifact files and the evidence document,
        issued once per approval id (a re-run after a crash before the approval was stored reuses it)."""
        approval.artifact_digest = (  # the gated ones (checked just before), else as the registry has them now
            candidate.gate.get("artifact_digest")
            or self.ctx.platform.model_artifact_digest(self.config.model_name, candidate.version))
        if self.ctx.evidence is not None:
            document, approval.evidence_digest = self.ctx.evidence.issue(candidate, approval)
            approval.artifact_digest = document["artifact_digest"]

    def _approval(self, candidate, production: Production, attempt: int) -> Approval:
        now = self.ctx.clock()
        info = self.ctx.platform.get_model_version(self.config.model_name, candidate.version)
        run = hashlib.sha256(f"{self.config.model_name}\0{candidate.version}\0{attempt}".encode()).hexdigest()[:8]
        return Approval(
            id=f"{self.config.model_name}-v{candidate.version}-{run}",
            model_name=self.config.model_name, candidate_version=candidate.version, deployment=candidate.deployment,
            champion_version=production.champion_version, champion_deployment=production.champion_deployment,
            gate=candidate.gate, smoke=candidate.smoke,
            training_set={
                "id": info.tags.get(TRAINING_SET_ID_TAG, ""),
                "batches": info.tags.get(TRAINING_SET_BATCHES_TAG, ""),
                "files": info.tags.get(TRAINING_SET_TAG, ""),
                "job": info.tags.get(JOB_NAME_TAG, ""),
            },
            created_at=iso(now), expires_at=iso(now + timedelta(hours=self.config.approval_ttl_hours)),
            requested_by=requesters_of(self.ctx, info),
        )
