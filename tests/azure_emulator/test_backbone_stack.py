"""The whole AzureStack: the app's host runs with ML_BACKEND=azure, and the settings it gets reach
the emulator's identity and Azurite the way the app's own adapters use them."""
from __future__ import annotations

import requests
import pytest
from azure.identity import ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient

pytestmark = pytest.mark.integration


def test_the_host_runs_the_app_against_the_emulator(azure_stack):
    status = requests.get(f"{azure_stack.host_url}/admin/host/status", timeout=10).json()

    assert status["state"] == "Running"
    assert "on_data_blob" in status["functions"]
    env = azure_stack.app_env()
    assert env["ML_BACKEND"] == "azure" and "MLFLOW_TRACKING_URI" not in env
    assert requests.get(f"{azure_stack.backing_mlflow_url}/health", timeout=10).status_code == 200
    health = requests.get(f"{azure_stack.emulator_url}/_emulator/health", verify=str(azure_stack.ca_file), timeout=10)
    assert health.status_code == 200
    assert (azure_stack.root / "emulator-config.json").stat().st_mode & 0o777 == 0o600  # it holds secrets


def test_the_apps_settings_reach_identity_and_the_data_collector_account(azure_stack, monkeypatch):
    env = azure_stack.app_env()
    monkeypatch.setenv("IDENTITY_ENDPOINT", env["IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", env["IDENTITY_HEADER"])
    service = BlobServiceClient(env["DATA_COLLECTOR_ACCOUNT_URL"], credential=ManagedIdentityCredential(),
                                connection_verify=env["REQUESTS_CA_BUNDLE"])

    names = [c.name for c in service.list_containers()]

    assert env["DATA_COLLECTOR_CONTAINER"] in names
    assert {env["DATA_CONTAINER"], env["STATE_CONTAINER"], azure_stack.config.dead_letter_container} <= set(names)
    metadata = requests.get(env["ARM_CLOUD_METADATA_URL"], verify=env["SSL_CERT_FILE"], timeout=10)
    assert metadata.status_code != 401
