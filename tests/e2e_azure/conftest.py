"""The end-to-end tests on the Azure emulator share ONE AzureStack (Azurite over HTTPS, the backing
MLflow server, the emulator and the app's Functions host with ML_BACKEND=azure), started once on
free ports in a temporary root. Its scenarios build on each other (v1, then v2), so they run in
file order on one worker: under `-n`, this package's tests form one xdist work unit (the hook
below).

    azure_loop      the started AzureStack
    api / admin     the app's HTTP API (function key) and the host's admin API (master key)
    azure           an AzureClient: the control API (faults, state), ARM with a managed-identity
                    token, the request trail, the production endpoint as a client scores it
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import requests

from devstack.azure_stack import AzurePorts, AzureStack
from devstack.client import ApiClient, wait_for
from tests.azure_emulator.conftest import EmulatorClient, azure_values

PACKAGE = "tests/e2e_azure/"
TERMINAL = ("Succeeded", "Failed", "Canceled")
NEVER = "0 0 0 1 1 *"  # timers the tests trigger themselves (admin API), so nothing races them
APP_SETTINGS = {
    "GATE_MAX_DROP": "0.05", "STEP_POLL_SECONDS": "1", "STEP_MAX_DEQUEUE_COUNT": "3",
    "APPROVAL_SWEEPER_SCHEDULE": NEVER, "REGISTRY_RECONCILE_SCHEDULE": NEVER,
    "DEVHOST_QUEUE_VISIBILITY_SECONDS": "10",
}
# Event Grid's retry schedule × 0.01 (10 s → 0.1 s, a dead letter written 3 s after the last try).
EMULATOR_SETTINGS = {"event_parameters": {"maxDeliveryAttempts": 3}, "time_scale": 0.01, "lro_seconds": 1.0}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under `-n` (load or loadgroup), this package's tests go to one worker as one work unit; the
    other tests are scheduled as those modes do."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PackageTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return PACKAGE if nodeid.startswith(PACKAGE) else super()._split_scope(nodeid)

    return PackageTogether(config, log)


@pytest.fixture(scope="session")
def azure_loop(tmp_path_factory) -> AzureStack:
    stack = AzureStack(tmp_path_factory.mktemp("e2e-azure"), azure_values(**APP_SETTINGS), AzurePorts.free(),
                       emulator=EMULATOR_SETTINGS)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def api(azure_loop) -> ApiClient:
    return ApiClient(azure_loop.host_url, azure_loop.values["LOCAL_HOST_FUNCTION_KEY"])


@pytest.fixture(scope="session")
def admin(azure_loop) -> ApiClient:
    return ApiClient(azure_loop.host_url, azure_loop.values["LOCAL_HOST_MASTER_KEY"])


@pytest.fixture(scope="session")
def azure(azure_loop) -> "AzureClient":
    return AzureClient(azure_loop)


@dataclass
class AzureClient(EmulatorClient):
    """The emulated platform as the tests see it."""

    @property
    def endpoint(self) -> str:
        return self.stack.values["ENDPOINT_NAME"]

    def state(self) -> dict:
        answer = self.request("GET", "/_emulator/state")
        answer.raise_for_status()
        return answer.json()

    def online(self) -> dict:
        """The app's endpoint as ARM shows it: provisioningState, traffic, mirrorTraffic and
        deployments ({name: provisioningState})."""
        endpoint = self.endpoint_arm("GET")
        endpoint.raise_for_status()
        listed = self.endpoint_arm("GET", "/deployments")
        listed.raise_for_status()
        properties = endpoint.json()["properties"]
        return {"provisioningState": properties["provisioningState"], "traffic": properties.get("traffic") or {},
                "mirrorTraffic": properties.get("mirrorTraffic") or {},
                "deployments": {d["name"]: d["properties"]["provisioningState"] for d in listed.json()["value"]}}

    def events(self) -> dict:
        return self.state()["eventgrid"]

    def trail(self) -> list[dict]:
        lines = self.stack.requests_trail.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def endpoint_arm(self, method: str, path: str = "", **kwargs) -> requests.Response:
        return self.arm(method, f"/onlineEndpoints/{self.endpoint}{path}", token=self.token(), **kwargs)

    def score(self, body: dict) -> requests.Response:
        """POST to the production scoring URI with the endpoint key, both read from ARM."""
        scoring_uri = self.endpoint_arm("GET").json()["properties"]["scoringUri"]
        keys = self.endpoint_arm("POST", "/listKeys")
        keys.raise_for_status()
        return requests.post(scoring_uri, json=body, timeout=30, verify=str(self.stack.ca_file),
                             headers={"Authorization": f"Bearer {keys.json()['primaryKey']}"})

    def quiet(self, timeout: float = 60) -> dict:
        """The state once no event delivery, LRO or job is in flight (nothing stuck)."""
        def settled():
            state = self.state()
            online = self.online()
            busy = (state["eventgrid"]["pending_deliveries"] or state["jobs"]["active"]
                    or state["arm"]["operations_in_progress"]
                    or online["provisioningState"] not in TERMINAL
                    or any(s not in TERMINAL for s in online["deployments"].values()))
            return None if busy else state
        return wait_for("the emulated platform to be idle", settled, timeout, interval=0.5)


def wait_until(what: str, probe, timeout: float = 180):
    """wait_for with a slower interval (these waits span training jobs and LROs)."""
    return wait_for(what, probe, timeout, interval=0.5)
