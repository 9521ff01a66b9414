"""A claimed decision's steps. Approve: check that the staging deployment serves exactly the approved
version and artifacts, health-check it by name, switch live traffic, verify live traffic answers, and only then record the promotion (the previous champion's
deployment is kept for the bake period). Any failure puts traffic back on the champion, records
`promotion_failed` and deletes nothing. Reject: remove the staging deployment."""
from __future__ import annotations

import logging
from datetime import timedelta

from shared.domain.candidates import APPROVED, FAILED, PROMOTED, PROMOTION_FAILED, REJECTED, Approval
from shared.domain.clock import iso
from shared.domain.errors import DomainError, PlatformError
from shared.domain.steps import DONE, PROMOTE, REJECT, STEP_LABELS, VERIFY_PROMOTION, StepState
from shared.ports import Notification
from shared.services.promotion.audit_trail import recorded
from shared.services.promotion.binding import serving_change
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.staging import teardown_staging
from shared.services.promotion.steps import Next, Poll

log = logging.getLogger(__name__)

ENTRY_OF = {APPROVED: "promoted", REJECTED: "rejected", PROMOTION_FAILED: "promotion_failed"}


class DecisionTrack:
    kind = "approval"

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.config = ctx.config
        self.approvals = ctx.repos.approvals

    def state(self, subject: str) -> StepState | None:
        approval = self.approvals.find(subject)
        return StepState.from_dict(approval.steps) if approval and approval.steps else None

    def change_state(self, subject: str, change) -> StepState:
        def apply(approval: Approval) -> bool:
            state = StepState.from_dict(approval.steps)
            if change(state) is False:
                return False
            approval.steps = state.to_dict()
            return True

        return StepState.from_dict(self.approvals.change(subject, apply)[0].steps)

    def run(self, step: str, approval_id: str, state: StepState) -> Next | Poll:
        approval = self.approvals.get(approval_id)
        try:
            if step == VERIFY_PROMOTION:
                return self._verify(approval, state)
            return {PROMOTE: self._switch, REJECT: self._reject}[step](approval)
        except PlatformError:
            raise
        except DomainError as error:
            self.fail(approval_id, step, error.message)
            return Next(DONE)

    def fail(self, approval_id: str, step: str, reason: str) -> None:
        approval = self.approvals.get(approval_id)
        if step == REJECT:  # rejected all the same; only the staging teardown failed (the sweeper retries it)
            self._finish(approval, REJECTED, f"rejected; {STEP_LABELS[step]} failed: {reason}")
            self.ctx.repos.candidates.move_to(approval.candidate_version, REJECTED, self.ctx.clock(),
                                              f"rejected by {approval.decided_by}; {STEP_LABELS[step]} failed: {reason}")
            self.ctx.repos.production.change(lambda p: p.unstage(approval.id))
            self._audit("rejected", approval, teardown_error=reason)
            return
        self._promotion_failed(approval, reason)

    # --- approve ----------------------------------------------------------------------------

    def _switch(self, approval: Approval) -> Next:
        changed = serving_change(self.ctx, approval)
        if changed:
            self._promotion_failed(approval, f"not what was approved: {changed}")
            return Next(DONE)
        problem = self._answers(approval, deployment=approval.deployment)
        if problem:
            self._promotion_failed(approval, f"the staging deployment {approval.deployment} does not answer: {problem}")
            return Next(DONE)
        endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
        if endpoint.live_traffic != {approval.deployment: 100} and endpoint.state == "Succeeded":  # not already sent (a re-run)
            self.ctx.endpoints.set_traffic(self.config.endpoint_name, {approval.deployment: 100}, {}, wait=False)
        return Next(VERIFY_PROMOTION)

    def _verify(self, approval: Approval, state: StepState) -> Next | Poll:
        endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
        live = endpoint.live_traffic
        if endpoint.state != "Succeeded" or live != {approval.deployment: 100}:
            if not state.overdue(self.ctx.clock(), self.config.deployment_timeout_seconds):
                return Poll(self.config.poll_seconds)  # the traffic update is still being applied
            self._promotion_failed(approval, f"the traffic update did not take effect (live {live})")
            return Next(DONE)
        problem = self._answers(approval, deployment=None)
        if problem:
            self._promotion_failed(approval, f"live traffic does not answer after the switch: {problem}")
            return Next(DONE)
        production = self.ctx.repos.production.get()
        keep_until = iso(self.ctx.clock() + timedelta(minutes=self.config.bake_minutes))
        self.ctx.repos.production.change(
            lambda p: p.promote(approval.candidate_version, approval.deployment, approval.id, keep_until))
        self._finish(approval, APPROVED)
        self.ctx.repos.candidates.move_to(approval.candidate_version, PROMOTED, self.ctx.clock(),
                                          f"approved by {approval.decided_by}")
        self._audit("promoted", approval, previous_version=production.champion_version)
        kept = production.champion_deployment if production.champion_deployment != approval.deployment else None
        if kept and self.config.bake_minutes <= 0:
            self.ctx.delete_quietly(kept)
        self.ctx.notifier.notify(Notification(
            kind="approval.approved", title=f"{approval.model_name} v{approval.candidate_version} is in production",
            text=f"Approved by {approval.decided_by}; 100% of live traffic on {approval.deployment}."
                 + (f" The previous champion's deployment {kept} stays until {keep_until} for a quick rollback."
                    if kept else ""),
            facts={"previous champion": production.champion_version or "none", "comment": approval.comment},
        ))
        return Next(DONE)

    def _answers(self, approval: Approval, deployment: str | None) -> str:
        """'' when the deployment (or live traffic) answers the candidate's input example, else why not."""
        return self.ctx.why_not_answering(approval.candidate_version, deployment, self.config.smoke_max_latency_ms)

    def _promotion_failed(self, approval: Approval, reason: str) -> None:
        log.error("promotion of v%s failed: %s", approval.candidate_version, reason)
        production = self.ctx.repos.production.get()
        back = {production.champion_deployment: 100} if production.champion_deployment else {}
        try:
            self.ctx.endpoints.set_traffic(self.config.endpoint_name, back, {}, wait=False)
        except Exception:  # noqa: BLE001 - the sweeper reconciles traffic with the record
            log.warning("could not give traffic back to %s", production.champion_deployment or "no deployment")
        self._finish(approval, PROMOTION_FAILED, reason)
        self.ctx.repos.candidates.move_to(approval.candidate_version, FAILED, self.ctx.clock(),
                                          f"traffic switch: {reason}", error=reason, failed_step="traffic switch")
        self._audit("promotion_failed", approval, reason=reason)
        retry = self.ctx.urls.path("redeploy", name=approval.model_name, version=approval.candidate_version)
        self.ctx.notifier.notify(Notification(
            kind="approval.promotion_failed",
            title=f"Promotion of {approval.model_name} v{approval.candidate_version} failed",
            text=f"{reason}. Live traffic stays on the champion ({production.champion_version or 'none'}); "
                 f"nothing was deleted. Retry with POST {retry}.",
        ))

    # --- reject -----------------------------------------------------------------------------

    def _reject(self, approval: Approval) -> Next:
        teardown_staging(self.ctx, approval)
        self._finish(approval, REJECTED)
        self.ctx.repos.candidates.move_to(approval.candidate_version, REJECTED, self.ctx.clock(),
                                          f"rejected by {approval.decided_by}")
        self._audit("rejected", approval)
        return Next(DONE)

    def _finish(self, approval: Approval, status: str, reason: str | None = None) -> Approval:
        return self.approvals.change(approval.id, lambda a: a.finish(status, reason))[0]

    def _audit(self, action: str, approval: Approval, **extra) -> None:
        """`approval` as the step found it: final with this outcome already, the step is a re-run (a crash
        came after the state change), whose entry is written only if the log does not hold it yet."""
        if ENTRY_OF.get(approval.status) == action and recorded(self.ctx.audit, action, approval_id=approval.id):
            return
        self.ctx.record(action, approval.decided_by, approval.candidate_version, via=approval.decided_via,
                        approval_id=approval.id, comment=approval.comment,
                        artifact_digest=approval.artifact_digest, evidence_digest=approval.evidence_digest,
                        evidence={"gate": approval.gate, "smoke": approval.smoke, "training_set": approval.training_set},
                        **extra)
