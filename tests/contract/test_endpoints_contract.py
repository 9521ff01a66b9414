"""Contract: the serving half of the loop (endpoint, deployments, traffic, scoring) and the
failure behaviour (409, 429 + Retry-After, 5xx, failed and endless long-running operations)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.domain.errors import Conflict, InvalidInput, NotFound, PlatformError
from tests.contract.fake_arm import WS_PATH, arm_error

EP = "diabetes-endpoint"
EP_PATH = f"{WS_PATH}/onlineEndpoints/{EP}"
MODEL_ID = f"{WS_PATH}/models/diabetes-classifier/versions"


def live_endpoint(arm, traffic=None, mirror=None, **deployments):
    arm.add_endpoint(EP, traffic=traffic, mirror=mirror)
    for name, version in deployments.items():
        arm.add_deployment(EP, name, "diabetes-classifier", version)


def test_ensure_endpoint_creates_a_key_auth_endpoint_when_missing(endpoints, arm):
    info = endpoints.ensure_endpoint(EP)
    assert (info.name, info.traffic, info.mirror_traffic, info.deployments) == (EP, {}, {}, ())
    assert info.scoring_uri == f"https://{EP}.westeurope.inference.ml.azure.com/score"
    put = arm.calls("PUT", "/onlineEndpoints/")[0]
    assert (put.path, put.api_version) == (EP_PATH, "2022-02-01-preview")
    assert put.body["properties"]["authMode"] == "Key"
    assert put.body["location"] == "westeurope"  # from the workspace GET
    assert any("/mfeOperationsStatus/" in r.path for r in arm.requests)  # the LRO was followed
    arm.reset_log()
    endpoints.ensure_endpoint(EP)
    assert not arm.calls("PUT")


def test_get_endpoint_not_found(endpoints):
    with pytest.raises(NotFound, match="get online endpoint 'nope-endpoint'"):
        endpoints.get_endpoint("nope-endpoint")


def test_create_deployment_mlflow_no_code_at_zero_traffic(endpoints, arm, config):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    info = endpoints.create_or_update_deployment(EP, "green", "diabetes-classifier", "7", timeout_seconds=5)
    assert (info.name, info.model_name, info.model_version, info.state) == ("green", "diabetes-classifier", "7", "Succeeded")
    put = arm.calls("PUT", "/deployments/")[0]
    assert (put.path, put.api_version) == (f"{EP_PATH}/deployments/green", "2023-04-01-preview")
    properties = put.body["properties"]
    assert properties["model"] == f"{MODEL_ID}/7"  # azureml:diabetes-classifier:7
    assert properties["instanceType"] == "Standard_DS3_v2"
    assert properties["endpointComputeType"] == "Managed"
    assert put.body["sku"]["capacity"] == 1
    assert "environmentId" not in properties and "codeConfiguration" not in properties  # MLflow no-code
    assert not [p for p in arm.calls("PUT") if p.path == EP_PATH]  # the endpoint (its traffic) is not touched
    assert endpoints.get_endpoint(EP).traffic == {"blue": 100, "green": 0}


def test_same_version_already_deployed_is_a_no_op(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    endpoints.create_or_update_deployment(EP, "blue", "diabetes-classifier", "6")
    assert not arm.calls("PUT")


def test_at_most_20_deployments(endpoints, arm):
    live_endpoint(arm, **{f"dep-{i:02d}": "1" for i in range(20)})
    with pytest.raises(Conflict, match="maximum of 20 deployments"):
        endpoints.create_or_update_deployment(EP, "one-more", "diabetes-classifier", "7")
    assert not arm.calls("PUT")


@pytest.mark.parametrize("name", ["ab", "1abc", "a--b", "abc-", "x" * 33, "a_b"])
def test_deployment_names_follow_azure_rules(endpoints, arm, name):
    live_endpoint(arm)
    with pytest.raises(InvalidInput):
        endpoints.create_or_update_deployment(EP, name, "diabetes-classifier", "7")
    assert not arm.requests


def test_a_409_on_deploy_is_a_conflict(endpoints, arm):
    live_endpoint(arm)
    arm.fail("PUT", r"/deployments/green$", (409, arm_error("Conflict", "Another operation is in progress on green")))
    with pytest.raises(Conflict, match="deploy diabetes-classifier version 7 as diabetes-endpoint/green: "
                                       "conflict in Azure ML .*Another operation is in progress"):
        endpoints.create_or_update_deployment(EP, "green", "diabetes-classifier", "7")


def test_failed_deployment_operation_names_the_step(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    arm.lro_outcome = "Failed"
    arm.lro_error = arm_error("ImageBuildFailure", "the MLflow model has no flavor python_function")
    with pytest.raises(PlatformError, match="deploy diabetes-classifier version 7 as diabetes-endpoint/green failed: "
                                            ".*ImageBuildFailure.*no flavor python_function"):
        endpoints.create_or_update_deployment(EP, "green", "diabetes-classifier", "7")
    assert endpoints.get_endpoint(EP).deployment("green") is None
    assert endpoints.get_endpoint(EP).traffic == {"blue": 100}


def test_set_traffic_and_mirror_in_one_update(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7")
    info = endpoints.set_traffic(EP, {"blue": 90, "green": 10}, {})
    assert info.traffic == {"blue": 90, "green": 10}
    info = endpoints.set_traffic(EP, {"blue": 100}, {"green": 20})
    assert (info.traffic, info.mirror_traffic) == ({"blue": 100, "green": 0}, {"green": 20})
    last = arm.calls("PUT")[-1]
    assert (last.path, last.api_version) == (EP_PATH, "2022-02-01-preview")
    assert last.body["properties"]["traffic"] == {"blue": 100}  # the SDK strips 0%
    assert last.body["properties"]["mirrorTraffic"] == {"green": 20}
    assert last.body["properties"]["authMode"] == "Key"
    with pytest.raises(InvalidInput, match="both live"):  # mirror not given: the current one is kept
        endpoints.set_traffic(EP, {"green": 100})


@pytest.mark.parametrize("traffic, mirror, message", [
    ({"blue": 60}, None, "must sum to 0 or 100, got 60"),
    ({"blue": 100}, {"green": 60}, "at most 50%"),
    ({"blue": 100}, {"green": 10, "red": 10}, "one deployment only"),
    ({"blue": 100}, {"blue": 10}, "both live"),
    ({"gone": 100}, None, "no deployment named 'gone'"),
    ({"blue": 50.5, "green": 49.5}, None, "integer percent"),
])
def test_set_traffic_validation_sends_nothing(endpoints, arm, traffic, mirror, message):
    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7", red="5")
    with pytest.raises(InvalidInput, match=message):
        endpoints.set_traffic(EP, traffic, mirror)
    assert not arm.calls("PUT")


def test_failed_traffic_update_leaves_the_traffic_as_it_was(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7")
    arm.lro_outcome = "Failed"
    arm.lro_error = arm_error("InternalServerError", "traffic update failed in region westeurope")
    with pytest.raises(PlatformError, match="set traffic of endpoint 'diabetes-endpoint' failed: .*"
                                            "traffic update failed in region westeurope"):
        endpoints.set_traffic(EP, {"green": 100})
    arm.lro_outcome = "Succeeded"
    assert endpoints.get_endpoint(EP).traffic == {"blue": 100, "green": 0}


def test_long_running_operation_timeout(endpoints, arm, config):
    from dataclasses import replace

    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7")
    endpoints.config = replace(config, lro_timeout_seconds=0.3)
    arm.lro_outcome = "Running"
    with pytest.raises(PlatformError, match=r"set traffic of endpoint 'diabetes-endpoint' did not finish within 0.3 s"):
        endpoints.set_traffic(EP, {"green": 100})
    assert arm.endpoints[EP]["properties"]["traffic"] == {"blue": 100}
    with pytest.raises(PlatformError, match=r"deploy diabetes-classifier version 8 as diabetes-endpoint/red "
                                            r"did not finish within 0.2 s"):
        endpoints.create_or_update_deployment(EP, "red", "diabetes-classifier", "8", timeout_seconds=0.2)


def test_delete_deployment(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, mirror={"green": 10}, blue="6", green="7", red="5")
    with pytest.raises(Conflict, match="100% live"):
        endpoints.delete_deployment(EP, "blue")
    with pytest.raises(Conflict, match="10% mirrored"):
        endpoints.delete_deployment(EP, "green")
    assert not arm.calls("DELETE")
    endpoints.delete_deployment(EP, "red")
    delete = arm.calls("DELETE")[0]
    assert (delete.path, delete.api_version) == (f"{EP_PATH}/deployments/red", "2023-04-01-preview")
    assert endpoints.get_endpoint(EP).deployment("red") is None
    arm.reset_log()
    endpoints.delete_deployment(EP, "red")  # absent: no-op
    endpoints.delete_deployment("other-endpoint", "red")  # no endpoint: no-op
    assert not arm.calls("DELETE")


def test_invoke_names_the_deployment_only_when_asked(endpoints, arm):
    """The SDK's invoke(deployment_name=) keeps that header for later calls; ours does not."""
    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7")
    body = {"input_data": {"columns": ["Age"], "index": [0], "data": [[50]]}}
    first = endpoints.invoke(EP, body, deployment="green")
    second = endpoints.invoke(EP, body)
    assert first.status == second.status == 200 and first.body == [0, 1] and first.latency_ms >= 0
    scoring = [r for r in arm.requests if "inference.ml.azure.com" in r.url]
    assert [r.headers.get("azureml-model-deployment") for r in scoring] == ["green", None]
    assert all(r.method == "POST" and r.url == f"https://{EP}.westeurope.inference.ml.azure.com/score" for r in scoring)
    assert all(r.headers["Authorization"] == "Bearer primary-key-0123456789" for r in scoring)
    assert scoring[0].body == body
    assert len(arm.calls("POST", "/listKeys")) == 1  # key fetched once (POST listKeys), then cached


def test_invoke_returns_any_status_and_refreshes_a_rotated_key(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    arm.scoring_answers = [(424, {"message": "model failed"})]
    result = endpoints.invoke(EP, {"input_data": {}})
    assert (result.status, result.body) == (424, {"message": "model failed"})
    endpoints._targets[EP] = (endpoints._targets[EP][0], "stale-key")
    assert endpoints.invoke(EP, {"input_data": {}}).status == 200
    assert len(arm.calls("POST", "/listKeys")) == 2


# ----------------------------------------------------------- retries (azure-core policy)


def test_429_is_retried_honouring_retry_after(endpoints, arm):
    live_endpoint(arm)
    fault = arm.fail("GET", r"/onlineEndpoints/diabetes-endpoint$",
                     (429, arm_error("TooManyRequests", "throttled"), {"Retry-After": "7"}))
    assert endpoints.get_endpoint(EP).name == EP
    assert fault.hits == 1
    assert len([r for r in arm.calls("GET") if r.path == EP_PATH]) == 2  # the 429, then the retry
    assert 7.0 in arm.sleeps  # waited what Retry-After said


def test_5xx_on_a_get_is_retried_with_backoff(platform, arm):
    arm.add_model_version("diabetes-classifier", "7", job="train-7")
    fault = arm.fail("GET", r"/models/diabetes-classifier/versions/7$",
                     (503, arm_error("ServiceUnavailable", "busy")), (500, arm_error("InternalServerError", "oops")))
    assert platform.get_model_version("diabetes-classifier", "7").version == "7"
    assert fault.hits == 2 and len(arm.calls("GET", "/models/")) == 3
    assert arm.sleeps == [1.0]  # azure-core back-off: 0 s, then factor 0.5 * 2 s


def test_retries_give_up_after_retry_total(platform, arm, config):
    arm.add_model_version("diabetes-classifier", "7", job="train-7")
    arm.fail("GET", r"/models/", *[(503, arm_error("ServiceUnavailable", "still busy"))] * 10)
    with pytest.raises(PlatformError, match="get model diabetes-classifier version 7 from Azure ML failed: "
                                            "HTTP 503 ServiceUnavailable: still busy"):
        platform.get_model_version("diabetes-classifier", "7")
    assert len(arm.calls("GET", "/models/")) == config.retry_total + 1


def test_5xx_on_list_keys_is_retried(endpoints, arm):
    """listKeys is a POST that reads: the ARM pipeline retries it like a GET."""
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    arm.fail("POST", r"/listKeys$", (503, arm_error("ServiceUnavailable", "busy")))
    assert endpoints.invoke(EP, {"input_data": {}}).status == 200
    assert len(arm.calls("POST", "/listKeys")) == 2


# ------------------------------------------------------------------------ cold start


def test_importing_the_adapter_does_not_import_azure_ai_ml():
    root = Path(__file__).resolve().parents[2]
    code = ("import sys, shared.adapters.azure_ml, shared.adapters.azure_ml.platform, "
            "shared.adapters.azure_ml.endpoints, shared.adapters.azure_ml.client; "
            "heavy = sorted(m for m in sys.modules if m.startswith(('azure.ai.ml', 'azure.identity', 'mlflow')));"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_begin_deployment_sends_the_put_and_does_not_wait(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    started = endpoints.begin_deployment(EP, "green", "diabetes-classifier", "7")
    assert (started.name, started.model_version, started.state) == ("green", "7", "Creating")
    put = arm.calls("PUT", "/deployments/")[0]
    assert (put.path, put.api_version) == (f"{EP_PATH}/deployments/green", "2023-04-01-preview")
    assert put.body["properties"]["model"] == f"{MODEL_ID}/7"
    assert endpoints.get_deployment(EP, "green").model_version == "7"
    assert endpoints.get_deployment(EP, "nope") is None
    arm.reset_log()
    endpoints.begin_deployment(EP, "blue", "diabetes-classifier", "6")
    assert not arm.calls("PUT"), "what is deployed is not deployed again"


def test_traffic_and_endpoint_updates_can_be_started_without_waiting(endpoints, arm):
    arm.lro_outcome = "Running"  # the operations never end: a waiting call would time out
    endpoints.ensure_endpoint(EP, wait=False)
    put = arm.calls("PUT", "/onlineEndpoints/")[0]
    assert put.path == EP_PATH and put.body["properties"]["authMode"] == "Key"
    arm.lro_outcome = "Succeeded"
    arm.reset_log()
    live_endpoint(arm, traffic={"blue": 100}, blue="6", green="7")
    arm.lro_outcome = "Running"
    endpoints.set_traffic(EP, {"green": 100}, {}, wait=False)
    put = arm.calls("PUT", "/onlineEndpoints/")[0]
    traffic = put.body["properties"]["traffic"]
    assert traffic["green"] == 100 and not traffic.get("blue")


# ------------------------------------------------------------------ data collection


def test_deployments_collect_their_model_inputs_hour_by_hour(endpoints, arm):
    """The deployment PUT carries `properties.dataCollector` as the REST spec shapes it
    (collections → Collection {dataCollectionMode, dataId}, rollingRate); the SDK first registers
    the collection's data asset over the data collector's default path."""
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    endpoints.create_or_update_deployment(EP, "green", "diabetes-classifier", "7", timeout_seconds=5)
    asset_path = f"{WS_PATH}/data/{EP}-green-model_inputs/versions/1"
    data_put, deployment_put = arm.calls("PUT")
    assert (data_put.path, data_put.api_version) == (asset_path, "2023-04-01-preview")
    assert data_put.body["properties"]["dataUri"] == (
        f"azureml://datastores/workspaceblobstore/paths/modelDataCollector/{EP}/green/model_inputs")
    assert data_put.body["properties"]["dataType"] == "uri_folder"
    collector = deployment_put.body["properties"]["dataCollector"]
    assert set(collector) == {"collections", "rollingRate"} and collector["rollingRate"] == "Hour"
    assert list(collector["collections"]) == ["model_inputs"]
    collection = collector["collections"]["model_inputs"]
    assert collection["dataCollectionMode"].lower() == "enabled"  # the SDK sends "enabled"; the enum is case-insensitive
    assert collection["dataId"] == asset_path
    assert "samplingRate" not in collection  # the service's default: 100%
    assert "environmentId" not in deployment_put.body["properties"]  # still MLflow no-code


def test_a_redeployment_reuses_the_collections_data_asset(endpoints, arm):
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    endpoints.begin_deployment(EP, "green", "diabetes-classifier", "7")
    endpoints.begin_deployment(EP, "green", "diabetes-classifier", "8")  # same name, a new version
    puts = arm.calls("PUT")
    asset, deployment = f"{WS_PATH}/data/{EP}-green-model_inputs/versions/1", f"{EP_PATH}/deployments/green"
    assert [p.path for p in puts] == [asset, deployment, asset, deployment]  # the asset's PUT is idempotent
    assert puts[-1].body["properties"]["dataCollector"]["collections"]["model_inputs"]["dataId"].endswith(
        f"/data/{EP}-green-model_inputs/versions/1")
    assert puts[-1].body["properties"]["model"] == f"{MODEL_ID}/8"


def test_the_collection_is_the_configured_one(endpoints, arm, config):
    from dataclasses import replace

    endpoints.config = replace(config, data_collection="inputs_v2")
    live_endpoint(arm)
    endpoints.begin_deployment(EP, "green", "diabetes-classifier", "7")
    put = arm.calls("PUT", "/deployments/")[0]
    assert list(put.body["properties"]["dataCollector"]["collections"]) == ["inputs_v2"]


def test_the_endpoint_state_reads_as_arm_spells_it(endpoints, arm):
    # The SDK hands provisioning states as str enums; their str() is "EndpointProvisioningState.SUCCEEDED",
    # which no step compares equal to "Succeeded" (found by the Azure emulator: the first deploy step
    # polled a ready endpoint until its deadline).
    live_endpoint(arm, traffic={"blue": 100}, blue="6")
    info = endpoints.get_endpoint(EP)
    assert info.state == "Succeeded"
    assert [d.state for d in info.deployments] == ["Succeeded"]
