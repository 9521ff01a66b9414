"""Human decisions on candidates: approve (promotion), reject, expiry, rollback, and the sweeper."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.candidates import (
    APPROVAL_STATUSES,
    APPROVED,
    EXPIRED,
    FAILED,
    IN_PROGRESS,
    PENDING,
    PROMOTED,
    REJECTED,
    Approval,
    Production,
    approval_key,
)
from shared.domain.clock import iso
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PlatformError
from shared.domain.links import token_fingerprint, verify_decision
from shared.ports import Notification
from shared.services.candidates import approval_links, approval_notification
from shared.services.delivery import DeliveryConfig, DeliveryPorts, Records, close_approval, remove_staging_deployment
from shared.services.documents import update_document

log = logging.getLogger(__name__)

DECIDING = "deciding"  # claimed by one decision; no other can start
ACTION_STATUS = {"approve": APPROVED, "reject": REJECTED}
STUCK_AFTER = timedelta(minutes=15)


@dataclass
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


class ApprovalService:
    """Every decision is claimed with one conditional write, so exactly one of many racing calls acts."""

    def __init__(self, ports: DeliveryPorts, config: DeliveryConfig):
        self.ports = ports
        self.config = config
        self.records = Records(ports.documents, config.model_name, ports.clock)

    # --- reading ---------------------------------------------------------------------

    def list(self, status: str | None = None) -> list[Approval]:
        if status is not None and status not in APPROVAL_STATUSES | {DECIDING}:
            raise InvalidInput(f"status must be one of {sorted(APPROVAL_STATUSES)}; got {status!r}")
        approvals = [Approval.from_dict(v.doc) for v in self.ports.documents.list("approvals/")]
        approvals = [a for a in approvals if status is None or a.status == status]
        return sorted(approvals, key=lambda a: a.created_at, reverse=True)

    def get(self, approval_id: str) -> Approval:
        stored = self.ports.documents.get(approval_key(approval_id))
        if not stored:
            raise NotFound(f"approval {approval_id!r} does not exist")
        return Approval.from_dict(stored.doc)

    def view(self, approval_id: str) -> dict:
        """The approval and, while it is pending, its signed decision links."""
        approval = self.get(approval_id)
        links = approval_links(self.config, approval) if approval.status == PENDING else {}
        return {**approval.to_dict(), "links": links}

    def check_link(self, approval_id: str, action: str, token: str) -> Approval:
        """Verify a signed link without using it (the confirmation page): 401/403 when not valid."""
        verify_decision(self.config.signing_key, token, approval_id, action, self.ports.clock().timestamp())
        approval = self.get(approval_id)
        if token_fingerprint(token) in approval.used_links:
            raise Forbidden("this link has already been used")
        return approval

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
        now = self.ports.clock()
        expired = []

        def claim(doc: dict | None) -> dict | None:
            if doc is None:
                raise NotFound(f"approval {approval_id!r} does not exist")
            if link_token is not None and token_fingerprint(link_token) in doc["used_links"]:
                raise Forbidden("this link has already been used")
            if doc["status"] != PENDING:
                raise Conflict(f"approval {approval_id} is already {doc['status']}")
            if datetime.fromisoformat(doc["expires_at"]) <= now:
                expired.append(True)
                return None
            used = doc["used_links"] + ([token_fingerprint(link_token)] if link_token else [])
            return {**doc, "status": DECIDING, "decided_by": reviewer, "decided_at": iso(now), "decided_via": via,
                    "comment": comment[:2000], "reason": action, "used_links": used}

        doc, _ = update_document(self.ports.documents, approval_key(approval_id), claim)
        if expired:
            self._expire(Approval.from_dict(doc))
            raise Conflict(f"approval {approval_id} has expired")
        return Approval.from_dict(doc)

    def _promote(self, approval: Approval) -> Approval:
        endpoint = self.config.endpoint_name
        production = self.records.production()
        try:
            self.ports.endpoints.set_traffic(endpoint, {approval.deployment: 100}, {})
        except Exception as error:  # noqa: BLE001 - any platform failure: put things back, record, retry later
            return self._promotion_failed(approval, production, error)

        def promote(production: Production) -> Production:
            if production.champion_version != approval.candidate_version:
                production.previous_version = production.champion_version
                production.previous_deployment = production.champion_deployment
            production.champion_version, production.champion_deployment = approval.candidate_version, approval.deployment
            if production.staging_approval == approval.id:
                production.staging_version = production.staging_deployment = production.staging_approval = None
            return production

        self.records.change_production(promote)
        old = production.champion_deployment
        if old and old != approval.deployment:
            self._delete_quietly(old)
        approved = self._finish(approval, APPROVED)
        self.records.set_candidate(approval.candidate_version, PROMOTED, f"approved by {approval.decided_by}")
        self._audit("promoted", approval, previous_version=production.champion_version)
        self.ports.notifier.notify(Notification(
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
                self.ports.endpoints.set_traffic(self.config.endpoint_name, {production.champion_deployment: 100}, {})
            self._delete_quietly(approval.deployment)
        except Exception:  # noqa: BLE001 - the sweeper reconciles what is left
            log.warning("could not restore traffic after the failed promotion of v%s", approval.candidate_version)
        self._finish(approval, FAILED, reason=f"traffic switch failed: {reason}")
        self.records.set_candidate(approval.candidate_version, FAILED, f"traffic switch: {reason}",
                                   error=reason, failed_step="traffic switch")
        self._audit("promotion_failed", approval, reason=reason)
        raise PlatformError(f"promotion of v{approval.candidate_version} failed at the traffic switch: {reason}; "
                            f"retry with POST /api/candidates/{approval.model_name}/{approval.candidate_version}/redeploy")

    def _reject(self, approval: Approval) -> Approval:
        self._teardown_staging(approval)
        rejected = self._finish(approval, REJECTED)
        self.records.set_candidate(approval.candidate_version, REJECTED, f"rejected by {approval.decided_by}")
        self._audit("rejected", approval)
        return rejected

    def _expire(self, approval: Approval) -> None:
        closed = close_approval(self.ports, self.records, approval.id, EXPIRED, actor="system",
                                reason=f"no decision by {approval.expires_at}")
        if closed:
            self._teardown_staging(closed)
            self.ports.notifier.notify(Notification(
                kind="approval.expired", title=f"Approval expired: {approval.model_name} v{approval.candidate_version}",
                text=f"No decision by {approval.expires_at}: auto-rejected and staging deployment {approval.deployment} removed.",
            ))

    def _finish(self, approval: Approval, status: str, reason: str | None = None) -> Approval:
        def finish(doc: dict | None) -> dict | None:
            return {**doc, "status": status, "reason": reason or doc.get("reason", "")}

        doc, _ = update_document(self.ports.documents, approval.key, finish)
        return Approval.from_dict(doc)

    def _teardown_staging(self, approval: Approval) -> None:
        self.records.unstage(approval.id)
        remove_staging_deployment(self.ports.endpoints, self.config.endpoint_name, approval.deployment)

    # --- rollback ----------------------------------------------------------------------

    def rollback(self, reviewer: str, comment: str = "") -> Production:
        """Give live traffic back to the previous champion (re-deploying it if it was removed)."""
        if not reviewer:
            raise InvalidInput("reviewer is required")
        production = self.records.production()
        if not production.previous_version:
            raise Conflict("there is no previous champion to roll back to")
        previous, current = production.previous_version, production.champion_deployment
        from shared.domain.naming import deployment_name_for

        deployment = production.previous_deployment or deployment_name_for(self.config.model_name, previous)
        self.ports.endpoints.create_or_update_deployment(self.config.endpoint_name, deployment, self.config.model_name, previous)
        self.ports.endpoints.set_traffic(self.config.endpoint_name, {deployment: 100}, {})

        def swap(production: Production) -> Production:
            production.previous_version, production.previous_deployment = production.champion_version, production.champion_deployment
            production.champion_version, production.champion_deployment = previous, deployment
            return production

        updated = self.records.change_production(swap)
        if current and current != deployment:
            self._delete_quietly(current)
        self.ports.audit.append({"at": iso(self.ports.clock()), "action": "rolled_back", "actor": reviewer,
                                 "model": self.config.model_name, "version": previous,
                                 "from_version": production.champion_version, "comment": comment[:2000]})
        return updated

    # --- the sweeper -------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Reminders, expiry, and reconciliation of the stored state with the endpoint."""
        report = SweepReport()
        now = self.ports.clock()
        for approval in self.list(PENDING):
            expires = datetime.fromisoformat(approval.expires_at)
            if expires <= now:
                self._expire(approval)
                report.expired.append(approval.id)
            elif not approval.reminded_at and expires - now <= timedelta(hours=self.config.approval_reminder_hours):
                self._remind(approval)
                report.reminded.append(approval.id)
        self._reconcile(report)
        self._fail_stuck(report, now)
        return report

    def _remind(self, approval: Approval) -> None:
        def mark(doc: dict | None) -> dict | None:
            return None if doc is None or doc.get("reminded_at") else {**doc, "reminded_at": iso(self.ports.clock())}

        _, changed = update_document(self.ports.documents, approval.key, mark)
        if changed:
            self.ports.notifier.notify(approval_notification(self.config, approval, kind="approval.reminder",
                                                             title_prefix="Reminder, approval needed"))

    def _reconcile(self, report: SweepReport) -> None:
        production = self.records.production()
        try:
            endpoint = self.ports.endpoints.get_endpoint(self.config.endpoint_name)
        except NotFound:
            return
        expected_traffic = {production.champion_deployment: 100} if production.champion_deployment else {}
        live = {k: v for k, v in endpoint.traffic.items() if v}
        if live != expected_traffic:
            present = {d.name for d in endpoint.deployments}
            if production.champion_deployment and production.champion_deployment in present:
                self.ports.endpoints.set_traffic(self.config.endpoint_name, expected_traffic, dict(endpoint.mirror_traffic))
                report.repaired.append(f"traffic {live} → {expected_traffic}")
            else:
                report.reported.append(f"traffic {live} does not match the record (champion "
                                       f"{production.champion_deployment or 'none'}), which is not deployed")
        known = {production.champion_deployment, production.staging_deployment} - {None}
        in_progress = {c.deployment for c in self.records.candidates() if c.status in IN_PROGRESS}
        for deployment in endpoint.deployments:
            if deployment.name in known or deployment.name in in_progress:
                continue
            if endpoint.traffic.get(deployment.name) or endpoint.mirror_traffic.get(deployment.name):
                report.reported.append(f"deployment {deployment.name} has traffic but no record")
                continue
            self._delete_quietly(deployment.name)
            report.repaired.append(f"removed deployment {deployment.name}, which no approval or champion record holds")
        for line in report.repaired + report.reported:
            log.warning("sweeper: %s", line)
        if report.reported:
            self.ports.notifier.notify(Notification(kind="sweeper.report", title="Endpoint does not match the records",
                                                    text="; ".join(report.reported)))

    def _fail_stuck(self, report: SweepReport, now) -> None:
        for candidate in self.records.candidates():
            last = datetime.fromisoformat(candidate.history[-1]["at"]) if candidate.history else now
            if candidate.status in IN_PROGRESS and now - last > STUCK_AFTER:
                self.records.set_candidate(candidate.version, FAILED, f"stuck in {candidate.status} since {iso(last)}",
                                           error=f"no progress since {iso(last)}", failed_step=candidate.status)
                report.repaired.append(f"candidate v{candidate.version} stuck in {candidate.status}: marked failed")
        for approval in self.list(DECIDING):
            if approval.decided_at and now - datetime.fromisoformat(approval.decided_at) > STUCK_AFTER:
                self._finish(approval, FAILED, reason="decision interrupted; redeploy to try again")
                report.repaired.append(f"approval {approval.id} stuck deciding: marked failed")

    def _delete_quietly(self, deployment: str) -> None:
        try:
            self.ports.endpoints.delete_deployment(self.config.endpoint_name, deployment)
        except Exception as error:  # noqa: BLE001 - left for the sweeper to report
            log.warning("could not delete deployment %s: %s", deployment, error)

    def _audit(self, action: str, approval: Approval, **extra) -> None:
        self.ports.audit.append({
            "at": iso(self.ports.clock()), "action": action, "actor": approval.decided_by, "via": approval.decided_via,
            "model": approval.model_name, "version": approval.candidate_version, "approval_id": approval.id,
            "comment": approval.comment, "evidence": {"gate": approval.gate, "smoke": approval.smoke,
                                                      "training_set": approval.training_set}, **extra,
        })

    def audit_log(self, limit: int = 100) -> list[dict]:
        return self.ports.audit.read(limit)
