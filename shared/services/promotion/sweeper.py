"""The approval sweeper: reminders, expiry, reconciliation of the endpoint with the records, stuck work.

Its cost follows what is open (pending approvals, candidates in progress), never the history.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.candidates import DECIDING, PENDING
from shared.domain.errors import NotFound
from shared.ports import Notification
from shared.services.promotion import notifications
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.decisions import ApprovalService
from shared.services.promotion.health import ProductionHealth
from shared.services.promotion.steps import StepRunner

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=15)


@dataclass
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


class Sweeper:
    def __init__(self, ctx: PromotionContext, decisions: ApprovalService, runner: StepRunner,
                 health: ProductionHealth):
        self.ctx = ctx
        self.config = ctx.config
        self.decisions = decisions
        self.runner = runner
        self.health = health

    def sweep(self) -> SweepReport:
        """Reminders, expiry, and reconciliation of the stored state with the endpoint."""
        report = SweepReport()
        now = self.ctx.clock()
        open_approvals = self.ctx.repos.approvals.open()
        for approval in (a for a in open_approvals if a.status == PENDING):
            self._attempt(report, f"approval {approval.id}", lambda a=approval: self._expire_or_remind(report, a, now))
        deciding = [a for a in open_approvals if a.status == DECIDING]
        production = self.ctx.repos.production.get()
        switching = bool(deciding) or production.rollback_under_way  # traffic may be moving: leave it alone
        endpoint = self._endpoint()  # listed before the records are read: a deployment started since is not an orphan
        in_progress = self.ctx.repos.candidates.in_progress()
        in_use = {c.deployment for c in in_progress} | {a.deployment for a in open_approvals}
        if endpoint is not None:
            self._attempt(report, "reconciliation",
                          lambda: self._reconcile(report, endpoint, in_use, check_traffic=not switching))
        self._attempt(report, "stuck work", lambda: self._resume_stuck(report, now, in_progress, deciding, production))
        if not switching:
            self._attempt(report, "bake period", lambda: self.health.end_bake(report, now))
            self._attempt(report, "production probe", lambda: self.health.probe(report))
        return report

    def _attempt(self, report: SweepReport, what: str, part) -> None:
        """One part of the sweep failing (the platform is slow, a record is odd) leaves the others to run."""
        try:
            part()
        except Exception as error:  # noqa: BLE001 - reported; the next sweep tries again
            log.warning("sweeper: %s failed: %s", what, error)
            report.reported.append(f"{what}: not swept ({getattr(error, 'message', None) or error.__class__.__name__})")

    def _expire_or_remind(self, report: SweepReport, approval, now) -> None:
        expires = datetime.fromisoformat(approval.expires_at)
        if expires <= now:
            self.decisions.expire(approval)
            report.expired.append(approval.id)
        elif not approval.reminded_at and expires - now <= timedelta(hours=self.config.approval_reminder_hours):
            self._remind(approval)
            report.reminded.append(approval.id)

    def _endpoint(self):
        try:
            return self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
        except NotFound:
            return None

    def _remind(self, approval) -> None:
        reminded, changed = self.ctx.repos.approvals.change(approval.id, lambda a: a.remind(self.ctx.clock()))
        if changed:
            self.ctx.notifier.notify(notifications.approval_notification(
                self.ctx, reminded, kind="approval.reminder", title_prefix="Reminder, approval needed"))

    def _reconcile(self, report: SweepReport, endpoint, in_progress: set, check_traffic: bool) -> None:
        production = self.ctx.repos.production.get()
        endpoints, name = self.ctx.endpoints, self.config.endpoint_name
        expected_traffic = {production.champion_deployment: 100} if production.champion_deployment else {}
        live = endpoint.live_traffic
        if check_traffic and live != expected_traffic:
            present = {d.name for d in endpoint.deployments}
            if production.champion_deployment and production.champion_deployment in present:
                endpoints.set_traffic(name, expected_traffic, dict(endpoint.mirror_traffic))
                report.repaired.append(f"traffic {live} → {expected_traffic}")
            else:
                report.reported.append(f"traffic {live} does not match the record (champion "
                                       f"{production.champion_deployment or 'none'}), which is not deployed")
        known = {production.champion_deployment, production.staging_deployment, production.previous_deployment,
                 (production.rollback or {}).get("deployment")} - {None}
        for deployment in endpoint.deployments:
            if deployment.name in known or deployment.name in in_progress:
                continue
            if endpoint.traffic.get(deployment.name) or endpoint.mirror_traffic.get(deployment.name):
                report.reported.append(f"deployment {deployment.name} has traffic but no record")
                continue
            self.ctx.delete_quietly(deployment.name)
            report.repaired.append(f"removed deployment {deployment.name}, which no approval or champion record holds")
        for line in report.repaired + report.reported:
            log.warning("sweeper: %s", line)
        if report.reported:
            self.ctx.notifier.notify(Notification(kind="sweeper.report", title="Endpoint does not match the records",
                                                  text="; ".join(report.reported)))

    def _resume_stuck(self, report: SweepReport, now, in_progress, deciding, production) -> None:
        """Work that made no progress for a while lost its message (a poisoned or dropped one):
        send the due step again; a duplicate of a live message changes nothing."""
        for candidate in in_progress:
            last = datetime.fromisoformat(candidate.last_change)
            if now - last > STUCK_AFTER:
                self.runner.send("candidate", candidate.version)
                report.repaired.append(f"candidate v{candidate.version} stuck in {candidate.status}: step sent again")
        for approval in deciding:
            if approval.decided_at and now - datetime.fromisoformat(approval.decided_at) > STUCK_AFTER:
                self.runner.send("approval", approval.id)
                report.repaired.append(f"approval {approval.id} stuck deciding: step sent again")
        if production.rollback_under_way and now - datetime.fromisoformat(production.rollback["at"]) > STUCK_AFTER:
            self.runner.send("rollback", self.config.model_name)
            report.repaired.append("rollback stuck: step sent again")
