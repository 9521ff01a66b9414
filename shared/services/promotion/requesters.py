"""Who asked for a candidate's training (the four-eyes rule: they may not approve it).

The version's `job_name` tag names its job. A job this service submitted carries its requesters
in the job record (the manual request's principal or named requester, the uploaders of the data
files). A job submitted outside the service (the retrain-on-code-change workflow) carries them
as the platform job's `requested_by` tag. Whoever registered the version, as the platform records
it (`ModelVersionInfo.created_by`), is a requester too: so a version registered by hand, which no
job knows, still has one. A platform that cannot be asked now raises PlatformError: the step is
retried, never taken on without knowing who may not approve.
"""
from __future__ import annotations

from shared.domain.errors import NotFound
from shared.domain.model_contract import JOB_NAME_TAG
from shared.domain.training import REQUESTED_BY_TAG, requesters
from shared.ports import ModelVersionInfo
from shared.services.promotion.context import PromotionContext


def requesters_of(ctx: PromotionContext, info: ModelVersionInfo) -> list[str]:
    creator = [info.created_by] if info.created_by else []
    return list(dict.fromkeys(_job_requesters(ctx, info) + creator))


def _job_requesters(ctx: PromotionContext, info: ModelVersionInfo) -> list[str]:
    job_name = (info.tags or {}).get(JOB_NAME_TAG)
    if not job_name:
        return []
    job = ctx.repos.jobs.find(job_name)
    if job is not None:
        return list(job.requested_by)
    try:
        status = ctx.platform.get_job(job_name)
    except NotFound:
        return []
    return requesters(status.tags.get(REQUESTED_BY_TAG, ""))
