"""Rollback: live traffic back to the previous champion (re-deployed if it was removed)."""
from __future__ import annotations

from shared.domain.candidates import Production
from shared.domain.errors import Conflict, InvalidInput
from shared.domain.naming import deployment_name_for
from shared.services.promotion.context import PromotionContext


class RollbackService:
    def __init__(self, ctx: PromotionContext):
        self.ctx = ctx
        self.config = ctx.config

    def rollback(self, reviewer: str, comment: str = "") -> Production:
        """Give live traffic back to the previous champion; the current one becomes the previous."""
        if not reviewer:
            raise InvalidInput("reviewer is required")
        production = self.ctx.repos.production.get()
        if not production.previous_version:
            raise Conflict("there is no previous champion to roll back to")
        previous, current = production.previous_version, production.champion_deployment
        deployment = production.previous_deployment or deployment_name_for(self.config.model_name, previous)
        endpoints, endpoint = self.ctx.endpoints, self.config.endpoint_name
        endpoints.create_or_update_deployment(endpoint, deployment, self.config.model_name, previous)
        endpoints.set_traffic(endpoint, {deployment: 100}, {})
        updated = self.ctx.repos.production.change(lambda p: p.roll_back(deployment))
        if current and current != deployment:
            self.ctx.delete_quietly(current)
        self.ctx.record("rolled_back", reviewer, previous, from_version=production.champion_version,
                        comment=comment[:2000])
        return updated
