"""A fake Azure Resource Manager / Azure ML for the contract tests: an azure-core HttpTransport
that answers the SDK's requests from a small routing table and in-memory resources, records
every request, and can inject failures (409, 429 + Retry-After, 5xx, failed or endless
long-running operations).

Response bodies are built from the hand-written fixtures in fixtures/ (shapes of the Azure ML
REST API: model versions carry `properties.flavors`, deployments `properties.scaleSettings`).
Long-running PUT/DELETE answer 201/202 with an `Azure-AsyncOperation` URL that the poller
follows; the change is applied only when the operation succeeds (a failed one leaves the
resource as it was). `sleep` records the wait instead of sleeping.
"""
from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict

FIXTURES = Path(__file__).parent / "fixtures"
ARM = "https://management.azure.com"
SUB, RG, WS = "00000000-aaaa-bbbb-cccc-000000000000", "rg-retrain", "mlw-retrain"
WS_PATH = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
           f"Microsoft.MachineLearningServices/workspaces/{WS}")
PROVIDER = "Microsoft.MachineLearningServices"


def fixture(name: str, **values: str) -> dict:
    text = (FIXTURES / name).read_text()
    for key, value in {"sub": SUB, "rg": RG, "ws": WS, **values}.items():
        text = text.replace("{" + key + "}", str(value))
    return json.loads(text)


class FakeCredential:
    """A TokenCredential (and SupportsTokenInfo) with a dummy token."""

    def __init__(self):
        self.scopes: list[tuple] = []

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("dummy-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None) -> AccessTokenInfo:
        self.scopes.append(scopes)
        return AccessTokenInfo("dummy-token", int(time.time()) + 3600)


class _Raw:
    def close(self) -> None:
        pass


class FakeResponse(HttpResponseImpl):
    """An azure.core.rest HttpResponse with its body already read."""

    def __init__(self, request, status: int, body=None, headers: dict | None = None):
        if body is None:
            data, content_type = b"", None
        elif isinstance(body, bytes):
            data, content_type = body, "application/octet-stream"
        else:
            data, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        all_headers = {"x-ms-request-id": "fake", **({"Content-Type": content_type} if content_type else {}),
                       **(headers or {})}
        super().__init__(request=request, internal_response=_Raw(), status_code=status,
                         reason={200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}.get(status, "Error"),
                         content_type=all_headers.get("Content-Type"), headers=case_insensitive_dict(all_headers),
                         stream_download_generator=None)
        self._content = data


@dataclass
class Recorded:
    method: str
    url: str
    path: str
    query: dict
    headers: dict
    body: object

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    def __repr__(self) -> str:
        return f"{self.method} {self.path}?api-version={self.api_version}"


@dataclass
class Fault:
    method: str
    pattern: re.Pattern
    responses: list  # (status, body, headers)
    hits: int = 0


@dataclass
class Operation:
    apply: object  # callable run when the operation succeeds
    polls_left: int
    outcome: str  # "Succeeded" | "Failed" | "Running" (never ends)
    error: dict = field(default_factory=dict)


def arm_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class FakeArm(HttpTransport):
    def __init__(self):
        self.requests: list[Recorded] = []
        self.sleeps: list[float] = []
        self.faults: list[Fault] = []
        self.jobs: dict[str, dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.models: dict[str, dict[str, dict]] = {}
        self.model_page_size = 100  # versions per page of a model version listing
        self.endpoints: dict[str, dict] = {}
        self.deployments: dict[str, dict[str, dict]] = {}
        self.undo: dict = {}  # operation id → what a failed operation takes back
        self.operations: dict[str, Operation] = {}
        self.lro_outcome = "Succeeded"
        self.lro_error = arm_error("InternalServerError", "")
        self.lro_polls = 1
        self.scoring_answers: list[tuple[int, object]] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- HttpTransport
    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def sleep(self, duration):
        self.sleeps.append(float(duration))
        time.sleep(0.002)  # pollers of never-ending operations must not spin

    def send(self, request, **kwargs):
        with self._lock:
            url = urlsplit(request.url)
            raw = request.content if hasattr(request, "content") else request.data
            try:
                body = json.loads(raw) if raw else None
            except (TypeError, ValueError):
                body = raw
            record = Recorded(request.method, request.url, url.path,
                              {k: v[0] for k, v in parse_qs(url.query).items()}, dict(request.headers), body)
            self.requests.append(record)
            for fault in self.faults:
                if fault.responses and fault.method == request.method and fault.pattern.search(url.path):
                    status, fault_body, headers = fault.responses.pop(0)
                    fault.hits += 1
                    return FakeResponse(request, status, fault_body, headers)
            return self._route(request, record)

    # -- test helpers
    def fail(self, method: str, path_pattern: str, *responses: tuple) -> Fault:
        """The next matching requests get these (status, body, headers) answers, in order."""
        fault = Fault(method, re.compile(path_pattern), [r if len(r) == 3 else (*r, {}) for r in responses])
        self.faults.append(fault)
        return fault

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests
                if (method is None or r.method == method) and contains in r.path and "management" in r.url]

    def reset_log(self) -> None:
        self.requests.clear()
        self.sleeps.clear()

    def add_model_version(self, model: str, version: str, job: str, training_set_id: str = "ts-1") -> dict:
        body = fixture("model_version.json", model=model, version=version, job=job, training_set_id=training_set_id)
        self.models.setdefault(model, {})[version] = body
        return body

    def add_endpoint(self, name: str, traffic: dict | None = None, mirror: dict | None = None) -> None:
        body = fixture("online_endpoint.json", endpoint=name)
        body["properties"]["traffic"] = dict(traffic or {})
        body["properties"]["mirrorTraffic"] = dict(mirror or {})
        self.endpoints[name] = body
        self.deployments.setdefault(name, {})

    def add_deployment(self, endpoint: str, name: str, model: str, version: str, state: str = "Succeeded") -> None:
        body = fixture("online_deployment.json", endpoint=endpoint, deployment=name, model=model, version=version)
        body["properties"]["provisioningState"] = state
        self.deployments.setdefault(endpoint, {})[name] = body

    # -- routing
    def _route(self, request, rec: Recorded):
        method, path = rec.method, rec.path
        if "inference.ml.azure.com" in rec.url:
            return self._score(request, rec)
        if "/mfeOperationsStatus/" in path:
            return self._poll(request, path.rsplit("/", 1)[1])
        if not path.startswith(WS_PATH):
            return FakeResponse(request, 404, arm_error("ResourceNotFound", f"no route for {method} {path}"))
        sub = path[len(WS_PATH):]
        if method == "GET" and sub == "":
            return FakeResponse(request, 200, fixture("workspace.json"))
        m = re.fullmatch(r"/codes/([^/]+)/versions", sub)
        if m and method == "GET":  # lookup by content hash: the snapshot is registered already
            return FakeResponse(request, 200, {"value": [fixture("code_version.json")]})
        if re.fullmatch(r"/codes/[^/]+/versions/[^/]+", sub) and method == "GET":
            return FakeResponse(request, 200, fixture("code_version.json"))
        m = re.fullmatch(r"/environments/([^/]+)/versions", sub)
        if m and method == "GET":
            if m[1] != "diabetes-train-env":
                return FakeResponse(request, 404, arm_error("ResourceNotFound", f"environment {m[1]} not found"))
            return FakeResponse(request, 200, {"value": [fixture("environment_version.json")]})
        m = re.fullmatch(r"/environments/([^/]+)/versions/([^/]+)", sub)
        if m and method == "PUT":  # an anonymous (inline conda) environment
            body = copy.deepcopy(rec.body)
            body.update(id=path, name=m[2])
            return FakeResponse(request, 200, body)
        m = re.fullmatch(r"/data/([^/]+)/versions/([^/]+)", sub)
        if m:
            return self._data(request, rec, m[1], m[2])
        m = re.fullmatch(r"/jobs/([^/]+)", sub)
        if m:
            return self._job(request, rec, m[1])
        m = re.fullmatch(r"/models/([^/]+)/versions", sub)
        if m and method == "GET":
            return self._model_versions(request, rec, m[1])
        m = re.fullmatch(r"/models/([^/]+)/versions/([^/]+)", sub)
        if m and method == "GET":
            found = self.models.get(m[1], {}).get(m[2])
            if found is None:
                return FakeResponse(request, 404, arm_error("UserError", f"model {m[1]}:{m[2]} not found"))
            return FakeResponse(request, 200, found)
        m = re.fullmatch(r"/onlineEndpoints/([^/]+)", sub)
        if m:
            return self._endpoint(request, rec, m[1])
        m = re.fullmatch(r"/onlineEndpoints/([^/]+)/listKeys", sub)
        if m and method == "POST":
            if m[1] not in self.endpoints:
                return FakeResponse(request, 404, arm_error("ResourceNotFound", f"endpoint {m[1]} not found"))
            return FakeResponse(request, 200, fixture("endpoint_keys.json"))
        m = re.fullmatch(r"/onlineEndpoints/([^/]+)/deployments", sub)
        if m and method == "GET":
            if m[1] not in self.endpoints:
                return FakeResponse(request, 404, arm_error("ResourceNotFound", f"endpoint {m[1]} not found"))
            return FakeResponse(request, 200, {"value": list(self.deployments.get(m[1], {}).values())})
        m = re.fullmatch(r"/onlineEndpoints/([^/]+)/deployments/([^/]+)", sub)
        if m:
            return self._deployment(request, rec, m[1], m[2])
        return FakeResponse(request, 404, arm_error("ResourceNotFound", f"no route for {method} {path}"))

    def _model_versions(self, request, rec, name):
        """Model Versions - List: a page of `value` and, while more remain, a `nextLink` that
        repeats the query with `$skip` (the service's continuation token)."""
        versions = self.models.get(name, {})
        ordered = [versions[v] for v in sorted(versions, key=int, reverse=True)]
        start = int(rec.query.get("$skip") or 0)
        page = ordered[start:start + self.model_page_size]
        body = {"value": page}
        if start + self.model_page_size < len(ordered):
            body["nextLink"] = (f"{ARM}{rec.path}?api-version={rec.api_version}"
                                f"&$skip={start + self.model_page_size}&listViewType=ActiveOnly")
        return FakeResponse(request, 200, body)

    def _data(self, request, rec, name, version):
        key = (name, version)
        if rec.method == "GET":
            if key not in self.data:
                return FakeResponse(request, 404, arm_error("UserError", f"data {name}:{version} not found"))
            return FakeResponse(request, 200, self.data[key])
        if rec.method == "PUT":
            if key in self.data:  # versions are immutable: the same content again is accepted, other content is not
                same = self.data[key]["properties"].get("dataUri") == (rec.body.get("properties") or {}).get("dataUri")
                if same:
                    return FakeResponse(request, 200, self.data[key])
                return FakeResponse(request, 409, arm_error("Conflict", "data version exists with different content"))
            body = copy.deepcopy(rec.body)
            body.update(id=rec.path, name=version)
            self.data[key] = body
            return FakeResponse(request, 201, body)
        return FakeResponse(request, 405, arm_error("MethodNotAllowed", rec.method))

    def _job(self, request, rec, name):
        if rec.method == "GET":
            if name not in self.jobs:
                return FakeResponse(request, 404, arm_error("UserError", f"job {name} not found"))
            return FakeResponse(request, 200, self.jobs[name])
        if rec.method == "PUT":
            if name in self.jobs:
                return FakeResponse(request, 409, arm_error("UserError", f"job {name} already exists"))
            body = copy.deepcopy(rec.body)
            body.update(id=rec.path, name=name, type="Microsoft.MachineLearningServices/workspaces/jobs")
            body["properties"].update(status="NotStarted", services={
                "Studio": {"jobServiceType": "Studio", "endpoint": f"https://ml.azure.com/runs/{name}?wsid={WS_PATH}"}})
            self.jobs[name] = body
            return FakeResponse(request, 201, body)
        return FakeResponse(request, 405, arm_error("MethodNotAllowed", rec.method))

    def set_job_status(self, name: str, status: str) -> None:
        self.jobs[name]["properties"]["status"] = status

    def _endpoint(self, request, rec, name):
        if rec.method == "GET":
            if name not in self.endpoints:
                return FakeResponse(request, 404, arm_error("ResourceNotFound", f"endpoint {name} not found"))
            return FakeResponse(request, 200, self.endpoints[name])
        if rec.method == "PUT":
            current = self.endpoints.get(name) or fixture("online_endpoint.json", endpoint=name)
            target = copy.deepcopy(current)
            props = rec.body.get("properties", {})
            target["properties"]["authMode"] = props.get("authMode", target["properties"]["authMode"])
            target["properties"]["traffic"] = dict(props.get("traffic") or {})
            target["properties"]["mirrorTraffic"] = dict(props.get("mirrorTraffic") or {})

            def apply():
                self.endpoints[name] = target
                self.deployments.setdefault(name, {})
            return self._start_lro(request, rec, apply, 201 if name not in self.endpoints else 200,
                                   {**target, "properties": {**target["properties"], "provisioningState": "Updating"}})
        return FakeResponse(request, 405, arm_error("MethodNotAllowed", rec.method))

    def _deployment(self, request, rec, endpoint, name):
        if endpoint not in self.endpoints:
            return FakeResponse(request, 404, arm_error("ResourceNotFound", f"endpoint {endpoint} not found"))
        deployments = self.deployments.setdefault(endpoint, {})
        if rec.method == "GET":
            if name not in deployments:
                return FakeResponse(request, 404, arm_error("ResourceNotFound", f"deployment {name} not found"))
            return FakeResponse(request, 200, deployments[name])
        if rec.method == "PUT":
            body = copy.deepcopy(rec.body)
            body.update(id=rec.path, name=name, type="Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments")
            body["properties"]["provisioningState"] = "Succeeded"
            body["properties"].setdefault("scaleSettings", {"scaleType": "Default"})

            def apply():
                deployments[name] = body
            creating = {**body, "properties": {**body["properties"], "provisioningState": "Creating"}}
            is_new = name not in deployments
            deployments.setdefault(name, creating)  # as ARM: the resource exists (Creating) once the PUT is accepted
            response = self._start_lro(request, rec, apply, 201, creating)
            if is_new:  # a new deployment whose operation fails is not kept (this fake's simplification)
                self.undo[f"op-{self._last_op}"] = lambda: deployments.pop(name, None)
            return response
        if rec.method == "DELETE":
            if name not in deployments:
                return FakeResponse(request, 204)
            return self._start_lro(request, rec, lambda: deployments.pop(name, None), 202, None)
        return FakeResponse(request, 405, arm_error("MethodNotAllowed", rec.method))

    def _start_lro(self, request, rec, apply, status, body):
        self._last_op = next(self._ids)
        op = f"op-{self._last_op}"
        self.operations[op] = Operation(apply, self.lro_polls, self.lro_outcome, self.lro_error)
        status_url = (f"{ARM}/subscriptions/{SUB}/providers/{PROVIDER}/locations/westeurope/"
                      f"mfeOperationsStatus/{op}?api-version={rec.api_version}")
        headers = {"Azure-AsyncOperation": status_url, "Retry-After": "5"}
        if rec.method == "DELETE":
            headers["Location"] = status_url.replace("mfeOperationsStatus", "mfeOperationResults")
        return FakeResponse(request, status, body, headers)

    def _poll(self, request, op_id):
        op = self.operations[op_id]
        if op.outcome == "Running" or op.polls_left > 0:
            op.polls_left -= 1
            return FakeResponse(request, 200, {"id": op_id, "name": op_id, "status": "InProgress"}, {"Retry-After": "5"})
        if op.outcome == "Failed":
            self.undo.pop(op_id, lambda: None)()
            return FakeResponse(request, 200, {"id": op_id, "name": op_id, "status": "Failed", **op.error})
        if op.apply is not None:
            op.apply()
            op.apply = None
        return FakeResponse(request, 200, {"id": op_id, "name": op_id, "status": "Succeeded"})

    def _score(self, request, rec):
        endpoint = urlsplit(rec.url).hostname.split(".")[0]
        key = fixture("endpoint_keys.json")["primaryKey"]
        if rec.headers.get("Authorization") != f"Bearer {key}":
            return FakeResponse(request, 401, {"message": "invalid key"})
        named = rec.headers.get("azureml-model-deployment")
        traffic = self.endpoints[endpoint]["properties"]["traffic"]
        target = named or max(traffic, key=traffic.get, default=None)
        if target is None or target not in self.deployments.get(endpoint, {}):
            return FakeResponse(request, 404, {"message": f"no deployment {target!r} to route to"})
        if self.scoring_answers:
            status, body = self.scoring_answers.pop(0)
            return FakeResponse(request, status, body, {"azureml-model-deployment": target})
        return FakeResponse(request, 200, json.loads((FIXTURES / "scoring_response.json").read_text()),
                            {"azureml-model-deployment": target})
