"""ARM's model containers and versions of the workspace (GET and list, paged with nextLink and
$skipToken), read from the backing registry: what MLClient.models.get/list call."""
from __future__ import annotations

from urllib.parse import urlencode

from emulators.azure.arm.common import NAME, VERSION, WS, checked, not_found
from emulators.azure.http import HttpError, Request, Response, Router

from .registry import Registry

DEFAULT_TOP = 100
MAX_TOP = 1000


class ArmModels:
    """.../workspaces/{ws}/models[/{name}[/versions[/{version}]]]"""

    def __init__(self, config, registry: Registry):
        self.config, self.registry = config, registry

    def register(self, router: Router) -> None:
        base = WS + r"/models"
        router.route("GET", base + r"/?", self.list_containers)
        router.route("GET", base + "/" + NAME + r"/?", self.get_container)
        router.route("GET", base + "/" + NAME + r"/versions/?", self.list_versions)
        router.route("GET", base + "/" + NAME + r"/versions/" + VERSION + r"/?", self.get_version)

    def list_containers(self, request: Request) -> Response:
        checked(request, self.config, "workspaces/models")
        items, token = self.registry.list_containers(request.query.get("$skipToken"), _top(request))
        return _page(request, items, token)

    def get_container(self, request: Request) -> Response:
        checked(request, self.config, "workspaces/models")
        body = self.registry.get_container(request.params["name"])
        if body is None:
            raise not_found("Model container", request.params["name"], self.config)
        return Response(200, body)

    def list_versions(self, request: Request) -> Response:
        checked(request, self.config, "workspaces/models/versions")
        name = request.params["name"]
        items, token = self.registry.list_versions(name, request.query.get("$skipToken"), _top(request))
        wanted = request.query.get("version")
        if wanted:
            items = [item for item in items if item["name"] == wanted]
        return _page(request, items, token)

    def get_version(self, request: Request) -> Response:
        checked(request, self.config, "workspaces/models/versions")
        name, version = request.params["name"], request.params["version"]
        body = self.registry.get_version(name, version) if version.isdigit() else None
        if body is None:
            raise not_found("Model", f"{name}:{version}", self.config)
        return Response(200, body)


def _top(request: Request) -> int:
    raw = request.query.get("$top")
    if not raw:
        return DEFAULT_TOP
    try:
        top = int(raw)
    except ValueError:
        raise HttpError(400, "InvalidQueryParameterValue", f"The value '{raw}' of $top is not an integer.")
    return max(1, min(top, MAX_TOP))


def _page(request: Request, items: list, token: str | None) -> Response:
    body: dict = {"value": items}
    if token:
        query = {k: v for k, v in request.query.items() if k != "$skipToken"}
        query["$skipToken"] = token
        body["nextLink"] = f"https://{request.header('host') or request.host}{request.path}?{urlencode(query)}"
    return Response(200, body)
