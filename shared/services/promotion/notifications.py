"""What the promotion path tells people: approval requests with signed links, and its failures."""
from __future__ import annotations

from datetime import datetime

from shared.domain.candidates import Approval
from shared.domain.gate import GateResult
from shared.domain.links import sign_decision
from shared.domain.smoke import SmokeResult
from shared.ports import Notification
from shared.services.promotion.context import PromotionContext


def approval_links(ctx: PromotionContext, approval: Approval) -> dict[str, str]:
    expires = int(datetime.fromisoformat(approval.expires_at).timestamp())
    key, urls = ctx.config.signing_key, ctx.urls
    return {
        "Approve": urls.review_action(approval.id, "approve", sign_decision(key, approval.id, "approve", expires)),
        "Reject": urls.review_action(approval.id, "reject", sign_decision(key, approval.id, "reject", expires)),
        "Details": urls.review_details(approval.id, sign_decision(key, approval.id, "view", expires)),
    }


def approval_notification(ctx: PromotionContext, approval: Approval, gate: GateResult | None = None,
                          kind: str = "approval.requested", title_prefix: str = "Approval needed") -> Notification:
    smoke, training_set = approval.smoke, approval.training_set
    champion = f"v{approval.champion_version}" if approval.champion_version else "none yet"
    return Notification(
        kind=kind,
        title=f"{title_prefix}: {approval.model_name} v{approval.candidate_version}",
        text=(f"Candidate v{approval.candidate_version} passed the quality gate and its smoke test on staging "
              f"deployment {approval.deployment} (0% live traffic). Champion: {champion}."),
        facts={
            "approval": approval.id,
            "gate": approval.gate.get("evaluated_on", ""),
            "smoke test": f"{'passed' if smoke.get('passed') else 'failed'}, {smoke.get('rows')} rows, {smoke.get('latency_ms')} ms",
            "training set": f"{training_set.get('id', '')[:12]} ({training_set.get('batches')} files, job {training_set.get('job')})",
            "expires": approval.expires_at,
        },
        links=approval_links(ctx, approval),
        table=gate.table() if gate else _table_from(approval.gate),
    )


def gate_failed(ctx: PromotionContext, version: str, gate: GateResult) -> Notification:
    return Notification(
        kind="candidate.gate_failed", title=f"{ctx.config.model_name} v{version} failed the quality gate",
        text="; ".join(gate.reasons), facts={"evaluated on": gate.evaluated_on}, table=gate.table(),
    )


def smoke_failed(ctx: PromotionContext, version: str, deployment: str, smoke: SmokeResult) -> Notification:
    return Notification(
        kind="candidate.smoke_failed", title=f"{ctx.config.model_name} v{version} failed its smoke test",
        text="; ".join(smoke.problems) + f". Staging deployment {deployment} removed.",
        links={"Retry": ctx.urls.redeploy(ctx.config.model_name, version)},
    )


def candidate_failed(ctx: PromotionContext, version: str, step: str, reason: str) -> Notification:
    return Notification(
        kind="candidate.failed", title=f"{ctx.config.model_name} v{version} failed at the {step}",
        text=reason, facts={"retry": f"POST {ctx.urls.path('redeploy', name=ctx.config.model_name, version=version)}"},
    )


def _table_from(gate: dict) -> tuple:
    if not gate:
        return ()
    return GateResult(gate["passed"], gate["metric"], gate["candidate"], gate.get("champion"),
                      gate.get("champion_version"), gate.get("evaluated_on", ""), tuple(gate.get("reasons", []))).table()
