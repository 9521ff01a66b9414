"""The staging deployment's end: closing an approval without promotion, and removing staging safely."""
from __future__ import annotations

import logging

from shared.domain.candidates import Approval
from shared.ports import OnlineEndpoints
from shared.services.promotion.context import PromotionContext

log = logging.getLogger(__name__)


def remove_staging_deployment(endpoints: OnlineEndpoints, endpoint_name: str, deployment: str) -> None:
    """Take any mirror off the deployment, then delete it; never one that serves live traffic."""
    endpoint = endpoints.get_endpoint(endpoint_name)
    if endpoint.traffic.get(deployment):
        return  # live traffic: not a staging deployment any more
    if endpoint.mirror_traffic.get(deployment):
        endpoints.set_traffic(endpoint_name, dict(endpoint.traffic), {})
    endpoints.delete_deployment(endpoint_name, deployment, wait=False)


def remove_staging_quietly(ctx: PromotionContext, deployment: str) -> None:
    """Best effort: what is left is reported by the sweeper."""
    try:
        remove_staging_deployment(ctx.endpoints, ctx.config.endpoint_name, deployment)
    except Exception as error:  # noqa: BLE001
        log.warning("could not remove staging deployment %s: %s", deployment, error)


def release_staging(ctx: PromotionContext, version: str, deployment: str | None = None) -> None:
    """A candidate that ended for good (gate or smoke test failed, a step failed) gives up staging:
    production's staging entry is released if this version holds it (a kept deployment of a void
    approval or a failed promotion, which a redeploy reused), and the deployment is removed, best
    effort: once the record no longer holds it, the sweeper removes what is left as an orphan.
    Idempotent: a second call finds nothing to release and removes an absent deployment."""
    held: list[str] = []

    def release(production) -> bool:
        held.clear()  # an ETag retry runs it again on the fresh record
        if production.staging_version != version or not production.staging_approval:
            return False
        held.append(production.staging_deployment)
        return production.unstage(production.staging_approval)

    ctx.repos.production.change(release)
    for name in dict.fromkeys(d for d in (*held, deployment) if d):
        remove_staging_quietly(ctx, name)


def teardown_staging(ctx: PromotionContext, approval: Approval) -> None:
    """The approval's staging deployment is forgotten by the production record, then removed."""
    ctx.repos.production.change(lambda production: production.unstage(approval.id))
    remove_staging_deployment(ctx.endpoints, ctx.config.endpoint_name, approval.deployment)


def close_approval(ctx: PromotionContext, approval_id: str, status: str, actor: str, reason: str,
                   via: str = "system") -> Approval | None:
    """Close a pending approval (expired, superseded) without a promotion; None if it was no longer pending."""
    now = ctx.clock()
    approval, changed = ctx.repos.approvals.change(approval_id, lambda a: a.close(status, actor, reason, via, now))
    if not changed:
        return None
    ctx.repos.candidates.move_to(approval.candidate_version, status, now, reason)
    ctx.repos.production.change(lambda production: production.unstage(approval.id))
    ctx.record(status, actor, approval.candidate_version, via=via, approval_id=approval.id, reason=reason)
    return approval
