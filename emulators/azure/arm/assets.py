"""Code, data and environment assets: containers and their versions (PUT, GET, list).

A version PUT creates its container when missing; a version is immutable in what it points at
(409 UserError when a PUT changes it, description and tags may change). Lists honour what the
SDK sends: $orderBy=createdtime desc + $top=1 (how `@latest` resolves), hash + hashVersion (the
code upload's lookup of an identical snapshot), listViewType. Shapes: mfe.json CodeContainer,
CodeVersion, DataContainer, DataVersionBase, EnvironmentContainer, EnvironmentVersion.
"""
from __future__ import annotations

from typing import Any

from emulators.azure.http import HttpError, Request, Response, Router

from .common import NAME, PROVIDER, VERSION, WS, UserError, body_properties, checked, page, system_data

KINDS = {  # path segment → (ARM type segment, what the messages call it, fields a version may not change)
    "codes": ("codes", "Code", ("codeUri",)),
    "data": ("data", "Data", ("dataUri", "dataType")),
    "environments": ("environments", "Environment", ("image", "condaFile", "build", "osType")),
}
KIND = r"(?P<kind>codes|data|environments)"


def container_id(workspace_id: str, kind: str, name: str) -> str:
    return f"{workspace_id}/{kind}/{name}"


def _versions(store, cid: str) -> list[dict[str, Any]]:
    return [v for v in store.children(cid + "/versions")]


def _next_version(versions: list[dict[str, Any]]) -> str:
    numbers = [int(v["name"]) for v in versions if str(v["name"]).isdigit()]
    return str(max(numbers) + 1) if numbers else "1"


def _latest(versions: list[dict[str, Any]]) -> str | None:
    newest = sorted(versions, key=lambda v: v["systemData"]["createdAt"])
    return newest[-1]["name"] if newest else None


class Assets:
    """The routes' logic over the resource store."""

    def __init__(self, context):
        self.config, self.store = context.config, context.store

    def _scope(self, request: Request) -> tuple[str, str, str, str]:
        kind = request.params["kind"].lower()
        checked(request, self.config, f"{PROVIDER}/workspaces/{kind}")
        name = request.params["name"] if "name" in request.params else ""
        return kind, KINDS[kind][1], name, container_id(self.config.workspace_id, kind, name)

    def refresh_container(self, kind: str, name: str, request: Request, seed: dict | None = None) -> dict:
        """Create the container when missing and recompute latestVersion / nextVersion."""
        cid = container_id(self.config.workspace_id, kind, name)
        with self.store.lock:
            current = self.store.get(cid) or {
                "id": cid, "name": name, "type": f"{PROVIDER}/workspaces/{kind}",
                "systemData": system_data(request),
                "properties": {"description": None, "tags": {}, "properties": {}, "isArchived": False},
            }
            if seed:
                for key in ("description", "tags", "properties", "isArchived"):
                    if key in seed:
                        current["properties"][key] = seed[key]
            versions = _versions(self.store, cid)
            current["properties"].update(latestVersion=_latest(versions), nextVersion=_next_version(versions),
                                         provisioningState="Succeeded")
            return self.store.put(cid, current)

    def get_container(self, request: Request) -> Response:
        kind, label, name, cid = self._scope(request)
        body = self.store.get(cid)
        if body is None:
            raise UserError(404, f"{label} container {name} not found in workspace {self.config.workspace}",
                            "NotFound", name=name, workspaceName=self.config.workspace)
        return Response(200, body)

    def put_container(self, request: Request) -> Response:
        kind, _, name, cid = self._scope(request)
        existed = self.store.get(cid) is not None
        body = self.refresh_container(kind, name, request, body_properties(request).get("properties") or {})
        return Response(200 if existed else 201, body)

    def list_containers(self, request: Request) -> Response:
        kind, *_ = self._scope(request)
        items = self.store.children(f"{self.config.workspace_id}/{kind}")
        return page(_view(items, request))

    def get_version(self, request: Request) -> Response:
        kind, label, name, cid = self._scope(request)
        version = request.params["version"]
        body = self.store.get(f"{cid}/versions/{version}")
        if body is None:
            raise UserError(404, f"{label} {name}:{version} not found in workspace {self.config.workspace}",
                            "NotFound", name=name, version=version, workspaceName=self.config.workspace)
        return Response(200, body)

    def put_version(self, request: Request) -> Response:
        kind, label, name, cid = self._scope(request)
        version = request.params["version"]
        sent = body_properties(request).get("properties") or {}
        vid = f"{cid}/versions/{version}"
        with self.store.lock:
            existing = self.store.get(vid)
            if existing is not None:
                _check_unchanged(label, name, version, existing["properties"], sent, KINDS[kind][2])
            properties = {"description": None, "tags": {}, "properties": {}, "isAnonymous": False,
                          "isArchived": False, **(existing or {}).get("properties", {}), **sent,
                          "provisioningState": "Succeeded"}
            body = {"id": vid, "name": version, "type": f"{PROVIDER}/workspaces/{kind}/versions",
                    "systemData": system_data(request, existing=(existing or {}).get("systemData")),
                    "properties": properties}
            stored = self.store.put(vid, body)
            self.refresh_container(kind, name, request)
        return Response(200 if existing else 201, stored)

    def list_versions(self, request: Request) -> Response:
        kind, _, name, cid = self._scope(request)
        items = _view(_versions(self.store, cid), request)
        wanted_hash = request.query.get("hash")
        if wanted_hash:
            hash_version = request.query.get("hashVersion")
            items = [v for v in items if (v["properties"].get("properties") or {}).get("hash_sha256") == wanted_hash
                     and (not hash_version or str((v["properties"].get("properties") or {}).get("hash_version"))
                          == hash_version)]
        order = request.query.get("$orderBy", "").lower()
        items.sort(key=lambda v: v["systemData"]["createdAt"], reverse="desc" in order or not order)
        top = request.query.get("$top")
        if top:
            if not top.isdigit():
                raise HttpError(400, "InvalidQueryParameterValue", f"The value '{top}' of $top is not a number.")
            items = items[: int(top)]
        return page(items)


def _view(items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
    view = request.query.get("listViewType", "ActiveOnly").lower()
    if view == "all":
        return items
    archived = view == "archivedonly"
    return [i for i in items if bool(i["properties"].get("isArchived")) == archived]


def _check_unchanged(label: str, name: str, version: str, stored: dict, sent: dict, fields: tuple) -> None:
    for field in fields:
        if field in sent and sent[field] != stored.get(field):
            message = ("Asset paths cannot be updated." if field in ("codeUri", "dataUri") else
                       f"{label} {name}:{version} already exists with a different {field}; "
                       "versions are immutable, create a new version.")
            raise UserError(409, message, "Conflict", name=name, version=version)


def register(router: Router, context) -> None:
    assets = Assets(context)
    router.route("GET", WS + f"/{KIND}/?", assets.list_containers)
    router.route("GET", WS + f"/{KIND}/{NAME}", assets.get_container)
    router.route("PUT", WS + f"/{KIND}/{NAME}", assets.put_container)
    router.route("GET", WS + f"/{KIND}/{NAME}/versions/?", assets.list_versions)
    router.route("GET", WS + f"/{KIND}/{NAME}/versions/{VERSION}", assets.get_version)
    router.route("PUT", WS + f"/{KIND}/{NAME}/versions/{VERSION}", assets.put_version)
    context.extras["assets"] = assets
