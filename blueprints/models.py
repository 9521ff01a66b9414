"""Model-registered events: the MLflow registry webhook (local backend) and the recorded versions."""
from __future__ import annotations

import azure.functions as func

from blueprints.http import http_errors, json_response, page_response
from blueprints.requests import page_params
from shared.bootstrap import get_services

bp = func.Blueprint()


# Anonymous at the host: the HMAC signature over the body is this endpoint's credential.
@bp.route(route="mlflow/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@http_errors
def mlflow_webhook(req: func.HttpRequest) -> func.HttpResponse:
    outcome = get_services().model_events.receive_mlflow_webhook(dict(req.headers), req.get_body())
    return json_response(outcome.to_dict())


@bp.route(route="models", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_models(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req)
    return page_response("versions", get_services().model_events.list_registered(limit, continuation), dict)


@bp.route(route="models/rejected", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def list_rejected_models(req: func.HttpRequest) -> func.HttpResponse:
    limit, continuation = page_params(req)
    return page_response("rejected", get_services().model_events.list_rejected(limit, continuation), dict)
