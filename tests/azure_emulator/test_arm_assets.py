"""ARM workspace, datastores, assets, cloud metadata and api-version checks, through the real
azure-ai-ml MLClient where the SDK has a call for it (in-process transport onto the router)."""
from __future__ import annotations

import pytest
from azure.ai.ml._azure_environments import _convert_arm_to_cli
from azure.ai.ml.entities import Data, Environment
from azure.core.exceptions import HttpResponseError

from emulators.azure.http import parse_request
from tests.azure_emulator.test_arm_support import KEY, make_context, make_ml_client, make_router


@pytest.fixture
def emulated(tmp_path):
    context = make_context(tmp_path)
    router = make_router(context)
    ml, transport = make_ml_client(context, router)
    return context, router, ml


def call(router, method: str, path: str, body: bytes = b""):
    return router.dispatch(parse_request(method, path, {"host": "127.0.0.1:8443"}, body))


def test_workspace_as_the_sdk_reads_it(emulated):
    context, _, ml = emulated
    workspace = ml.workspaces.get(context.config.workspace)
    assert workspace.location == "eastus"
    assert workspace.mlflow_tracking_uri == ("azureml://eastus.api.azureml.localhost:8443/mlflow/v2.0"
                                             + context.config.workspace_id)
    assert workspace.storage_account == context.config.storage_account_id


def test_default_datastore_and_its_key(emulated):
    context, _, ml = emulated
    default = ml.datastores.get_default()
    assert (default.name, default.container_name, default.account_name) == (
        "workspaceblobstore", context.config.workspace_container, "devstoreaccount1")
    assert ml.datastores.get("retraindata").container_name == "data"
    assert ml.datastores._list_secrets("workspaceblobstore").key == KEY
    assert sorted(d.name for d in ml.datastores.list()) == ["retraindata", "workspaceblobstore"]


def test_environment_latest_label_resolves_to_the_newest_version(emulated):
    _, _, ml = emulated
    for version in ("1", "2"):
        ml.environments.create_or_update(Environment(name="diabetes-train-env", version=version,
                                                     image=f"mcr.microsoft.com/azureml/base:{version}"))
    latest = ml.environments.get("diabetes-train-env", label="latest")
    assert (latest.version, latest.image) == ("2", "mcr.microsoft.com/azureml/base:2")


def test_a_version_cannot_change_what_it_points_at(emulated):
    _, _, ml = emulated
    ml.data.create_or_update(Data(name="training-set", version="1", type="uri_file",
                                  path="azureml://datastores/retraindata/paths/a.csv"))
    assert ml.data.get("training-set", version="1").path.endswith("paths/a.csv")
    with pytest.raises(HttpResponseError) as excinfo:
        ml.data.create_or_update(Data(name="training-set", version="1", type="uri_file",
                                      path="azureml://datastores/retraindata/paths/b.csv"))
    assert excinfo.value.status_code == 409


def test_code_upload_arm_side_hash_lookup_pending_upload_and_version(emulated):
    context, _, ml = emulated
    versions = ml._code._version_operation
    scope = {"resource_group_name": context.config.resource_group, "workspace_name": context.config.workspace}
    assert list(versions.list(name="snap", hash="abc", hash_version="202208", **scope)) == []
    upload = versions.create_or_get_start_pending_upload(name="snap", version="1",
                                                         body={"pendingUploadType": "TemporaryBlobReference"},
                                                         **scope)
    reference = upload.blob_reference_for_consumption
    container = reference.blob_uri.rsplit("/", 1)[1]
    assert reference.blob_uri.startswith("https://devstoreaccount1.blob.localhost:10000/")
    assert reference.credential.sas_uri.startswith(reference.blob_uri + "?") and "sig=" in reference.credential.sas_uri
    assert context.extras["containers"].created == [container]
    body = {"properties": {"codeUri": f"{reference.blob_uri}/src", "isAnonymous": True,
                           "properties": {"hash_sha256": "abc", "hash_version": "202208"}}}
    versions.create_or_update(name="snap", version="1", body=body, **scope)
    found = list(versions.list(name="snap", hash="abc", hash_version="202208", **scope))
    assert [f.id.rsplit("/", 1)[1] for f in found] == ["1"]
    assert ml._code.get("snap", "1").path == f"{reference.blob_uri}/src"


def test_cloud_metadata_is_what_the_sdk_converts(emulated):
    _, router, _ = emulated
    answer = call(router, "GET", "/metadata/endpoints?api-version=2019-05-01")
    cloud = _convert_arm_to_cli(answer.body)["AzureEmulator"]
    assert cloud["resource_manager"] == "https://127.0.0.1:8443/"
    assert cloud["storage_endpoint"] == "localhost:10000"


@pytest.mark.parametrize("query, code", [("", "MissingApiVersionParameter"),
                                         ("?api-version=latest", "InvalidApiVersionParameter"),
                                         ("?api-version=2099-01-01", "NoRegisteredProviderFound")])
def test_api_version_is_checked(emulated, query, code):
    context, router, _ = emulated
    answer = call(router, "GET", context.config.workspace_id + "/onlineEndpoints" + query)
    assert (answer.status, answer.body["error"]["code"]) == (400, code)


def test_another_workspace_is_not_found(emulated):
    context, router, _ = emulated
    path = context.config.workspace_id.replace("mlw-retrain", "other") + "?api-version=2024-10-01-preview"
    answer = call(router, "GET", path)
    assert (answer.status, answer.body["error"]["code"]) == (404, "ResourceNotFound")
