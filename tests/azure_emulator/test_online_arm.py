"""The online part behind the ARM part: the real azure-ai-ml MLClient (in-process transport onto the
emulator's router) creates endpoints and deployments whose LROs wait for real `mlflow models
serve` processes; scoring goes over real HTTP to the URI and with the keys the SDK returns."""
from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import urlsplit

import pytest
from azure.ai.ml.entities import DataCollector, DeploymentCollection, ManagedOnlineDeployment, ManagedOnlineEndpoint
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient

from devstack.processes import free_port, training_python
from emulators.azure import arm, online
from emulators.azure.http import Router, serve
from shared.adapters.azure_ml.data_collector import DataCollectorInputs
from tests.azure_emulator.test_arm_support import RegistryDouble, make_context, make_ml_client
from tests.azure_emulator.test_online_support import COLUMNS, ROWS, ended, model_name, post_score

__all__ = ["model_name"]  # a fixture

pytestmark = pytest.mark.integration
CONTAINER = "azureml-blobstore-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def emulated(mlflow_server, azurite, model_name, tmp_path_factory):
    """(context, ml, port): ARM and online registered on one router, served over plain HTTP; the
    registry knows version 1 (in MLflow) and version 2 (not there: its server cannot start)."""
    port = free_port()
    context = make_context(tmp_path_factory.mktemp("online-arm"),
                           registry=RegistryDouble((model_name, "1"), (model_name, "2")))
    context.config = dataclasses.replace(context.config, https_port=port, mlflow_backing_url=mlflow_server,
                                         training_python=training_python(), workspace_container=CONTAINER,
                                         lro_seconds=0.5)
    blobs = BlobServiceClient.from_connection_string(azurite)
    context.blob_service = lambda: blobs
    router = Router()
    arm.register(router, context)
    part = online.register(router, context)
    server = serve(router, port)
    ml, _ = make_ml_client(context, router)
    yield context, ml, port
    server.shutdown()
    part.close()


def deployment(endpoint: str, name: str, model: str, version: str = "1") -> ManagedOnlineDeployment:
    """As the app's adapter builds it: an MLflow no-code deployment collecting model_inputs hourly."""
    return ManagedOnlineDeployment(
        name=name, endpoint_name=endpoint, model=f"azureml:{model}:{version}", instance_type="Standard_DS3_v2",
        instance_count=1, data_collector=DataCollector(collections={"model_inputs": DeploymentCollection(enabled="true")},
                                                       rolling_rate="Hour"))


def scoring(ml, endpoint: str) -> tuple[str, str]:
    """(the scoring URI's host, the primary key), as the app reads them."""
    return urlsplit(ml.online_endpoints.get(endpoint).scoring_uri).hostname, ml.online_endpoints.get_keys(endpoint).primary_key


def new_endpoint(ml) -> str:
    name = f"arm-ep-{uuid.uuid4().hex[:6]}"
    ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name=name, auth_mode="key")).result()
    return name


def test_the_safe_rollout_through_arm_scores_on_real_servers(emulated, model_name):
    context, ml, port = emulated
    endpoint_name = new_endpoint(ml)
    blue = ml.online_deployments.begin_create_or_update(deployment(endpoint_name, "blue", model_name)).result()
    assert str(blue.provisioning_state).lower().endswith("succeeded")
    endpoint = ml.online_endpoints.get(endpoint_name)
    endpoint.traffic = {"blue": 100}
    ml.online_endpoints.begin_create_or_update(endpoint).result()
    host, key = scoring(ml, endpoint_name)
    assert host == f"{endpoint_name}.eastus.inference.localhost"
    status, headers, data = post_score(port, endpoint_name, key)
    assert (status, headers["azureml-model-deployment"]) == (200, "blue"), data

    ml.online_deployments.begin_create_or_update(deployment(endpoint_name, "green", model_name)).result()
    assert post_score(port, endpoint_name, key, deployment="green")[1]["azureml-model-deployment"] == "green"
    assert post_score(port, endpoint_name, key)[1]["azureml-model-deployment"] == "blue"  # green has 0% live
    endpoint = ml.online_endpoints.get(endpoint_name)
    endpoint.traffic = {"blue": 0, "green": 100}
    ml.online_endpoints.begin_create_or_update(endpoint).result()
    assert post_score(port, endpoint_name, key)[1]["azureml-model-deployment"] == "green"

    context.scoring.collector.flush()
    reader = DataCollectorInputs(context.blob_service(), CONTAINER, "model_inputs", COLUMNS)
    rows = [chunk for segment in reader.segments(endpoint_name, "blue") for chunk in reader.read(segment)]
    assert b",".join(str(v).encode() for v in ROWS[1]) in b"".join(rows)

    servers = {d: s["server"]["pid"] for d, s in context.scoring.state()["endpoints"][endpoint_name]["deployments"].items()}
    ml.online_deployments.begin_delete(name="blue", endpoint_name=endpoint_name).result()
    assert ended(servers["blue"])
    assert post_score(port, endpoint_name, key, deployment="blue")[0] == 404

    ml.online_endpoints.begin_delete(endpoint_name).result()
    assert ended(servers["green"])
    assert endpoint_name not in context.scoring.state()["endpoints"]
    assert post_score(port, endpoint_name, key)[0] == 404


def test_a_model_version_mlflow_cannot_serve_fails_the_deployment_lro(emulated, model_name):
    _, ml, _ = emulated
    endpoint_name = new_endpoint(ml)
    with pytest.raises(HttpResponseError) as failed:
        ml.online_deployments.begin_create_or_update(deployment(endpoint_name, "broken", model_name, "2")).result()
    assert "log tail" in str(failed.value)
    state = ml.online_deployments.get(name="broken", endpoint_name=endpoint_name).provisioning_state
    assert str(state).lower().endswith("failed")
