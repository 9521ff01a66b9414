"""Bound to what was reviewed: the gate records the digest of the artifact files it evaluated and an
approval is only asked for those; an approval records the digests of the candidate's artifact files and of
its evidence document; a decision is only taken on exactly those, and the promotion only moves traffic
to a deployment that serves exactly that version. A void approval's candidate fails, so a redeploy asks again."""
from __future__ import annotations

import logging

from shared.domain import evidence as evidence_document
from shared.domain.candidates import Approval, Candidate
from shared.domain.errors import NotFound
from shared.services.promotion import notifications
from shared.services.promotion.context import PromotionContext

log = logging.getLogger(__name__)


def artifact_change(ctx: PromotionContext, approval: Approval) -> str:
    """'' when the version's artifact files are the ones reviewed (or the approval recorded none), else what changed."""
    return _artifact_change(ctx, approval.candidate_version, approval.artifact_digest,
                            "reviewed", "since the approval was requested")


def gated_artifact_change(ctx: PromotionContext, candidate: Candidate) -> str:
    """'' when the version's artifact files are the ones its quality gate evaluated (or the gate, run
    before this was recorded, has no digest), else what changed: an approval is never asked for
    artifacts other than the gated ones."""
    return _artifact_change(ctx, candidate.version, (candidate.gate or {}).get("artifact_digest") or "",
                            "gated", "after the quality gate evaluated them")


def _artifact_change(ctx: PromotionContext, version: str, expected: str, label: str, since: str) -> str:
    if not expected:
        return ""
    try:
        current = ctx.platform.model_artifact_digest(ctx.config.model_name, version)
    except NotFound:
        return f"model version v{version} is no longer in the registry"
    if current != expected:
        return f"the artifact files of model version v{version} changed {since} ({label} {expected}, now {current})"
    return ""


def evidence_change(ctx: PromotionContext, approval: Approval) -> str:
    """'' when the stored evidence document is the one reviewed (or the approval recorded none), else what changed."""
    if not approval.evidence_digest:
        return ""
    document = ctx.repos.evidence.for_approval(approval.id)
    if document is None:
        return "the evidence document the approval was issued with is missing"
    try:
        current = evidence_document.digest(document)
    except Exception as error:  # noqa: BLE001 - one no digest can be taken over (a NaN edited in) is not the reviewed one
        return (f"the evidence document changed since the approval was requested (reviewed "
                f"{approval.evidence_digest}, now unreadable: {error.__class__.__name__})")
    if current != approval.evidence_digest:
        return (f"the evidence document changed since the approval was requested "
                f"(reviewed {approval.evidence_digest}, now {current})")
    return ""


def changes(ctx: PromotionContext, approval: Approval) -> list[str]:
    """What differs from what was reviewed, one sentence each; [] when nothing did."""
    return [change for change in (artifact_change(ctx, approval), evidence_change(ctx, approval)) if change]


def release_candidate(ctx: PromotionContext, approval: Approval) -> bool:
    """The void approval's candidate fails at the approval request (only if it still awaits that approval:
    a superseded or re-run one stays as it is), so POST .../redeploy re-runs gate, staging and a new
    approval with fresh evidence; True when it moved. Its staging deployment stays, and so does the
    production record's staging entry, which keeps the sweeper off it: the redeploy's deployment step
    replaces it by name and its approval request stages it again."""
    now = ctx.clock()
    try:
        candidate, moved = ctx.repos.candidates.change(
            approval.candidate_version, lambda c: c.approval_voided(approval.id, approval.reason, now))
    except NotFound:
        log.warning("approval %s is void; its candidate v%s is unknown", approval.id, approval.candidate_version)
        return False
    if moved:
        ctx.notifier.notify(notifications.candidate_failed(ctx, candidate.version, candidate.failed_step,
                                                           candidate.error))
    return moved


def serving_change(ctx: PromotionContext, approval: Approval) -> str:
    """'' when the staging deployment serves the approved version and its artifacts are the reviewed
    ones, else why traffic must not move to it."""
    deployment = ctx.endpoints.get_deployment(ctx.config.endpoint_name, approval.deployment)
    if deployment is None:
        return f"the staging deployment {approval.deployment} does not exist"
    if deployment.model_name != ctx.config.model_name or str(deployment.model_version) != approval.candidate_version:
        return (f"the staging deployment {approval.deployment} serves {deployment.model_name} "
                f"v{deployment.model_version}, not the approved v{approval.candidate_version}")
    return artifact_change(ctx, approval)
