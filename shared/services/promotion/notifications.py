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

    def sign(action: str) -> str:
        return sign_decision(key, approval.id, action, expires, artifact_digest=approval.artifact_digest,
                             evidence_digest=approval.evidence_digest)
    return {
        "Approve": urls.review_action(approval.id, "approve", sign("approve")),
        "Reject": urls.review_action(approval.id, "reject", sign("reject")),
        "Details": urls.review_details(approval.id, sign("view")),
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
            **gate_facts(approval.gate),
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
        text="; ".join(gate.reasons), facts={"evaluated on": gate.evaluated_on, **gate_facts(gate.to_dict())},
        table=gate.table(),
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


def gate_facts(gate: dict) -> dict:
    """The gate's uncertainty, subgroups, calibration, operating point and disagreement, one line each."""
    facts, metric = {}, gate.get("metric", "")
    difference, candidate, champion = gate.get("difference"), gate.get("candidate") or {}, gate.get("champion") or {}
    if difference:
        facts["interval"] = (f"{metric} candidate − champion {difference['point']:+.4f}, {difference['confidence']:.0%} "
                             f"CI [{difference['lower']:+.4f}, {difference['upper']:+.4f}], {difference['resamples']} "
                             f"paired resamples; lower bound must be > {-difference['margin']:+.4f}")
    judged = [g for g in gate.get("subgroups", []) if g.get("judged")]
    if gate.get("subgroups"):
        worst = min(judged, key=lambda g: g["difference"], default=None)
        facts["subgroups"] = (f"{len(judged)} of {len(gate['subgroups'])} judged, "
                              + (f"{sum(g['regressed'] for g in judged)} regress; worst {worst['name']} "
                                 f"{worst['difference']:+.4f}" if worst else "none to compare"))
    if "brier" in candidate:
        facts["calibration"] = (f"Brier {candidate['brier']:.4f}, ECE {candidate.get('ece', float('nan')):.4f}"
                                + (f" (champion {champion['brier']:.4f}, {champion.get('ece', float('nan')):.4f})"
                                   if "brier" in champion else ""))
    if "sensitivity" in candidate:
        facts["operating point"] = (f"sensitivity {candidate['sensitivity']:.3f}, "
                                    f"specificity {candidate.get('specificity', float('nan')):.3f} at 0.5")
    agreement = gate.get("disagreement")
    if agreement:
        facts["disagreement"] = (f"{agreement['share']:.1%} of {agreement['rows']} recent rows answered differently"
                                 if agreement.get("share") is not None else agreement.get("error", "no recent rows"))
    return facts


def _table_from(gate: dict) -> tuple:
    if not gate:
        return ()
    return GateResult.from_dict(gate).table()
