"""Monitoring: drift checks (timer and on demand), their reports, scheduled retraining."""
from __future__ import annotations

import logging

import azure.functions as func

from blueprints.http import http_errors, json_response
from blueprints.requests import page_params, route_id
from shared.bootstrap import get_services

log = logging.getLogger(__name__)
bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="%DRIFT_CHECK_SCHEDULE%", run_on_startup=False)
def drift_check(timer: func.TimerRequest) -> None:
    services = get_services()
    record = services.drift.check_drift("timer")
    log.info("drift check %s: %s", record["id"], record["verdict"])
    estimate = services.performance.estimate_from_traffic()
    if estimate:
        log.info("estimated performance (CBPE) %s: %s, valid: %s", estimate["id"], estimate["metrics"], estimate["valid"])


@bp.timer_trigger(arg_name="timer", schedule="%RETRAIN_SCHEDULE%", run_on_startup=False)
def scheduled_retrain(timer: func.TimerRequest) -> None:
    log.info("scheduled retraining: %s", get_services().retraining.scheduled()["detail"])


@bp.route(route="drift/check", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def run_drift_check(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(get_services().drift.check_drift("manual"))


@bp.route(route="drift", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def drift_results(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req, default=20)
    return json_response(get_services().drift.latest(limit, continuation))


@bp.route(route="drift/reports/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def drift_report(req: func.HttpRequest) -> func.HttpResponse:
    html = get_services().drift.report(route_id(req, "id", "drift report"))
    return func.HttpResponse(html, status_code=200, mimetype="text/html", charset="utf-8",
                             headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
