"""Managed online deployments: PUT (create / update, an LRO that starts the deployment's scoring
server through context.scoring and waits until it is up or failed), GET, list, DELETE (LRO,
refused while the deployment takes traffic or while it or its endpoint has an operation in progress), getLogs. The fault "deployment_failed"
(match {"deployment", "endpoint"}) makes the operation end Failed without starting a server.

Shapes: mfe.json OnlineDeployment / ManagedOnlineDeployment / DeploymentLogs; see SPECS.md.
"""
from __future__ import annotations

import time
from typing import Any

from emulators.azure.http import Request, Response, Router

from . import rules
from .common import PROVIDER, UserError, body_properties, checked, page, system_data
from .endpoints import ENDPOINT, TERMINAL, Endpoints

TYPE = f"{PROVIDER}/workspaces/onlineEndpoints/deployments"
DEPLOYMENT = ENDPOINT + r"/deployments/(?P<deployment>[^/]+)"
READY_TIMEOUT_SECONDS = 900.0  # a scoring server that never answers fails the operation after this
POLL_SECONDS = 0.05


class Deployments:
    def __init__(self, context, operations, endpoints: Endpoints):
        self.context, self.config, self.store = context, context.config, context.store
        self.ops, self.endpoints = operations, endpoints

    def deployment_id(self, endpoint: str, name: str) -> str:
        return f"{self.endpoints.endpoint_id(endpoint)}/deployments/{name}"

    def require(self, endpoint: str, name: str) -> dict[str, Any]:
        body = self.store.get(self.deployment_id(endpoint, name))
        if body is None:
            raise UserError(404, f"Deployment {name} not found in endpoint {endpoint}, workspace "
                            f"{self.config.workspace}", "NotFound", deploymentName=name, endpointName=endpoint,
                            workspaceName=self.config.workspace)
        return body

    def get(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        self.endpoints.require(request.params["endpoint"])
        return Response(200, self.require(request.params["endpoint"], request.params["deployment"]))

    def list(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        self.endpoints.require(request.params["endpoint"])
        return page(self.endpoints.deployments(request.params["endpoint"]))

    def put(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        endpoint, name = request.params["endpoint"], request.params["deployment"]
        sent = body_properties(request)
        properties = sent.get("properties") or {}
        model_name, model_version = rules.model_reference(properties.get("model"))
        rules.check_data_collector(endpoint, name, properties.get("dataCollector"))
        did = self.deployment_id(endpoint, name)
        self.endpoints.require(endpoint)
        rules.check_model_exists(self.context.extras.get("registry"), self.config.workspace,  # not under the lock:
                                 model_name, model_version, self.config.mlflow_backing_url)  # a remote call
        with self.store.lock:
            endpoint_body = self.endpoints.require(endpoint)
            if endpoint_body["properties"]["provisioningState"] == "Deleting":
                raise UserError(409, f"Endpoint {endpoint} is being deleted.", "Conflict", endpointName=endpoint)
            existing = self.store.get(did)
            if existing is None:
                rules.check_deployment_name(name)
                rules.check_deployment_count(endpoint, len(self.endpoints.deployments(endpoint)))
            elif existing["properties"]["provisioningState"] not in TERMINAL:
                raise UserError(409, f"Deployment {name} of endpoint {endpoint} is in provisioning state "
                                f"{existing['properties']['provisioningState']}; wait for the operation in "
                                "progress to finish.", "Conflict", endpointName=endpoint, deploymentName=name)
            body = self._body(request, endpoint, name, sent, existing)
            self.store.put(did, body)
        fault = self.context.faults.take("deployment_failed", deployment=name, endpoint=endpoint)
        collector = properties.get("dataCollector")
        headers = self.ops.start(request, "od", lambda: self._provision(endpoint, name, model_name, model_version,
                                                                        collector, fault))
        return Response(200 if existing else 201, self.store.get(did), headers)

    def _body(self, request: Request, endpoint: str, name: str, sent: dict, existing: dict | None) -> dict:
        properties = dict(sent.get("properties") or {})
        sku = sent.get("sku") or {"name": "Default", "capacity": 1}
        properties.setdefault("endpointComputeType", "Managed")
        properties.setdefault("scaleSettings", {"scaleType": "Default"})
        properties.setdefault("requestSettings", {"maxConcurrentRequestsPerInstance": 1,
                                                  "requestTimeout": "PT5S", "maxQueueWait": "PT0.5S"})
        properties.setdefault("appInsightsEnabled", False)
        properties.setdefault("egressPublicNetworkAccess", "Enabled")
        properties.setdefault("properties", {})
        properties["provisioningState"] = "Updating" if existing else "Creating"
        return {"id": self.deployment_id(endpoint, name), "name": name, "type": TYPE,
                "location": self.config.location, "kind": sent.get("kind") or "Managed",
                "tags": sent.get("tags") or {}, "sku": sku,
                "systemData": system_data(request, existing=(existing or {}).get("systemData")),
                "properties": properties}

    def _provision(self, endpoint: str, name: str, model_name: str, model_version: str,
                   collector: dict | None, fault: dict | None) -> dict | None:
        time.sleep(self.ops.duration)
        if fault is not None:
            error = {"code": fault.get("code", "ResourceNotReady"),
                     "message": fault.get("message", f"User container has crashed or terminated for deployment "
                                          f"{name} of endpoint {endpoint}. (injected fault deployment_failed)")}
            return self._finish(endpoint, name, "Failed") or error
        scoring = self.context.scoring
        try:
            scoring.start_deployment(endpoint, name, model_name, model_version, collector)
        except Exception:
            self._finish(endpoint, name, "Failed")  # not left Creating; the operation reports the error
            raise
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        state, message = scoring.deployment_state(endpoint, name)
        while state == "Creating" and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            state, message = scoring.deployment_state(endpoint, name)
        if state != "Succeeded":
            return self._finish(endpoint, name, "Failed") or {
                "code": "ResourceNotReady", "message": message or f"Deployment {name} of endpoint {endpoint} "
                "did not become ready."}
        superseded = self._finish(endpoint, name, "Succeeded")
        if superseded is None:
            self.endpoints.publish(endpoint)
        return superseded

    def _finish(self, endpoint: str, name: str, state: str) -> dict | None:
        """End the create/update: its provisioning state becomes `state` only while it is Creating or
        Updating (a deletion begun meanwhile keeps Deleting); ARM's error when it was not."""
        did = self.deployment_id(endpoint, name)
        with self.store.lock:
            body = self.store.get(did)
            current = body["properties"]["provisioningState"] if body else "deleted"
            if current in ("Creating", "Updating"):
                self.store.update(did, lambda stored: stored["properties"].update(provisioningState=state))
                return None
        return {"code": "Conflict", "message": f"Deployment {name} of endpoint {endpoint} is {current.lower()}; "
                "the create or update operation did not complete."}

    def delete(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        endpoint, name = request.params["endpoint"], request.params["deployment"]
        did = self.deployment_id(endpoint, name)
        with self.store.lock:
            endpoint_body = self.endpoints.require(endpoint)
            existing = self.store.get(did)
            if existing is None:
                return Response(204)
            props = endpoint_body["properties"]
            for what, state in ((f"Endpoint {endpoint}", props["provisioningState"]),
                                (f"Deployment {name}", existing["properties"]["provisioningState"])):
                if state not in TERMINAL:  # e.g. a traffic change naming this deployment is pending
                    raise UserError(409, f"{what} is in provisioning state {state}; an operation is in progress. "
                                    "Wait for it to finish before deleting the deployment.", "Conflict",
                                    endpointName=endpoint, deploymentName=name)
            rules.check_deletable(endpoint, name, props.get("traffic") or {}, props.get("mirrorTraffic") or {})
            self.store.update(did, lambda body: body["properties"].update(provisioningState="Deleting"))
        return Response(202, None, self.ops.start(request, "od", lambda: self._remove(endpoint, name)))

    def _remove(self, endpoint: str, name: str) -> None:
        time.sleep(self.ops.duration)
        self.context.scoring.stop_deployment(endpoint, name)
        self.store.delete(self.deployment_id(endpoint, name))
        return None

    def get_logs(self, request: Request) -> Response:
        checked(request, self.config, TYPE)
        body = self.require(request.params["endpoint"], request.params["deployment"])
        state = body["properties"]["provisioningState"]
        return Response(200, {"content": f"Deployment {body['name']}: provisioning state {state}.\n"})


def register(router: Router, context, operations, endpoints: Endpoints) -> Deployments:
    deployments = Deployments(context, operations, endpoints)
    router.route("GET", ENDPOINT + r"/deployments/?", deployments.list)
    router.route("GET", DEPLOYMENT, deployments.get)
    router.route("PUT", DEPLOYMENT, deployments.put)
    router.route("DELETE", DEPLOYMENT, deployments.delete)
    router.route("POST", DEPLOYMENT + "/getLogs", deployments.get_logs)
    return deployments
