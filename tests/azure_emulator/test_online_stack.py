"""Online endpoints on the running emulator process (the whole AzureStack): the app's own Azure ML
adapter deploys a model of the backing registry through the real SDK with managed identity, scores
over HTTPS at the scoring URI it reads (*.inference.localhost, the emulator's CA), and the app's
data collector reader finds the collected rows with the app's settings."""
from __future__ import annotations

import csv
import io
import time
import uuid

import pytest
import requests
from azure.identity import ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient

from shared.adapters.azure_ml.client import build_azure_ml
from shared.adapters.azure_ml.config import AzureMLConfig
from shared.adapters.azure_ml.data_collector import DataCollectorInputs
from tests.azure_emulator.test_online_support import COLUMNS, ROWS, register_model

pytestmark = pytest.mark.integration
APP_SETTINGS = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "ARM_CLOUD_METADATA_URL", "AZUREML_CURRENT_CLOUD",
                "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture
def app_env(azure_stack, monkeypatch) -> dict[str, str]:
    env = azure_stack.app_env()
    for name in APP_SETTINGS:
        monkeypatch.setenv(name, env[name])
    return env


@pytest.fixture
def endpoints(azure_stack, app_env):
    config = azure_stack.config
    settings = AzureMLConfig(config.subscription_id, config.resource_group, config.workspace)
    return build_azure_ml(settings, credential=ManagedIdentityCredential())[1]


def emulator_state(stack) -> dict:
    answer = requests.get(f"{stack.emulator_url}/_emulator/state", verify=str(stack.ca_file), timeout=10)
    answer.raise_for_status()
    return answer.json()["online"]


def collected_rows(app_env, endpoint: str, deployment: str, limit: float = 30) -> list[list[str]]:
    """The rows the app's reader finds (the collector writes off the request's path: polled)."""
    service = BlobServiceClient(app_env["DATA_COLLECTOR_ACCOUNT_URL"], credential=ManagedIdentityCredential(),
                                connection_verify=app_env["REQUESTS_CA_BUNDLE"])
    reader = DataCollectorInputs(service, app_env["DATA_COLLECTOR_CONTAINER"], "model_inputs", COLUMNS)
    deadline, rows = time.monotonic() + limit, []
    while not rows and time.monotonic() < deadline:
        rows = [row for segment in reader.segments(endpoint, deployment) for chunk in reader.read(segment)
                for row in csv.reader(io.StringIO(chunk.decode()))]
        time.sleep(0.3)
    return rows


def test_the_apps_adapter_deploys_scores_and_reads_collected_inputs(azure_stack, endpoints, app_env, tmp_path):
    model = register_model(azure_stack.backing_mlflow_url, tmp_path)
    name = f"st-{uuid.uuid4().hex[:6]}"
    endpoints.ensure_endpoint(name)
    deployed = endpoints.create_or_update_deployment(name, "blue", model, "1", timeout_seconds=300)
    assert deployed.state == "Succeeded"
    endpoints.set_traffic(name, {"blue": 100})
    body = {"input_data": {"columns": COLUMNS, "index": [0, 1, 2], "data": ROWS}}

    answer = endpoints.invoke(name, body)
    named = endpoints.invoke(name, body, deployment="blue")

    assert answer.status == 200 and isinstance(answer.body, list) and len(answer.body) == len(ROWS)
    assert named.status == 200 and named.body == answer.body
    rows = collected_rows(app_env, name, "blue")
    assert rows and rows[0] == COLUMNS and [str(v) for v in ROWS[2]] in rows
    state = emulator_state(azure_stack)
    assert state["endpoints"][name]["traffic"] == {"blue": 100}
    assert state["endpoints"][name]["deployments"]["blue"]["state"] == "Succeeded"

    endpoints.set_traffic(name, {"blue": 0})
    assert endpoints.invoke(name, body).status == 404  # no live traffic: Azure's "no valid deployments"
    endpoints.delete_deployment(name, "blue")
    assert "blue" not in emulator_state(azure_stack)["endpoints"].get(name, {}).get("deployments", {})
