"""Human decisions on candidates: approve (promotion) or reject, by the API or a signed link."""
from __future__ import annotations

import logging

from shared.domain.candidates import (
    ACTION_STATUS, APPROVED, EXPIRED, FAILED, PENDING, PROMOTED, REJECTED, Approval, ApprovalExpired, Production,
)
from shared.domain.errors import InvalidInput, PlatformError
from shared.domain.links import token_fingerprint, verify_decision
from shared.ports import Notification
from shared.services.promotion import notifications
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.staging import close_approval, teardown_staging
from shared.services.repositories import Page

log = logging.getLogger(__name__)


class ApprovalService:
    """Every decision is claimed with one conditional write, so exactly one of many racing calls acts."""

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
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
        """Verify a signed link without using it (the confirmation page): 401/403 when not valid."""
        verify_decision(self.config.signing_key, token, approval_id, action, self.ctx.clock().timestamp())
        approval = self.get(approval_id)
        approval.check_link_unused(token_fingerprint(token))
        return approval

    def audit_log(self, limit: int = 100) -> list[dict]:
        return self.ctx.audit.read(limit)

    # --- deciding --------------------------------------------------------------------

    def decide(self, approval_id: str, action: str, reviewer: str, comment: str = "", via: str = "api",
               link_token: str | None = None) -> Approval:
        if action not in ACTION_STATUS:
            raise InvalidInput(f"action must be approve or reject; got {action!r}")
        if not reviewer or len(reviewer) > 200:
            raise InvalidInput("reviewer is required (at most 200 characters)")
        if link_token is not None:
            self.check_link(approval_id, action, link_token)
        approval = self._claim(approval_id, action, reviewer, comment, via, link_token)
        if action == "approve":
            return self._promote(approval)
        return self._reject(approval)

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

    def _promote(self, approval: Approval) -> Approval:
        production = self.ctx.repos.production.get()
        try:
            self.ctx.endpoints.set_traffic(self.config.endpoint_name, {approval.deployment: 100}, {})
        except Exception as error:  # noqa: BLE001 - any platform failure: put things back, record, retry later
            return self._promotion_failed(approval, production, error)
        self.ctx.repos.production.change(
            lambda p: p.promote(approval.candidate_version, approval.deployment, approval.id))
        old = production.champion_deployment
        if old and old != approval.deployment:
            self.ctx.delete_quietly(old)
        approved = self.finish(approval, APPROVED)
        self.ctx.repos.candidates.move_to(approval.candidate_version, PROMOTED, self.ctx.clock(),
                                          f"approved by {approval.decided_by}")
        self._audit("promoted", approval, previous_version=production.champion_version)
        self.ctx.notifier.notify(Notification(
            kind="approval.approved", title=f"{approval.model_name} v{approval.candidate_version} is in production",
            text=f"Approved by {approval.decided_by}; 100% of live traffic on {approval.deployment}.",
            facts={"previous champion": production.champion_version or "none", "comment": approval.comment},
        ))
        return approved

    def _promotion_failed(self, approval: Approval, production: Production, error: Exception) -> Approval:
        reason = getattr(error, "message", None) or f"{error.__class__.__name__}: {error}"
        log.error("promotion of v%s failed: %s", approval.candidate_version, reason)
        try:
            if production.champion_deployment:
                self.ctx.endpoints.set_traffic(self.config.endpoint_name, {production.champion_deployment: 100}, {})
            self.ctx.delete_quietly(approval.deployment)
        except Exception:  # noqa: BLE001 - the sweeper reconciles what is left
            log.warning("could not restore traffic after the failed promotion of v%s", approval.candidate_version)
        self.finish(approval, FAILED, reason=f"traffic switch failed: {reason}")
        self.ctx.repos.candidates.move_to(approval.candidate_version, FAILED, self.ctx.clock(),
                                          f"traffic switch: {reason}", error=reason, failed_step="traffic switch")
        self._audit("promotion_failed", approval, reason=reason)
        retry = self.ctx.urls.path("redeploy", name=approval.model_name, version=approval.candidate_version)
        raise PlatformError(f"promotion of v{approval.candidate_version} failed at the traffic switch: {reason}; "
                            f"retry with POST {retry}")

    def _reject(self, approval: Approval) -> Approval:
        teardown_staging(self.ctx, approval)
        rejected = self.finish(approval, REJECTED)
        self.ctx.repos.candidates.move_to(approval.candidate_version, REJECTED, self.ctx.clock(),
                                          f"rejected by {approval.decided_by}")
        self._audit("rejected", approval)
        return rejected

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

    def _audit(self, action: str, approval: Approval, **extra) -> None:
        self.ctx.record(action, approval.decided_by, approval.candidate_version, via=approval.decided_via,
                        approval_id=approval.id, comment=approval.comment,
                        evidence={"gate": approval.gate, "smoke": approval.smoke, "training_set": approval.training_set},
                        **extra)
