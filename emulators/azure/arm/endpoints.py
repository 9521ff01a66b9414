"""Managed online endpoints: PUT (create / update traffic, an LRO), GET, list, DELETE (LRO),
listKeys, regenerateKeys (LRO), token (key endpoints have none). Every write is passed on to
the scoring host (context.scoring.set_endpoint) once it is applied.

Shapes: mfe.json OnlineEndpoint / EndpointAuthKeys / RegenerateEndpointKeysRequest; see SPECS.md.
"""
from __future__ import annotations

import secrets
import time
from typing import Any

from emulators.azure.http import HttpError, Request, Response, Router

from . import rules
from .common import PROVIDER, WS, UserError, body_properties, checked, json_object, page, system_data

TYPE = f"{PROVIDER}/workspaces/onlineEndpoints"
ENDPOINT = WS + r"/onlineEndpoints/(?P<endpoint>[^/]+)"
TERMINAL = ("Succeeded", "Failed", "Canceled")


class Endpoints:
    """Endpoint routes and what the deployments' routes ask of endpoints."""

    def __init__(self, context, operations):
        self.context, self.config, self.store, self.ops = context, context.config, context.store, operations

    # ---------------------------------------------------------------- helpers for both parts
    def endpoint_id(self, name: str) -> str:
        return f"{self.config.workspace_id}/onlineEndpoints/{name}"

    def require(self, name: str) -> dict[str, Any]:
        body = self.store.get(self.endpoint_id(name))
        if body is None:
            raise UserError(404, f"Endpoint {name} not found in workspace {self.config.workspace}", "NotFound",
                            endpointName=name, workspaceName=self.config.workspace)
        return body

    def deployments(self, name: str) -> list[dict[str, Any]]:
        return self.store.children(self.endpoint_id(name) + "/deployments")

    def keys(self, name: str) -> dict[str, str]:
        return self.store.get(self.endpoint_id(name) + "/keys/current") or {}

    def publish(self, name: str) -> None:
        """Tell the scoring host the endpoint's keys and applied traffic."""
        body, keys = self.store.get(self.endpoint_id(name)), self.keys(name)
        if body is None:
            return
        properties = body["properties"]
        self.context.scoring.set_endpoint(name, (keys.get("primaryKey", ""), keys.get("secondaryKey", "")),
                                          dict(properties.get("traffic") or {}),
                                          dict(properties.get("mirrorTraffic") or {}))

    def _wait(self) -> None:
        time.sleep(self.ops.duration)

    # ---------------------------------------------------------------------------- routes
    def get(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        return Response(200, self.require(request.params["endpoint"]))

    def list(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        return page(self.store.children(f"{self.config.workspace_id}/onlineEndpoints"))

    def put(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        name = request.params["endpoint"]
        sent = body_properties(request)
        properties = sent.get("properties") or {}
        eid = self.endpoint_id(name)
        with self.store.lock:
            existing = self.store.get(eid)
            if existing is None:
                rules.check_endpoint_name(name)
            elif existing["properties"]["provisioningState"] not in TERMINAL:
                raise UserError(409, f"Endpoint {name} is in provisioning state "
                                f"{existing['properties']['provisioningState']}; wait for the operation in "
                                "progress to finish.", "Conflict", endpointName=name)
            states = {d["name"]: d["properties"].get("provisioningState", "") for d in self.deployments(name)}
            live, mirror = rules.check_traffic(name, properties.get("traffic"), properties.get("mirrorTraffic"),
                                               states)
            auth = properties.get("authMode") or "Key"
            if auth not in ("Key", "AMLToken", "AADToken"):
                raise rules.bad_argument(f"Invalid authMode '{auth}' for endpoint {name}.")
            body = self._body(request, name, sent, existing, auth)
            body["properties"]["provisioningState"] = "Updating" if existing else "Creating"
            self.store.put(eid, body)
            if existing is None:
                self.store.put(eid + "/keys/current", {"primaryKey": secrets.token_urlsafe(32),
                                                       "secondaryKey": secrets.token_urlsafe(32)})
        if existing is None:
            self.publish(name)  # the scoring host knows the keys from the start (no traffic yet)
        headers = self.ops.start(request, "oe", lambda: self._apply(name, live, mirror))
        return Response(200 if existing else 201, self.store.get(eid), headers)

    def _body(self, request: Request, name: str, sent: dict, existing: dict | None, auth: str) -> dict[str, Any]:
        config = self.config
        old = (existing or {}).get("properties", {})
        sent_properties = sent.get("properties") or {}
        host = f"{name}.{config.location}.inference.localhost:{config.https_port}"
        return {
            "id": self.endpoint_id(name), "name": name, "type": TYPE, "location": config.location,
            "kind": sent.get("kind") or "Managed", "tags": sent.get("tags") or {},
            "identity": sent.get("identity") or {"type": "SystemAssigned", "tenantId": config.tenant_id,
                                                 "principalId": (existing or {}).get("identity", {}).get(
                                                     "principalId") or secrets.token_hex(16)},
            "systemData": system_data(request, existing=(existing or {}).get("systemData")),
            "properties": {
                "authMode": auth, "description": sent_properties.get("description"),
                "properties": {**(sent_properties.get("properties") or {}),
                               "azureml.onlineendpointid": self.endpoint_id(name).lower(),
                               "AzureAsyncOperationUri": ""},
                "scoringUri": f"https://{host}/score", "swaggerUri": f"https://{host}/swagger.json",
                "publicNetworkAccess": sent_properties.get("publicNetworkAccess") or "Enabled",
                "traffic": dict(old.get("traffic") or {}), "mirrorTraffic": dict(old.get("mirrorTraffic") or {}),
                "provisioningState": old.get("provisioningState", "Creating"),
            },
        }

    def _apply(self, name: str, live: dict, mirror: dict) -> dict | None:
        """The operation: after its duration the new traffic takes effect."""
        self._wait()
        with self.store.lock:  # the deployments named are checked and the traffic written at once
            present = {d["name"].lower(): d["properties"].get("provisioningState")
                       for d in self.deployments(name)}
            gone = sorted(d for d in {**live, **mirror} if present.get(d.lower(), "Deleting") == "Deleting")

            def change(body: dict) -> None:
                if gone:
                    body["properties"].update(provisioningState="Failed")
                else:
                    body["properties"].update(traffic=live, mirrorTraffic={k: v for k, v in mirror.items() if v},
                                              provisioningState="Succeeded")
            if self.store.update(self.endpoint_id(name), change) is None:
                return {"code": "NotFound", "message": f"Endpoint {name} was deleted during the operation."}
        if gone:
            return {"code": "BadArgument", "message": f"Deployment(s) {', '.join(gone)} in the traffic of endpoint "
                    f"{name} no longer exist; the traffic was not changed."}
        self.publish(name)
        return None

    def delete(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        name = request.params["endpoint"]
        eid = self.endpoint_id(name)
        with self.store.lock:
            if self.store.update(eid, lambda b: b["properties"].update(provisioningState="Deleting")) is None:
                return Response(204)
            for deployment in self.deployments(name):
                self.store.update(deployment["id"], lambda b: b["properties"].update(provisioningState="Deleting"))
        return Response(202, None, self.ops.start(request, "oe", lambda: self._remove(name)))

    def _remove(self, name: str) -> None:
        self._wait()
        eid = self.endpoint_id(name)
        for deployment in self.deployments(name):
            self.store.delete(deployment["id"])
        self.store.delete(eid + "/keys/current")
        self.store.delete(eid)
        self.context.scoring.remove_endpoint(name)
        return None

    def list_keys(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        name = request.params["endpoint"]
        if self.require(name)["properties"]["authMode"] != "Key":
            raise rules.bad_argument(f"Endpoint {name} does not use key authentication.", endpointName=name)
        return Response(200, self.keys(name))

    def regenerate_keys(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        name = request.params["endpoint"]
        self.require(name)
        sent = json_object(request)
        which = {"primary": "primaryKey", "secondary": "secondaryKey"}.get(str(sent.get("keyType", "")).lower())
        if which is None:
            raise rules.bad_argument("keyType must be Primary or Secondary.", endpointName=name)
        value = sent.get("keyValue")
        if not value or value == self.keys(name).get(which):  # the SDK sends the current key: a new one is made
            value = secrets.token_urlsafe(32)

        def regenerate() -> None:
            self._wait()
            self.store.update(self.endpoint_id(name) + "/keys/current", lambda keys: keys.update({which: value}))
            self.publish(name)
        return Response(202, None, self.ops.start(request, "oe", regenerate))

    def token(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        name = request.params["endpoint"]
        if self.require(name)["properties"]["authMode"] != "AMLToken":
            raise rules.bad_argument(f"Endpoint {name} does not use token authentication.", endpointName=name)
        raise HttpError(501, "NotImplemented", "The emulator serves key endpoints only.")


def register(router: Router, context, operations) -> Endpoints:
    endpoints = Endpoints(context, operations)
    router.route("GET", WS + r"/onlineEndpoints/?", endpoints.list)
    router.route("GET", ENDPOINT, endpoints.get)
    router.route("PUT", ENDPOINT, endpoints.put)
    router.route("DELETE", ENDPOINT, endpoints.delete)
    router.route("POST", ENDPOINT + "/listKeys", endpoints.list_keys)
    router.route("POST", ENDPOINT + "/regenerateKeys", endpoints.regenerate_keys)
    router.route("POST", ENDPOINT + "/token", endpoints.token)
    return endpoints
