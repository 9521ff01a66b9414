"""Rollback: live traffic back to the previous champion, as queued steps (redeploy it when its
deployment is gone, wait until it answers, switch). The HTTP call only claims it (202)."""
from __future__ import annotations

import logging
from datetime import timedelta

from shared.domain.candidates import Production
from shared.domain.clock import iso
from shared.domain.errors import DomainError, Forbidden, PlatformError
from shared.domain.naming import deployment_name_for
from shared.domain.principals import Principal, as_decider
from shared.domain.steps import DONE, ROLLBACK_AWAIT, ROLLBACK_DEPLOY, ROLLBACK_SWITCH, StepState
from shared.ports import Notification
from shared.services.promotion.audit_trail import recorded
from shared.services.promotion.context import PromotionContext
from shared.services.promotion.steps import Next, Poll

log = logging.getLogger(__name__)


class RollbackService:
    """Who serves production changes only by a decision: a person's rollback needs an approver, as an approval does."""

    def __init__(self, ctx: PromotionContext, runner):
        self.ctx = ctx
        self.config = ctx.config
        self.runner = runner

    def rollback(self, reviewer: str | Principal, comment: str = "", via: str = "api") -> Production:
        """Claim a rollback to the previous champion and start its steps; Conflict when not possible.
        `reviewer`: the signed-in principal, or (AUTH_MODE=none) the name a reviewer gave. A decider
        APPROVERS does not list is refused (Forbidden), recorded in the audit log, and changes nothing."""
        decider = as_decider(reviewer)
        self.check_decider(decider, via)
        return self._claim(decider.display, comment)

    def automatic(self, comment: str) -> Production:
        """The service's own rollback (production stopped answering, PRODUCTION_AUTO_ROLLBACK): by "system"."""
        return self._claim("system", comment)

    def check_decider(self, decider: Principal, via: str) -> None:
        """Nothing, if `decider` may roll production back; else Forbidden, recorded (who, what, why)."""
        try:
            self.config.approvers.check(decider)
        except Forbidden as refused:
            self._record_refusal(decider, via, refused)
            raise

    def _record_refusal(self, decider: Principal, via: str, refused: Forbidden) -> None:
        production = self.ctx.repos.production.get()
        self.ctx.record("decision_refused", decider.display, production.previous_version or "", decision="rollback",
                        via=via, reason=refused.message, principal=decider.to_dict(),
                        from_version=production.champion_version)
        log.warning("rollback by %s refused: %s", decider.display, refused.message)

    def _claim(self, by: str, comment: str) -> Production:
        production = self.ctx.repos.production.get()
        deployment = production.previous_deployment or (
            deployment_name_for(self.config.model_name, production.previous_version)
            if production.previous_version else "")
        self.ctx.repos.production.change(
            lambda p: p.request_rollback(by, comment, deployment, iso(self.ctx.clock())))
        self.runner.send(RollbackTrack.kind, self.config.model_name)
        return self.ctx.repos.production.get()


class RollbackTrack:
    kind = "rollback"

    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.config = ctx.config

    def state(self, subject: str) -> StepState | None:
        rollback = self.ctx.repos.production.get().rollback
        return StepState.from_dict(rollback["steps"]) if rollback and subject == self.config.model_name else None

    def change_state(self, subject: str, change) -> StepState:
        def apply(production: Production) -> bool:
            state = StepState.from_dict(production.rollback["steps"])
            if change(state) is False:
                return False
            production.rollback = {**production.rollback, "steps": state.to_dict()}
            return True

        return StepState.from_dict(self.ctx.repos.production.change(apply).rollback["steps"])

    def run(self, step: str, subject: str, state: StepState) -> Next | Poll:
        rollback = self.ctx.repos.production.get().rollback
        endpoints, endpoint = self.ctx.endpoints, self.config.endpoint_name
        try:
            if step == ROLLBACK_DEPLOY:
                endpoints.begin_deployment(endpoint, rollback["deployment"], self.config.model_name,
                                           rollback["to_version"])
                return Next(ROLLBACK_AWAIT)
            if step == ROLLBACK_AWAIT:
                return self._await(rollback, state)
            return self._switch(rollback, state)
        except PlatformError:
            raise
        except DomainError as error:
            self.fail(subject, step, error.message)
            return Next(DONE)

    def fail(self, subject: str, step: str, reason: str) -> None:
        def record(production: Production) -> None:
            production.rollback = {**production.rollback, "error": reason}

        self.ctx.repos.production.change(record)
        self.ctx.notifier.notify(Notification(kind="rollback.failed", title="Rollback failed",
                                              text=f"{reason}. Live traffic was not changed."))

    def _await(self, rollback: dict, state: StepState) -> Next | Poll:
        info = self.ctx.endpoints.get_deployment(self.config.endpoint_name, rollback["deployment"])
        if info is not None and info.state == "Succeeded":
            return Next(ROLLBACK_SWITCH)
        if info is None or info.state == "Failed" or state.overdue(self.ctx.clock(), self.config.deployment_timeout_seconds):
            raise DomainError(f"the previous champion's deployment {rollback['deployment']} is "
                              f"{info.state if info else 'gone'}")
        return Poll(self.config.poll_seconds)

    def _switch(self, rollback: dict, state: StepState) -> Next | Poll:
        deployment = rollback["deployment"]
        endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
        if endpoint.live_traffic != {deployment: 100} or endpoint.state != "Succeeded":
            if state.polls == 0:
                self.ctx.endpoints.set_traffic(self.config.endpoint_name, {deployment: 100}, {}, wait=False)
            if state.overdue(self.ctx.clock(), self.config.deployment_timeout_seconds):
                raise DomainError(f"the traffic update to {deployment} did not take effect "
                                  f"(live {endpoint.live_traffic})")
            endpoint = self.ctx.endpoints.get_endpoint(self.config.endpoint_name)
            if endpoint.live_traffic != {deployment: 100} or endpoint.state != "Succeeded":
                return Poll(self.config.poll_seconds)
        current = self.ctx.repos.production.get().champion_deployment
        keep_until = iso(self.ctx.clock() + timedelta(minutes=self.config.bake_minutes))
        self.ctx.repos.production.change(lambda p: p.roll_back(deployment, keep_until)
                                         if p.champion_deployment != deployment else False)
        if self.config.bake_minutes <= 0 and current and current != deployment:
            self.ctx.delete_quietly(current)
        rerun = current == deployment  # switched before: a crash came after it (before or after its entry)
        if not (rerun and recorded(self.ctx.audit, "rolled_back", requested_at=rollback["at"])):
            self.ctx.record("rolled_back", rollback["by"], rollback["to_version"], requested_at=rollback["at"],
                            from_version=rollback["from_version"], comment=rollback["comment"])
        return Next(DONE)
