"""The scoring front of online endpoints: POST https://<endpoint>.<location>.inference.localhost/score.

As Azure ML's front answers (Microsoft Learn, "Troubleshooting online endpoints deployment and
scoring", HTTP status codes): 401 without a valid key (`key_auth_bad_header_forbidden` when the
Authorization header is not `Bearer <key>`, `key_auth_access_denied` for a wrong key), 404 "No
valid deployments to route to..." when no deployment has live traffic and none is named, 408 when
the model does not answer in time, 424 when the model's server answers non-200 (its status and
reason in ms-azureml-model-error-statuscode / -reason), 502 when the model's server is gone.
A request naming a deployment (`azureml-model-deployment`) goes there and is never mirrored;
otherwise a deployment is drawn by live traffic weight and a copy goes to the mirror deployment
at its percent (its answer discarded). Every answer carries x-request-id / x-ms-request-id, and
azureml-model-deployment once a deployment was chosen.
"""
from __future__ import annotations

import hmac
import http.client
import json
import logging
import random
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from emulators.azure.http import Request, Response
from emulators.azure.online.collector import DataCollector, blob_name, envelope, now
from emulators.azure.online.host import Endpoint, Revision, ScoringHost
from emulators.local_ml.backend_pool import BackendPool
from emulators.local_ml.payloads import RequestError, to_mlflow_request, unwrap_predictions

log = logging.getLogger("azure_emulator.online")

DEPLOYMENT_HEADER = "azureml-model-deployment"
NO_ROUTE = ("No valid deployments to route to. Please check that the endpoint has at least one deployment "
            "with positive weight values or use a deployment specific header to route.")
BACKEND_TIMEOUT_SECONDS = 60.0
MAX_MIRRORS_IN_FLIGHT = 16


def scoring_host_pattern(location: str) -> str:
    """The scoring URIs' host, as a regular expression (the router matches it in full)."""
    return rf"(?P<endpoint>[a-z0-9-]+)\.{re.escape(location.lower())}\.inference\.localhost"


class ScoringFront:
    """Answers scoring requests from the host's endpoints and deployments."""

    def __init__(self, host: ScoringHost, collector: DataCollector, location: str, workspace_id: str):
        self.host = host
        self.collector = collector
        self.workspace_id = workspace_id
        self._host_name = re.compile(scoring_host_pattern(location))
        self._backends = BackendPool(BACKEND_TIMEOUT_SECONDS)
        self._mirrors = ThreadPoolExecutor(max_workers=4, thread_name_prefix="online-mirror")
        self._mirror_slots = threading.BoundedSemaphore(MAX_MIRRORS_IN_FLIGHT)
        self.mirrors_sent = 0  # copies handed to the mirror pool

    def score(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"x-request-id": request_id, "x-ms-request-id": request_id}
        if request.header("x-ms-client-request-id"):
            headers["x-ms-client-request-id"] = request.header("x-ms-client-request-id")
        match = self._host_name.fullmatch(request.host)
        endpoint = self.host.endpoint(match["endpoint"]) if match else None
        if endpoint is None:
            return _text(404, "Endpoint not found.", headers)
        denied = _denied(endpoint, request.header("authorization"))
        if denied:
            return _text(401, denied, headers)
        named = request.header(DEPLOYMENT_HEADER).strip()
        deployments = self.host.deployment_names(endpoint.name)
        if named:
            if named.lower() not in deployments:
                return _text(404, f"Deployment {named!r} not found on endpoint {endpoint.name!r}.", headers)
            chosen = named.lower()
        else:
            chosen = _pick({name: weight for name, weight in endpoint.traffic.items() if name in deployments})
            if chosen is None:
                return _text(404, NO_ROUTE, headers)
        headers[DEPLOYMENT_HEADER] = deployments[chosen]
        try:
            payload = to_mlflow_request(request.body)
        except RequestError as error:  # what the model's server would refuse: its 400, through the front
            return _model_error(400, json.dumps({"error_code": "BAD_REQUEST", "message": error.message}).encode(),
                                headers)
        if not named:
            mirror = _mirror_target(endpoint)
            if mirror is not None and mirror in deployments and mirror != chosen:
                self._mirror(endpoint, mirror, payload, request_id)
        return self._forward(endpoint, chosen, payload, request_id, headers)

    def _forward(self, endpoint: Endpoint, deployment: str, payload: bytes, request_id: str,
                 headers: dict[str, str]) -> Response:
        record, revision = self.host.serving(endpoint.name, deployment)
        if revision is None:
            return _text(503, "no healthy upstream", headers)
        try:
            status, content_type, data = self._backends.post(revision.server.port, payload)
        except TimeoutError:
            return _text(408, "Request timeout: the model did not answer in time.", headers)
        except (OSError, http.client.HTTPException):
            return _text(502, "User container has crashed or terminated.", headers)
        self.host.count(record)
        if status != 200:
            return _model_error(status, data, headers, content_type)
        self._collect(record.endpoint, record.name, revision, payload, request_id)
        return Response(200, unwrap_predictions(data), headers, "application/json")

    def _mirror(self, endpoint: Endpoint, deployment: str, payload: bytes, request_id: str) -> None:
        if not self._mirror_slots.acquire(blocking=False):
            return  # best effort, as on Azure: a busy mirror loses the copy

        def send() -> None:
            try:
                record, revision = self.host.serving(endpoint.name, deployment)
                if revision is None:
                    return
                status, _, _ = self._backends.post(revision.server.port, payload)
                self.host.count(record, mirrored=True)
                if status == 200:
                    self._collect(record.endpoint, record.name, revision, payload, request_id)
                else:
                    log.warning("%s: mirror deployment %s answered %d", endpoint.name, deployment, status)
            except (OSError, http.client.HTTPException) as error:
                log.warning("%s: mirror deployment %s failed (%s)", endpoint.name, deployment,
                            error.__class__.__name__)
            finally:
                self._mirror_slots.release()

        self.mirrors_sent += 1
        try:
            self._mirrors.submit(send)
        except RuntimeError:  # closed: the emulator is stopping
            self._mirror_slots.release()

    def _collect(self, endpoint: str, deployment: str, revision: Revision, payload: bytes, request_id: str) -> None:
        if not revision.collections:
            return
        split = json.loads(payload)["dataframe_split"]
        at = now()
        source = f"{self.workspace_id}/onlineEndpoints/{endpoint}/deployments/{deployment}"
        for collection in revision.collections:
            line = envelope(source, collection, split["columns"], split["data"], request_id, at)
            self.collector.collect(blob_name(endpoint, deployment, collection, at, revision.server.instance_id), line)

    def close(self) -> None:
        self._mirrors.shutdown(wait=True)


def _denied(endpoint: Endpoint, authorization: str) -> str | None:
    """Why the request may not score (Azure's words), or None for a valid endpoint key."""
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return "key_auth_bad_header_forbidden"
    given = key.strip().encode()
    if not any(hmac.compare_digest(given, known.encode()) for known in endpoint.keys):
        return "key_auth_access_denied"
    return None


def _pick(weights: dict[str, int]) -> str | None:
    if not weights:
        return None
    names = list(weights)
    return names[0] if len(names) == 1 else random.choices(names, weights=[weights[n] for n in names])[0]


def _mirror_target(endpoint: Endpoint) -> str | None:
    """A mirror deployment for this request's copy, drawn at its percent; else None."""
    draw = random.random() * 100
    for name, percent in endpoint.mirror.items():
        if draw < percent:
            return name
        draw -= percent
    return None


def _text(status: int, message: str, headers: dict[str, str]) -> Response:
    return Response(status, message, dict(headers), "text/plain; charset=utf-8")


def _model_error(status: int, data: bytes, headers: dict[str, str], content_type: str = "application/json") -> Response:
    reason = http.client.responses.get(status, "model error")
    return Response(424, data, {**headers, "ms-azureml-model-error-statuscode": str(status),
                                "ms-azureml-model-error-reason": reason}, content_type or "application/json")
