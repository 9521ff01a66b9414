"""Candidates: Azure ML's ModelRegistered events, the production record, and retries."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints import review_pages
from blueprints.http import accepted, domain_error_response, http_errors, json_response, page_response, query_choice
from blueprints.requests import page_params, version_param
from shared.bootstrap import get_services
from shared.domain.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)
bp = func.Blueprint()


@bp.event_grid_trigger(arg_name="event")
def on_model_registered(event: func.EventGridEvent) -> None:
    """Event Grid (or CloudEvents) ModelRegistered → the same command as the MLflow webhook."""
    envelope = {
        "id": event.id, "subject": event.subject, "eventType": event.event_type,
        "data": event.get_json(), "topic": event.topic,
    }
    outcome = get_services().model_events.receive_event_grid(envelope)
    log.info("ModelRegistered %s: %s", event.id, outcome.to_dict())


@bp.timer_trigger(arg_name="timer", schedule="%REGISTRY_RECONCILE_SCHEDULE%", run_on_startup=False)
def reconcile_registry(timer: func.TimerRequest) -> None:
    """The registry's versions that no event brought start their pipeline: a lost event costs one period."""
    report = get_services().model_events.reconcile()
    log.info("registry reconciliation: %s", report.to_dict())


@bp.route(route="candidates", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_candidates(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req)
    return page_response("candidates", get_services().candidates.list(limit, continuation))


@bp.route(route="candidates/{name}/{version}/redeploy", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def redeploy_candidate(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    name, version = req.route_params["name"], version_param(req)
    if name != services.settings.model_name:
        raise InvalidInput(f"this service handles model {services.settings.model_name!r}, not {name[:60]!r}")
    candidate = services.candidates.redeploy(version)
    return accepted(candidate.to_dict(), services.urls.candidates())


@bp.route(route="production", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def production(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_services().candidates.production().to_dict())


@bp.route(route="candidates/{name}/{version}/evidence", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def candidate_evidence(req: func.HttpRequest) -> func.HttpResponse:
    """The newest evidence document of a model version: the page, or `?format=json` the document itself.
    The page carries no decision link: deciding takes the signed links or the approvals API."""
    as_json = query_choice(req, "format", {"html", "json"}) == "json"
    try:
        services = get_services()
        name, version = req.route_params.get("name") or "", version_param(req)
        if name != services.settings.model_name:
            raise InvalidInput(f"this service handles model {services.settings.model_name!r}, not {name[:60]!r}")
        document = services.evidence.for_candidate(name, version)
    except DomainError as error:
        if as_json:
            return domain_error_response(error)
        return review_pages.problem(error.status, error.message, "Evidence not available")
    if as_json:
        return json_response(document)
    return review_pages.evidence_page(document, services.evidence.digest(document))
