"""Human decisions on candidates: approve (promotion) or reject, by the API or a signed link."""
from __future__ import annotations

import logging

from shared.domain.candidates import ACTION_STATUS, EXPIRED, PENDING, VOID, Approval, ApprovalExpired
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.domain.links import token_fingerprint, verify_decision
from shared.domain.principals import Principal, as_decider
from shared.ports import Notification
from shared.services.promotion import binding, notifications
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.staging import close_approval, teardown_staging
from shared.services.promotion.steps import StepRunner
from shared.services.repositories import Page

log = logging.getLogger(__name__)


class ApprovalService:
    """Every decision is claimed with one conditional write, so exactly one of many racing calls acts."""

    def __init__(self, ctx: PromotionContext, runner: StepRunner):
        self.ctx = ctx
        self.runner = runner
        self.config = ctx.config
        self.approvals = ctx.repos.approvals

    # --- reading ---------------------------------------------------------------------

    def list(self, status: str | None = None, limit: int = 100, continuation: str | None = None) -> Page[Approval]:
        """Approval requests, newest first, one page at a time."""
        return self.approvals.newest(limit, continuation, status)

    def get(self, approval_id: str) -> Approval:
        return self.approvals.get(approval_id)

    def view(self, approval_id: str) -> dict:
        """The approval and, while it is pending, its signed decision links."""
        approval = self.get(approval_id)
        links = notifications.approval_links(self.ctx, approval) if approval.status == PENDING else {}
        return {**approval.to_dict(), "links": links}

    def check_link(self, approval_id: str, action: str, token: str) -> Approval:
        """Verify a signed link without using it (the confirmation page): 401/403 when not valid. The token
        is bound to the digests the approval recorded, so it is read first (a forged link to an unknown
        approval is still refused as forged)."""
        now = self.ctx.clock().timestamp()
        try:
            approval = self.get(approval_id)
        except NotFound:
            verify_decision(self.config.signing_key, token, approval_id, action, now, artifact_digest="",
                            evidence_digest="")
            raise
        verify_decision(self.config.signing_key, token, approval_id, action, now,
                        artifact_digest=approval.artifact_digest, evidence_digest=approval.evidence_digest)
        approval.check_link_unused(token_fingerprint(token))
        return approval

    def audit_log(self, limit: int = 100) -> list[dict]:
        return self.ctx.audit.read(limit)

    # --- deciding --------------------------------------------------------------------

    def decide(self, approval_id: str, action: str, reviewer: str | Principal, comment: str = "", via: str = "api",
               link_token: str | None = None) -> Approval:
        """Claim the decision (one of many racing calls wins; the rest get Conflict) and send its first
        step; the approval as it stands when the step was sent (deciding, or decided when steps run inline).
        `reviewer`: the signed-in principal, or (AUTH_MODE=none) the name a reviewer gave. A decider
        APPROVERS does not list, or the candidate's requester approving, is refused (Forbidden),
        recorded in the audit log, and changes nothing. A decision on a candidate whose artifacts or
        evidence changed since the request voids the approval (Conflict, recorded) and decides nothing."""
        if action not in ACTION_STATUS:
            raise InvalidInput(f"action must be approve or reject; got {action!r}")
        decider = as_decider(reviewer)
        if link_token is not None:
            self.check_link(approval_id, action, link_token)
        approval = self.check_decider(approval_id, action, decider, via)
        self.check_expiry(approval)
        self.check_binding(approval, action, decider, via)
        self._claim(approval_id, action, decider.display, comment, via, link_token)
        self.runner.send("approval", approval_id)
        return self.get(approval_id)

    def check_decider(self, approval_id: str, action: str, decider: Principal, via: str) -> Approval:
        """The approval, if `decider` may take `action` on it; else Forbidden, recorded (who, what, why)."""
        approval = self.get(approval_id)
        try:
            self.config.approvers.check(decider)
            approval.check_decider(action, decider)
        except Forbidden as refused:
            self.ctx.record("decision_refused", decider.display, approval.candidate_version, approval_id=approval.id,
                            decision=action, via=via, reason=refused.message, principal=decider.to_dict(),
                            requested_by=approval.requested_by)
            log.warning("decision %s on %s by %s refused: %s", action, approval.id, decider.display, refused.message)
            raise
        return approval

    def check_expiry(self, approval: Approval) -> None:
        """A pending approval past its expiry is expired (auto-rejected, staging removed) and the decision
        refused as expired, before any binding check: an expired approval is never voided instead."""
        if approval.status == PENDING and approval.expired(self.ctx.clock()):
            self.expire(approval)
            raise ApprovalExpired(f"approval {approval.id} has expired")

    def check_binding(self, approval: Approval, action: str, decider: Principal, via: str) -> None:
        """A pending approval is decided only on the artifacts and evidence it was issued with; otherwise
        it becomes void (conditional write), the audit log says what changed, its candidate fails (so a
        redeploy asks again), and Conflict names it. A decision on a void approval finishes that last part
        (a crash between the two writes) and is refused with the reason."""
        if approval.status == VOID:
            binding.release_candidate(self.ctx, approval)
            raise Conflict(f"approval {approval.id} is already void: {approval.reason}")
        if approval.status != PENDING:
            return  # the claim refuses it with its own reason
        changed = binding.changes(self.ctx, approval)
        if not changed:
            return
        reason = "; ".join(changed)
        voided, _ = self.approvals.change(approval.id, lambda a: a.void(reason, self.ctx.clock()))
        self.ctx.record("voided", decider.display, approval.candidate_version, approval_id=approval.id,
                        decision=action, via=via, reason=reason, changed=changed,
                        artifact_digest=approval.artifact_digest, evidence_digest=approval.evidence_digest)
        log.warning("approval %s voided on a decision by %s: %s", approval.id, decider.display, reason)
        binding.release_candidate(self.ctx, voided)
        raise Conflict(f"approval {approval.id} is void and nothing was decided: {reason}")

    def _claim(self, approval_id, action, reviewer, comment, via, link_token) -> Approval:
        now = self.ctx.clock()
        fingerprint = token_fingerprint(link_token) if link_token else None
        try:
            approval, _ = self.approvals.change(
                approval_id, lambda a: a.claim(action, reviewer, comment, via, now, fingerprint))
        except ApprovalExpired:
            self.expire(self.approvals.get(approval_id))
            raise
        return approval

    def expire(self, approval: Approval) -> bool:
        """Auto-reject an approval past its expiry and remove its staging deployment; False if already closed."""
        closed = close_approval(self.ctx, approval.id, EXPIRED, actor="system",
                                reason=f"no decision by {approval.expires_at}")
        if not closed:
            return False
        teardown_staging(self.ctx, closed)
        self.ctx.notifier.notify(Notification(
            kind="approval.expired", title=f"Approval expired: {approval.model_name} v{approval.candidate_version}",
            text=f"No decision by {approval.expires_at}: auto-rejected and staging deployment {approval.deployment} removed.",
        ))
        return True

    def finish(self, approval: Approval, status: str, reason: str | None = None) -> Approval:
        finished, _ = self.approvals.change(approval.id, lambda a: a.finish(status, reason))
        return finished
