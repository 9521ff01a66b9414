"""Training jobs: the debounce timer, job outcomes from the platform, and the jobs API."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints.http import http_errors, json_response, page_response
from blueprints.requests import json_body, page_params, requester, route_id, text_field
from shared.bootstrap import get_services
from shared.domain.errors import NotFound
from shared.domain.training import CANCELED, COMPLETED, FAILED, RUNNING

log = logging.getLogger(__name__)
bp = func.Blueprint()

# Azure ML run statuses → ours (RunStatusChanged / RunCompleted events).
RUN_STATUSES = {
    "completed": COMPLETED, "finished": COMPLETED,
    "failed": FAILED, "canceled": CANCELED, "cancelled": CANCELED,
    "running": RUNNING, "starting": RUNNING, "preparing": RUNNING, "queued": RUNNING, "finalizing": RUNNING,
}


@bp.timer_trigger(arg_name="timer", schedule="%TRAINING_SCHEDULER_SCHEDULE%", run_on_startup=False)
def training_scheduler(timer: func.TimerRequest) -> None:
    job = get_services().training.submit_due_training()
    if job:
        log.info("training job %s submitted on %d data files", job.name, len(job.batches))


@bp.event_grid_trigger(arg_name="event")
def on_job_status_changed(event: func.EventGridEvent) -> None:
    data = event.get_json() or {}
    job_name = data.get("runId") or data.get("RunId")
    if not isinstance(job_name, str) or not job_name:
        log.warning("job status event %s without runId: acknowledged and ignored", event.id)
        return
    try:
        job = get_services().training.record_job_status(job_name)
    except NotFound:
        log.info("job status event for %s, which this service did not submit: ignored", job_name)
        return
    log.info("job %s is %s", job.name, job.status)


@bp.route(route="jobs", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_jobs(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req)
    return page_response("jobs", get_services().training.list_jobs(limit, continuation))


@bp.route(route="jobs/{name}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def get_job(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_services().training.get_job(route_id(req, "name", "job")).to_dict())


@bp.route(route="training/request", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def request_training(req: func.HttpRequest) -> func.HttpResponse:
    """Retrain now on all accepted data (after the quiet period), e.g. after a change of training code."""
    fields = json_body(req, required=False)
    reason = text_field(fields, "reason", 500) or "requested over HTTP"
    training = get_services().training
    training.request_training(None, reason, requested_by=requester(req, fields))
    return json_response({"requested": True, "pending": training.pending_request()}, 202)


@bp.route(route="training-sets/current", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def current_training_set(req: func.HttpRequest) -> func.HttpResponse:
    """The batches (names, ETags, sha256, immutable copies) and manifest id a job submitted now would
    train on: what the retrain-on-code-change workflow submits with the checkout's training code."""
    return json_response(get_services().training.current_training_set().to_dict())
