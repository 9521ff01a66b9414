"""The audit trail's check (function key): is every decision entry still as it was recorded?"""
from __future__ import annotations

import azure.functions as func

from blueprints.http import http_errors, json_response
from shared.bootstrap import get_services

bp = func.Blueprint()


@bp.route(route="audit/verify", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@http_errors
def verify_audit(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    check = services.audit.verify()
    # 200 either way: a broken chain is a finding about the log, not a failure of this request.
    return json_response({**check.as_json(), "retention_days": services.settings.storage.audit_retention_days})
