"""The dashboard: the loop at a glance, server-rendered, refreshing itself (a meta refresh, no script).

`GET /api/dashboard` needs the function key. Behind App Service authentication (AUTH_MODE=app-service)
`GET /api/console/dashboard` is the same page for a signed-in principal on APPROVERS (anonymous at
the Functions level: App Service authentication signs the caller in); in any other mode it is 404.
`?format=json` gives the figures as JSON instead.
"""
from __future__ import annotations

import azure.functions as func

from blueprints.http import error_response, http_errors, json_response, query_choice
from blueprints.pages import dashboard as dashboard_page
from blueprints.pages import layout
from blueprints.requests import APP_SERVICE, auth_mode, signed_in
from shared.bootstrap import get_services
from shared.domain.errors import Unauthorized

bp = func.Blueprint()


@bp.route(route="dashboard", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def dashboard(req: func.HttpRequest) -> func.HttpResponse:
    return _render(req)


@bp.route(route="console/dashboard", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@http_errors
def console_dashboard(req: func.HttpRequest) -> func.HttpResponse:
    mode = auth_mode()
    if mode != APP_SERVICE:
        return error_response(404, "not found")  # the console exists only behind App Service authentication
    principal = signed_in(req, mode)
    if principal is None:
        raise Unauthorized("sign in: the console dashboard is for signed-in approvers")
    get_services().approvals.config.approvers.check(principal)
    return _render(req)


def _render(req: func.HttpRequest) -> func.HttpResponse:
    form = query_choice(req, "format", {"html", "json"}) or "html"
    services = get_services()
    overview = services.dashboard.overview()
    if form == "json":
        response = json_response(overview)
        response.headers["Cache-Control"] = "no-store"
        return response
    return layout.response(dashboard_page.title(overview), dashboard_page.body(overview),
                           refresh_seconds=dashboard_page.REFRESH_SECONDS)
