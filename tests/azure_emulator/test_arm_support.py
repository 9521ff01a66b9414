"""Shared by the ARM tests (no tests here): the ARM part registered on a real Router with H1's real
fault registry (emulators.azure.faults, its own matching) and small doubles for the scoring host,
the model registry and the blob service, and the real azure-ai-ml MLClient whose azure-core
transport hands every request to router.dispatch (no sockets: the SDK's own serialisation,
polling and parsing)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from azure.core.pipeline.transport import HttpTransport

from emulators.azure import arm
from emulators.azure.context import Context, EmulatorConfig
from emulators.azure.faults import Faults
from emulators.azure.http import Router, parse_request
from emulators.azure.store import ResourceStore
from tests.contract.fake_arm import FakeCredential, FakeResponse

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class ScoringDouble:
    """Records what ARM asks of the scoring host; `states` sets a deployment's answer. A double:
    the real host starts `mlflow models serve` processes (test_online_arm.py runs ARM on it)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.states: dict[tuple[str, str], tuple[str, str]] = {}
        self.endpoints: dict[str, dict] = {}

    def start_deployment(self, endpoint, deployment, model_name, model_version, data_collector):
        self.calls.append(("start", endpoint, deployment, model_name, model_version, data_collector))

    def deployment_state(self, endpoint, deployment):
        return self.states.get((endpoint, deployment), ("Succeeded", ""))

    def stop_deployment(self, endpoint, deployment):
        self.calls.append(("stop", endpoint, deployment))

    def set_endpoint(self, endpoint, keys, traffic, mirror):
        self.endpoints[endpoint] = {"keys": keys, "traffic": traffic, "mirror": mirror}

    def remove_endpoint(self, endpoint):
        self.calls.append(("remove", endpoint))
        self.endpoints.pop(endpoint, None)


class RegistryDouble:
    """The model versions ARM finds. A double: the real registry (mlflow_api) needs a backing MLflow
    server with registered models (test_online_arm.py's models are real, its lookups go here)."""

    def __init__(self, *versions: tuple[str, str]):
        self.versions = set(versions)

    def get_version(self, name, version):
        return {"name": name, "version": version} if (name, version) in self.versions else None


class ContainersDouble:
    """The blob service's create_container. A double: startPendingUpload only names a container
    here (test_arm_assets.py); the real upload into Azurite runs in the stack tests."""

    def __init__(self):
        self.created: list[str] = []

    def create_container(self, name):
        self.created.append(name)


def make_context(tmp_path: Path, registry=None, **overrides) -> Context:
    config = EmulatorConfig(
        root=tmp_path, repo_root=Path.cwd(), https_port=8443, identity_port=8444, identity_header="h",
        storage_connection=f"DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey={KEY};",
        storage_account="devstoreaccount1", blob_suffix="localhost:10000", mlflow_backing_url="http://127.0.0.1:1",
        training_python=Path("python"), host_url="http://127.0.0.1:7071", blobs_extension_key="b",
        eventgrid_extension_key="e", **{"lro_seconds": 1.0, "time_scale": 0.05, **overrides})
    containers = ContainersDouble()
    context = Context(config=config, store=ResourceStore(), events=None, scoring=ScoringDouble(),
                      faults=Faults(), tokens=None, blob_service=lambda: containers,
                      extras={"registry": registry} if registry is not None else {})
    context.extras["containers"] = containers
    return context


def make_router(context: Context) -> Router:
    router = Router()
    arm.register(router, context)
    return router


class RouterTransport(HttpTransport):
    """An azure-core transport that answers from router.dispatch and records (method, path, api-version)
    and the delays the SDK's pollers asked for."""

    def __init__(self, router: Router):
        self.router = router
        self.sent: list[tuple[str, str, str]] = []
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def sleep(self, duration):
        self.delays.append(float(duration))  # what the SDK would wait (from Retry-After or its default)
        time.sleep(min(float(duration), 0.05))  # the operation runs in real (scaled) time

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        raw = request.content if hasattr(request, "content") else request.data
        if isinstance(raw, (dict, list)):
            raw = json.dumps(raw)
        body = raw.encode() if isinstance(raw, str) else (raw or b"")
        headers = {k.lower(): v for k, v in request.headers.items()}
        headers["host"] = url.netloc
        emulated = parse_request(request.method, url.path + (f"?{url.query}" if url.query else ""), headers, body)
        answer = self.router.dispatch(emulated)
        with self._lock:
            self.sent.append((request.method, emulated.path, emulated.api_version))
        payload = answer.payload()
        response = FakeResponse(request, answer.status, None, answer.headers)
        response._content = payload
        if payload:
            response.headers["Content-Type"] = answer.content_type
        return response


def make_ml_client(context: Context, router: Router):
    from azure.ai.ml import MLClient

    transport = RouterTransport(router)
    config = context.config
    client = MLClient(FakeCredential(), config.subscription_id, config.resource_group, config.workspace,
                      transport=transport)
    return client, transport
