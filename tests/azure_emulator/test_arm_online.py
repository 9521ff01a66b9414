"""ARM online endpoints and deployments through the real azure-ai-ml MLClient (in-process transport
onto the emulator's router): LROs polled to the end, traffic, validation rules, the fault."""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulators.azure.arm import rules
from emulators.azure.arm.common import UserError
from emulators.azure.arm.deployments import Deployments
from emulators.azure.arm.endpoints import Endpoints
from emulators.azure.arm.lro import Operations
from emulators.azure.http import parse_request
from emulators.azure.mlflow_api.backing import Backing
from emulators.azure.mlflow_api.registry import Registry
from tests.azure_emulator.test_arm_support import RegistryDouble, make_context, make_ml_client, make_router

ENDPOINT = "diabetes-ep"


@pytest.fixture
def emulated(tmp_path):
    context = make_context(tmp_path, registry=RegistryDouble(("diabetes", "1"), ("diabetes", "2")))
    ml, transport = make_ml_client(context, make_router(context))
    return context, ml, transport


def deployment(name: str, version: str = "1") -> ManagedOnlineDeployment:
    return ManagedOnlineDeployment(name=name, endpoint_name=ENDPOINT, model=f"azureml:diabetes:{version}",
                                   instance_type="Standard_DS3_v2", instance_count=1)


def create_endpoint(ml):
    return ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name=ENDPOINT, auth_mode="key")).result()


def set_traffic(ml, traffic: dict, mirror: dict | None = None):
    endpoint = ml.online_endpoints.get(ENDPOINT)
    endpoint.traffic = traffic
    if mirror is not None:
        endpoint.mirror_traffic = mirror
    return ml.online_endpoints.begin_create_or_update(endpoint).result()


def error_code(excinfo) -> tuple[int, str, str]:
    error = excinfo.value
    body = error.response.json()["error"]
    return error.status_code, body["code"], body.get("innerError", {}).get("code", "")


def test_endpoint_create_is_polled_to_succeeded_and_the_scoring_host_gets_its_keys(emulated):
    context, ml, transport = emulated
    endpoint = create_endpoint(ml)
    assert str(endpoint.provisioning_state).endswith("SUCCEEDED") or endpoint.provisioning_state == "Succeeded"
    assert endpoint.scoring_uri == "https://diabetes-ep.eastus.inference.localhost:8443/score"
    assert any("mfeOperationsStatus" in path for _, path, _ in transport.sent)
    keys = ml.online_endpoints.get_keys(ENDPOINT)
    assert context.scoring.endpoints[ENDPOINT]["keys"] == (keys.primary_key, keys.secondary_key)


def test_deployment_is_started_on_the_scoring_host_then_traffic_goes_to_100(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    result = ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    assert str(result.provisioning_state).lower().endswith("succeeded")
    assert ("start", ENDPOINT, "blue", "diabetes", "1", None) in context.scoring.calls
    endpoint = set_traffic(ml, {"blue": 100})
    assert endpoint.traffic == {"blue": 100}
    assert context.scoring.endpoints[ENDPOINT]["traffic"] == {"blue": 100}


@pytest.mark.parametrize("traffic", [{"blue": 60}, {"blue": 60, "green": 60}])
def test_traffic_that_does_not_sum_to_0_or_100_is_refused_and_kept(emulated, traffic):
    _, ml, _ = emulated
    create_endpoint(ml)
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    ml.online_deployments.begin_create_or_update(deployment("green", "2")).result()
    set_traffic(ml, {"blue": 100})
    with pytest.raises(HttpResponseError) as excinfo:
        set_traffic(ml, traffic)
    assert error_code(excinfo) == (400, "UserError", "BadArgument")
    assert "sum to 0 or 100" in str(excinfo.value)
    assert {k: v for k, v in ml.online_endpoints.get(ENDPOINT).traffic.items() if v} == {"blue": 100}


def test_traffic_to_an_unknown_deployment_is_refused(emulated):
    _, ml, _ = emulated
    create_endpoint(ml)
    with pytest.raises(HttpResponseError) as excinfo:
        set_traffic(ml, {"ghost": 100})
    assert error_code(excinfo) == (400, "UserError", "BadArgument")


def test_the_21st_deployment_is_refused(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    for index in range(20):  # straight into the store: twenty SDK round trips add nothing here
        eid = f"{context.config.workspace_id}/onlineEndpoints/{ENDPOINT}/deployments/d{index:02d}"
        context.store.put(eid, {"id": eid, "name": f"d{index:02d}", "properties": {"provisioningState": "Succeeded"}})
    with pytest.raises(HttpResponseError) as excinfo:
        ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    assert error_code(excinfo) == (400, "UserError", "BadArgument")
    assert "maximum number of deployments (20)" in str(excinfo.value)


def test_a_deployment_with_live_traffic_cannot_be_deleted_one_without_can(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    ml.online_deployments.begin_create_or_update(deployment("green", "2")).result()
    set_traffic(ml, {"blue": 100})
    with pytest.raises(HttpResponseError) as excinfo:
        ml.online_deployments.begin_delete(name="blue", endpoint_name=ENDPOINT).result()
    assert error_code(excinfo) == (400, "UserError", "BadArgument")
    ml.online_deployments.begin_delete(name="green", endpoint_name=ENDPOINT).result()
    assert ("stop", ENDPOINT, "green") in context.scoring.calls
    with pytest.raises(ResourceNotFoundError):
        ml.online_deployments.get(name="green", endpoint_name=ENDPOINT)
    assert [d.name for d in ml.online_deployments.list(endpoint_name=ENDPOINT)] == ["blue"]


def test_mirror_rules(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    ml.online_deployments.begin_create_or_update(deployment("green", "2")).result()
    for traffic, mirror in (({"blue": 100}, {"green": 60}), ({"blue": 100}, {"blue": 10})):
        with pytest.raises(HttpResponseError) as excinfo:
            set_traffic(ml, traffic, mirror)
        assert error_code(excinfo) == (400, "UserError", "BadArgument")
    endpoint = set_traffic(ml, {"blue": 100}, {"green": 50})
    assert endpoint.mirror_traffic == {"green": 50}
    assert context.scoring.endpoints[ENDPOINT]["mirror"] == {"green": 50}


def test_deployment_failed_fault_ends_the_poller_failed(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    context.faults.add({"kind": "deployment_failed", "match": {"deployment": "BLUE"}, "times": 1})
    with pytest.raises(HttpResponseError) as excinfo:
        ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    assert "ResourceNotReady" in str(excinfo.value)
    assert ml.online_deployments.get(name="blue", endpoint_name=ENDPOINT).provisioning_state == "Failed"
    assert not [c for c in context.scoring.calls if c[0] == "start"]
    assert context.faults.pending() == []  # its one use taken (the registry matches names in any case)


def test_a_scoring_server_that_fails_fails_the_deployment(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    context.scoring.states[(ENDPOINT, "blue")] = ("Failed", "mlflow models serve exited with 1")
    with pytest.raises(HttpResponseError) as excinfo:
        ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    assert "mlflow models serve exited with 1" in str(excinfo.value)


def test_a_model_the_registry_lacks_is_refused(emulated):
    _, ml, _ = emulated
    create_endpoint(ml)
    with pytest.raises(HttpResponseError) as excinfo:
        ml.online_deployments.begin_create_or_update(deployment("blue", "9")).result()
    assert error_code(excinfo) == (400, "UserError", "ResourceNotFound")


def test_regenerated_key_reaches_the_scoring_host_and_endpoint_delete_removes_all(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    before = ml.online_endpoints.get_keys(ENDPOINT).primary_key
    ml.online_endpoints.begin_regenerate_keys(ENDPOINT, key_type="primary").result()
    after = ml.online_endpoints.get_keys(ENDPOINT)
    assert after.primary_key != before
    assert context.scoring.endpoints[ENDPOINT]["keys"][0] == after.primary_key
    ml.online_endpoints.begin_delete(ENDPOINT).result()
    assert ("remove", ENDPOINT) in context.scoring.calls
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get(ENDPOINT)
    assert context.extras["arm"].state()["endpoints"] == {}


def test_names_follow_azure_ai_ml_pattern_double_hyphens_included(emulated):
    _, ml, _ = emulated
    name = "diabetes--ep"  # azure-ai-ml's NAME_REGEX_PATTERN allows "--"
    ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name=name, auth_mode="key")).result()
    blue = ManagedOnlineDeployment(name="blue--1", endpoint_name=name, model="azureml:diabetes:1",
                                   instance_type="Standard_DS3_v2", instance_count=1)
    assert ml.online_deployments.begin_create_or_update(blue).result().name == "blue--1"


@pytest.mark.parametrize("name", ["ab", "1blue", "blue-", "blue_1", "b" * 33])
def test_names_outside_the_pattern_are_refused(name):
    with pytest.raises(UserError) as excinfo:
        rules.check_endpoint_name(name)
    assert excinfo.value.inner == "BadArgument"
    with pytest.raises(UserError):
        rules.check_deployment_name(name)
    rules.check_deployment_name("a-b--c")


def call(transport, method: str, path: str, body=None, api_version: str = "2023-04-01-preview"):
    """One request straight to the router (bodies the SDK would never send)."""
    raw = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else (body or b"")
    return transport.router.dispatch(parse_request(method, f"{path}?api-version={api_version}",
                                                   {"host": "127.0.0.1:8443"}, raw))


def deployment_path(context, name: str) -> str:
    return f"{context.config.workspace_id}/onlineEndpoints/{ENDPOINT}/deployments/{name}"


@pytest.mark.parametrize("collector", ["model_inputs", ["model_inputs"], {"collections": ["model_inputs"]},
                                       {"collections": {"model_inputs": "Enabled"}}])
def test_a_data_collector_that_is_not_one_is_refused_before_anything_starts(emulated, collector):
    context, ml, transport = emulated
    create_endpoint(ml)
    body = {"location": "eastus", "sku": {"name": "Default", "capacity": 1},
            "properties": {"endpointComputeType": "Managed", "model": "azureml:diabetes:1",
                           "dataCollector": collector}}
    answer = call(transport, "PUT", deployment_path(context, "blue"), body)
    assert answer.status == 400, answer.body
    assert (answer.body["error"]["code"], answer.body["error"]["innerError"]["code"]) == ("UserError", "BadArgument")
    assert "dataCollector" in answer.body["error"]["message"]
    assert context.store.get(deployment_path(context, "blue")) is None
    assert not [c for c in context.scoring.calls if c[0] == "start"]


def wait_for(transport, answer) -> dict:
    """The operation named by the answer's Azure-AsyncOperation header, polled until it ends."""
    url = urlsplit(answer.headers["Azure-AsyncOperation"])
    for _ in range(400):
        status = transport.router.dispatch(parse_request("GET", f"{url.path}?{url.query}",
                                                         {"host": "127.0.0.1:8443"}, b"")).body
        if status["status"] != "InProgress":
            return status
        time.sleep(0.05)
    raise AssertionError(f"operation still in progress: {status}")


@pytest.fixture
def slow(tmp_path):
    """As `emulated`, with operations that last 2 s (time for a request while one is pending)."""
    context = make_context(tmp_path, registry=RegistryDouble(("diabetes", "1")), lro_seconds=40.0)
    ml, transport = make_ml_client(context, make_router(context))
    create_endpoint(ml)
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    return context, ml, transport


def put_traffic(context, transport, traffic: dict):
    endpoint_path = f"{context.config.workspace_id}/onlineEndpoints/{ENDPOINT}"
    body = call(transport, "GET", endpoint_path, api_version="2022-02-01-preview").body
    body["properties"]["traffic"] = traffic
    answer = call(transport, "PUT", endpoint_path, body, api_version="2022-02-01-preview")
    assert answer.status == 200, answer.body
    return answer


def test_a_deployment_cannot_be_deleted_while_a_traffic_change_naming_it_is_pending(slow):
    context, ml, transport = slow
    pending = put_traffic(context, transport, {"blue": 100})
    refused = call(transport, "DELETE", deployment_path(context, "blue"))
    assert refused.status == 409, refused.body
    assert refused.body["error"]["innerError"]["code"] == "Conflict"
    assert "operation is in progress" in refused.body["error"]["message"]
    assert wait_for(transport, pending)["status"] == "Succeeded"
    assert ml.online_endpoints.get(ENDPOINT).traffic == {"blue": 100}
    assert ml.online_deployments.get(name="blue", endpoint_name=ENDPOINT).provisioning_state == "Succeeded"


def test_a_traffic_change_whose_deployment_vanished_fails_and_keeps_the_traffic(slow):
    context, ml, transport = slow
    pending = put_traffic(context, transport, {"blue": 100})
    context.store.delete(deployment_path(context, "blue"))  # gone while the change is pending
    status = wait_for(transport, pending)
    assert (status["status"], status["error"]["code"]) == ("Failed", "BadArgument")
    endpoint = ml.online_endpoints.get(ENDPOINT)
    assert (endpoint.traffic, endpoint.provisioning_state) == ({}, "Failed")
    assert context.scoring.endpoints[ENDPOINT]["traffic"] == {}


def test_a_deployment_being_deleted_stays_deleting_when_its_create_finishes(emulated):
    context, ml, _ = emulated
    create_endpoint(ml)
    did = deployment_path(context, "blue")
    context.store.put(did, {"id": did, "name": "blue", "properties": {"provisioningState": "Deleting"}})
    operations = Operations(context.config)
    worker = Deployments(context, operations, Endpoints(context, operations))
    error = worker._provision(ENDPOINT, "blue", "diabetes", "1", None, None)  # the create's LRO, at its end
    assert error["code"] == "Conflict"
    assert context.store.get(did)["properties"]["provisioningState"] == "Deleting"
    assert worker._provision(ENDPOINT, "blue", "diabetes", "1", None, {"kind": "deployment_failed"})["code"] == \
        "Conflict"
    assert context.store.get(did)["properties"]["provisioningState"] == "Deleting"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"primary"', b"7"])
def test_a_body_that_is_not_an_object_is_400_not_500(emulated, raw):
    context, ml, transport = emulated
    create_endpoint(ml)
    keys = call(transport, "POST", f"{context.config.workspace_id}/onlineEndpoints/{ENDPOINT}/regenerateKeys", raw,
                api_version="2022-02-01-preview")
    upload = call(transport, "POST", f"{context.config.workspace_id}/codes/src/versions/1/startPendingUpload", raw,
                  api_version="2023-04-01")
    for answer in (keys, upload):
        assert (answer.status, answer.body["error"]["code"]) == (400, "InvalidRequestContent"), answer.body


def test_a_registry_whose_backing_mlflow_server_is_down_is_503_naming_it(tmp_path):
    """The real registry (mlflow_api) on a backing URL nothing listens on."""
    context = make_context(tmp_path)
    config = context.config
    context.extras["registry"] = Registry(config, Backing(config.mlflow_backing_url), blobs=None, db_path=lambda: None)
    ml, transport = make_ml_client(context, make_router(context))
    create_endpoint(ml)
    body = {"location": "eastus", "properties": {"endpointComputeType": "Managed", "model": "azureml:diabetes:1"}}
    answer = call(transport, "PUT", deployment_path(context, "blue"), body)
    assert (answer.status, answer.body["error"]["code"]) == (503, "ServiceUnavailable"), answer.body
    assert config.mlflow_backing_url in answer.body["error"]["message"]
    assert context.store.get(deployment_path(context, "blue")) is None


def test_every_poll_of_an_operation_in_progress_is_told_to_come_back_in_a_second(slow):
    """2 s operations: without Retry-After on the status answers azure-core would wait 5 s
    (create/update) or 30 s (delete) between polls; ARM's header is whole seconds, at least 1."""
    context, ml, transport = slow
    transport.delays.clear()
    ml.online_deployments.begin_create_or_update(deployment("blue")).result()
    ml.online_deployments.begin_delete(name="blue", endpoint_name=ENDPOINT).result()
    assert len(transport.delays) >= 4
    assert set(transport.delays) <= {1.0, 2.0}, transport.delays  # the time left, never 5 or 30


def test_finished_operations_are_forgotten_after_their_retention(tmp_path):
    context = make_context(tmp_path)
    operations = Operations(context.config, retention_seconds=0.0, max_finished=10)
    request = parse_request("PUT", "/x?api-version=2023-04-01-preview", {"host": "127.0.0.1:8443"}, b"")

    def started() -> str:
        op_id = urlsplit(operations.start(request, "t", lambda: None)["Azure-AsyncOperation"]).path.rsplit("/", 1)[1]
        while operations.get(op_id)["status"] == "InProgress":
            time.sleep(0.01)
        return op_id

    first = started()
    second = started()  # starting an operation forgets the finished ones past their retention
    assert operations.get(first) is None and operations.get(second)["status"] == "Succeeded"
    kept = Operations(context.config, max_finished=2)
    ids = [urlsplit(kept.start(request, "t", lambda: None)["Location"]).path.rsplit("/", 1)[1] for _ in range(3)]
    while kept.in_progress():
        time.sleep(0.01)
    kept.start(request, "t", lambda: None)
    assert [kept.get(i) is not None for i in ids] == [False, True, True]
