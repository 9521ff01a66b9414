"""Production's health, checked by the sweeper: the bake period of the previous champion's
deployment, and a probe of live traffic with automatic rollback (or a redeploy) when it fails."""
from __future__ import annotations

import logging
from datetime import datetime

from shared.domain.clock import iso
from shared.domain.errors import Conflict
from shared.ports import Notification
from shared.services.promotion.context import PromotionContext

log = logging.getLogger(__name__)


class ProductionHealth:
    def __init__(self, ctx: PromotionContext, rollback):
        self.ctx = ctx
        self.config = ctx.config
        self.rollback = rollback  # RollbackService

    def end_bake(self, report, now: datetime) -> None:
        """After the bake period the previous champion's deployment goes (a rollback then redeploys it)."""
        production = self.ctx.repos.production.get()
        kept, until = production.previous_deployment, production.previous_kept_until
        if not kept or not until or datetime.fromisoformat(until) > now or kept == production.champion_deployment:
            return
        if production.rollback_under_way:
            return  # a rollback may be switching to it
        self.ctx.delete_quietly(kept)
        self.ctx.repos.production.change(lambda p: p.forget_previous_deployment(kept))
        report.repaired.append(f"bake period over: removed the previous champion's deployment {kept}")

    def probe(self, report) -> None:
        """Live traffic must answer the champion's input example; if not, notify and repair."""
        production = self.ctx.repos.production.get()
        if not production.champion_version or production.rollback.get("steps", {}).get("step") not in (None, "done"):
            return
        problem = self._problem(production.champion_version)
        if not problem:
            return
        action = self._repair(production)
        report.reported.append(f"production (v{production.champion_version}) does not answer: {problem}; {action}")
        self.ctx.notifier.notify(Notification(
            kind="production.unhealthy", title=f"Production is not answering: {self.config.model_name} "
                                               f"v{production.champion_version}",
            text=f"{problem}. {action}.", facts={"deployment": production.champion_deployment or "none"}))

    def _problem(self, version: str) -> str:
        try:  # live traffic is given more time than a smoke test: a slow answer is not a dead one
            return self.ctx.why_not_answering(version, None, self.config.smoke_max_latency_ms * 5)
        except Exception as error:  # noqa: BLE001 - any failure to answer is the finding
            return f"{error.__class__.__name__}: {error}"

    def _repair(self, production) -> str:
        kept = production.previous_deployment
        if kept and self.config.auto_rollback:
            try:
                self.rollback.automatic(f"automatic: production v{production.champion_version} "
                                        f"did not answer at {iso(self.ctx.clock())}")
                return f"automatic rollback to v{production.previous_version} ({kept}) started"
            except Conflict as error:
                return f"no automatic rollback: {error.message}"
        if kept:
            return f"automatic rollback is off (PRODUCTION_AUTO_ROLLBACK=false); v{production.previous_version} is kept on {kept}"
        if production.champion_deployment:
            self.ctx.endpoints.begin_deployment(self.config.endpoint_name, production.champion_deployment,
                                                self.config.model_name, production.champion_version)
            return f"no previous champion is kept: redeploying {production.champion_deployment}"
        return "no deployment is recorded for the champion"
