"""What every ARM route of the emulator shares: the workspace's path, scope and api-version checks,
ARM's error bodies for missing resources, list pages and systemData."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from emulators.azure.http import HttpError, Request, Response

from .apiversions import check_api_version

PROVIDER = "Microsoft.MachineLearningServices"
WS = (r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.MachineLearningServices"
      r"/workspaces/(?P<ws>[^/]+)")
NAME = r"(?P<name>[^/]+)"
VERSION = r"(?P<version>[^/]+)"


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def checked(request: Request, config, resource_type: str) -> str:
    """Check the request's api-version for `resource_type` and that it names the one emulated
    workspace (ARM's 404s otherwise); returns the workspace's resource id as configured."""
    check_api_version(request, resource_type, config.location)
    params = request.params
    if params.get("sub", "").lower() != config.subscription_id.lower():
        raise HttpError(404, "SubscriptionNotFound", f"The subscription '{params.get('sub')}' could not be found.")
    if params.get("rg", "").lower() != config.resource_group.lower():
        raise HttpError(404, "ResourceGroupNotFound", f"Resource group '{params.get('rg')}' could not be found.")
    if "ws" in params and params["ws"].lower() != config.workspace.lower():
        raise HttpError(404, "ResourceNotFound",
                        f"The Resource '{PROVIDER}/workspaces/{params['ws']}' under resource group "
                        f"'{params['rg']}' was not found. For more details please go to "
                        "https://aka.ms/ARMResourceNotFoundFix")
    return config.workspace_id


class UserError(HttpError):
    """Azure ML's user error: code "UserError" (what its services answer), the specific reason in
    innerError.code and the message's parameters as a MessageParameters additionalInfo."""

    def __init__(self, status: int, message: str, inner: str, **parameters: str):
        super().__init__(status, "UserError", message)
        self.inner, self.parameters = inner, parameters

    def response(self) -> Response:
        answer = super().response()
        error = answer.body["error"]
        error["details"] = []
        if self.parameters:
            error["additionalInfo"] = [{"type": "MessageParameters", "info": {"value": dict(self.parameters)}}]
        error["innerError"] = {"code": self.inner}
        return answer


def not_found(kind: str, name: str, config, **parameters: str) -> HttpError:
    return UserError(404, f"{kind} {name} not found in workspace {config.workspace}", "NotFound",
                      workspaceName=config.workspace, **parameters)


def page(items: Iterable[dict[str, Any]]) -> Response:
    """One page of a list (the emulator never pages: no nextLink)."""
    return Response(200, {"value": list(items)})


def system_data(request: Request, created_at: str | None = None, existing: dict | None = None) -> dict[str, Any]:
    """ARM's systemData: who created the resource and when, and the last change."""
    principal = request.principal
    who = getattr(principal, "oid", None) or getattr(principal, "appid", None) or "emulator"
    stamp = now()
    base = dict(existing or {"createdAt": created_at or stamp, "createdBy": who, "createdByType": "Application"})
    base.update({"lastModifiedAt": stamp, "lastModifiedBy": who, "lastModifiedByType": "Application"})
    return base


def json_object(request: Request, required: bool = False) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body unless `required`); ARM's 400 otherwise."""
    body = request.json()
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise HttpError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
    return body


def body_properties(request: Request) -> dict[str, Any]:
    body = json_object(request, required=True)
    properties = body.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise HttpError(400, "InvalidRequestContent", "The property 'properties' must be an object.")
    return body


def base_url(request: Request) -> str:
    """The scheme and authority the client used (for the URLs of operation headers)."""
    host = request.header("host") or request.host
    return f"https://{host}"

