"""Shared fixtures of the Azure emulator's tests: the emulator process (with a real Azurite in
HTTPS mode) and the whole AzureStack (plus the backing MLflow server and the Functions host),
each on free ports in a temporary root, started once per session and stopped after.

    azure_emulator      AzureStack started without MLflow and host: Azurite + `python -m emulators.azure`
    azure_stack         AzureStack with everything (MLflow, emulator, the app's Functions host)
    emulator_client     an EmulatorClient on `azure_emulator` (faults cleared after each test)
    managed_identity    monkeypatched IDENTITY_ENDPOINT / IDENTITY_HEADER for `azure_emulator`
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from devstack.azure_stack import AzurePorts, AzureStack
from devstack.local_settings import generated_values

ARM_RESOURCE = "https://management.azure.com/"


def azure_values(**overrides: str) -> dict[str, str]:
    """local.settings.sample.json's values with fresh secrets (not the developer's own file)."""
    defaults = {"TRAINING_QUIET_PERIOD_SECONDS": "2", "TRAINING_ALGORITHM": "logistic_regression"}
    return generated_values(**{**defaults, **overrides})


@contextmanager
def running_azure_stack(root, host: bool = True, mlflow: bool = True, emulator: dict | None = None,
                        app: dict | None = None):
    """An AzureStack on free ports in `root`, stopped on exit."""
    stack = AzureStack(root, azure_values(), AzurePorts.free(), emulator=emulator or {}, app=app or {})
    stack.start(host=host, mlflow=mlflow)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def azure_emulator(tmp_path_factory) -> AzureStack:
    """Azurite (HTTPS, OAuth) and the emulator process; no MLflow server, no Functions host."""
    with running_azure_stack(tmp_path_factory.mktemp("azure-emulator"), host=False, mlflow=False) as stack:
        yield stack


@pytest.fixture(scope="session")
def azure_stack(tmp_path_factory) -> AzureStack:
    """The whole stack: Azurite, the backing MLflow server, the emulator and the app's Functions host."""
    with running_azure_stack(tmp_path_factory.mktemp("azure-stack")) as stack:
        yield stack


@dataclass
class EmulatorClient:
    """HTTPS to the emulator, trusting its CA only; `token()` is a managed-identity token."""

    stack: AzureStack

    @property
    def config(self):
        return self.stack.config

    def token(self, resource: str = ARM_RESOURCE) -> str:
        answer = requests.get(self.stack.identity_endpoint, params={"api-version": "2019-08-01", "resource": resource},
                              headers={"X-IDENTITY-HEADER": self.stack.identity_header}, timeout=10)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def request(self, method: str, path: str, token: str | None = None, host: str | None = None,
                **kwargs: Any) -> requests.Response:
        """`method` on https://<host or 127.0.0.1>:<port><path> (a real name: *.localhost resolves)."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"https://{host or '127.0.0.1'}:{self.config.https_port}{path}"
        return requests.request(method, url, headers=headers, verify=str(self.stack.ca_file), timeout=30, **kwargs)

    def arm(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        """An ARM request under the workspace's resource id."""
        kwargs.setdefault("params", {"api-version": "2024-04-01"})
        return self.request(method, self.config.workspace_id + path, token=token, **kwargs)

    def add_fault(self, fault: dict) -> dict:
        answer = self.request("POST", "/_emulator/faults", json=fault)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def faults(self) -> list[dict]:
        return self.request("GET", "/_emulator/faults").json()["value"]

    def clear_faults(self) -> None:
        self.request("DELETE", "/_emulator/faults").raise_for_status()


@pytest.fixture
def emulator_client(azure_emulator) -> EmulatorClient:
    client = EmulatorClient(azure_emulator)
    yield client
    client.clear_faults()


@pytest.fixture
def managed_identity(monkeypatch, azure_emulator) -> AzureStack:
    """This process's environment as App Service gives it to the app: DefaultAzureCredential picks
    the emulator's managed-identity endpoint (other credential sources are removed)."""
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
                 "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", azure_emulator.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", azure_emulator.identity_header)
    return azure_emulator
