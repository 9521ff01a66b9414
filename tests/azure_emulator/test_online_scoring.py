"""Online endpoints' data plane: real `mlflow models serve` processes of a real registered model
(a real MLflow server), the scoring front over real HTTP, the data collector into a real Azurite,
read back by the app's own data collector reader."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from devstack.processes import free_port, training_python
from emulators.azure import http as emulator_http
from emulators.azure.context import Context, EmulatorConfig
from emulators.azure.online import register
from emulators.azure.store import ResourceStore
from shared.adapters.azure_ml.data_collector import DataCollectorInputs
from tests.azure_emulator.test_online_support import COLUMNS, ROOT, ROWS, body, ended, model_name, post_score
from tests.azure_emulator.test_online_support import wait_for_state as wait_state

__all__ = ["model_name"]  # a fixture

pytestmark = pytest.mark.integration
ENDPOINT = f"ep-{uuid.uuid4().hex[:6]}"
KEYS = ("primary-" + uuid.uuid4().hex, "secondary-" + uuid.uuid4().hex)
CONTAINER = "azureml-blobstore-" + uuid.uuid4().hex[:12]
COLLECT = {"collections": {"model_inputs": {"dataCollectionMode": "enabled"}}, "rollingRate": "Hour"}


@pytest.fixture(scope="module")
def blobs(azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite)


@pytest.fixture(scope="module")
def online(mlflow_server, blobs, tmp_path_factory):
    """The part registered on a router served over plain HTTP: (online, port)."""
    root = tmp_path_factory.mktemp("online-root")
    config = EmulatorConfig(
        root=root, repo_root=ROOT, https_port=0, identity_port=0, identity_header="-", storage_connection="",
        storage_account="devstoreaccount1", blob_suffix="", mlflow_backing_url=mlflow_server,
        training_python=training_python(), host_url="", blobs_extension_key="", eventgrid_extension_key="",
        workspace_container=CONTAINER)
    context = Context(config, ResourceStore(), events=None, scoring=None, faults=None, tokens=None,
                      blob_service=lambda: blobs)
    router = emulator_http.Router()
    online = register(router, context)
    assert context.scoring is online and context.extras["online"] is online
    port = free_port()
    server = emulator_http.serve(router, port)
    yield online, port
    server.shutdown()
    online.close()


@pytest.fixture(scope="module")
def deployed(online, model_name):
    """blue and green (both collecting model inputs) serving version 1; blue has 100% live traffic."""
    host, port = online
    host.set_endpoint(ENDPOINT, KEYS, {}, {})
    for deployment in ("blue", "green"):
        host.start_deployment(ENDPOINT, deployment, model_name, "1", COLLECT)
    for deployment in ("blue", "green"):
        assert wait_for_state(host, deployment) == ("Succeeded", "")
    host.set_endpoint(ENDPOINT, KEYS, {"blue": 100, "green": 0}, {})
    return host, port


def wait_for_state(host, deployment: str) -> tuple[str, str]:
    return wait_state(host, ENDPOINT, deployment)


def score(port: int, key: str | None = KEYS[0], deployment: str | None = None, payload: bytes | None = None,
          endpoint: str = ENDPOINT) -> tuple[int, dict, bytes]:
    return post_score(port, endpoint, key, deployment, payload)


def test_a_deployment_scores_with_either_key(deployed):
    host, port = deployed
    for key in KEYS:
        status, headers, data = score(port, key)
        assert status == 200, data
        predictions = json.loads(data)
        assert isinstance(predictions, list) and len(predictions) == len(ROWS)
        assert set(predictions) <= {0, 1}
        assert headers["azureml-model-deployment"] == "blue"
        assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-request-id"])
        assert headers["x-ms-request-id"] == headers["x-request-id"]


def test_a_wrong_or_missing_key_is_401(deployed):
    _, port = deployed
    status, _, data = score(port, "not-the-key")
    assert (status, data) == (401, b"key_auth_access_denied")
    status, _, data = score(port, None)
    assert (status, data) == (401, b"key_auth_bad_header_forbidden")


def test_an_unknown_endpoint_is_404(deployed):
    _, port = deployed
    assert score(port, endpoint="no-such-endpoint")[0] == 404


def test_the_header_routes_to_that_deployment(deployed):
    _, port = deployed
    for _ in range(5):
        status, headers, _ = score(port, deployment="green")
        assert (status, headers["azureml-model-deployment"]) == (200, "green")
    status, headers, data = score(port, deployment="purple")
    assert status == 404 and b"purple" in data


def test_live_traffic_weights_choose_the_deployment(deployed):
    host, port = deployed
    try:
        assert {score(port)[1]["azureml-model-deployment"] for _ in range(12)} == {"blue"}
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 0, "green": 100}, {})
        assert {score(port)[1]["azureml-model-deployment"] for _ in range(12)} == {"green"}
    finally:
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 100, "green": 0}, {})


def test_without_live_traffic_only_a_named_deployment_answers(deployed):
    host, port = deployed
    try:
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 0, "green": 0}, {})
        status, headers, data = score(port)
        assert status == 404 and data.startswith(b"No valid deployments to route to")
        assert "azureml-model-deployment" not in headers
        assert score(port, deployment="blue")[0] == 200
    finally:
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 100, "green": 0}, {})


def test_a_bad_body_is_the_models_refusal(deployed):
    _, port = deployed
    status, headers, _ = score(port, payload=b'{"rows": []}')
    assert status == 424 and headers["ms-azureml-model-error-statuscode"] == "400"
    status, headers, _ = score(port, payload=json.dumps({"input_data": {"columns": ["x"], "data": [["a"]]}}).encode())
    assert status == 424 and headers["ms-azureml-model-error-statuscode"].startswith("4")


def green_mirrored(host) -> int:
    return host.state()["endpoints"][ENDPOINT]["deployments"]["green"]["mirrored"]


def test_mirror_traffic_copies_unnamed_requests_only(deployed):
    host, port = deployed
    try:
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 100, "green": 0}, {"green": 50})
        sent_before, mirrored_before = host.front.mirrors_sent, green_mirrored(host)
        for _ in range(30):  # the client's answer is blue's, whatever the mirror does
            status, headers, _ = score(port)
            assert (status, headers["azureml-model-deployment"]) == (200, "blue")
        copies = host.front.mirrors_sent - sent_before
        assert 0 < copies < 30
        deadline = time.monotonic() + 30
        while green_mirrored(host) < mirrored_before + copies and time.monotonic() < deadline:
            time.sleep(0.1)
        assert green_mirrored(host) == mirrored_before + copies
        sent_before = host.front.mirrors_sent
        for _ in range(10):
            assert score(port, deployment="blue")[0] == 200
        assert host.front.mirrors_sent == sent_before  # a named request is never mirrored
    finally:
        host.set_endpoint(ENDPOINT, KEYS, {"blue": 100, "green": 0}, {})


def test_collected_inputs_are_read_back_by_the_apps_reader(deployed, blobs):
    host, port = deployed
    marker = [[3, 142, 71, 29, 97, 33.25, 0.5, 61]]  # a row no other test sends
    assert score(port, payload=body(marker))[0] == 200
    assert score(port)[0] == 200
    assert score(port, deployment="green")[0] == 200
    host.collector.flush()
    reader = DataCollectorInputs(blobs, CONTAINER, "model_inputs", COLUMNS)
    segments = reader.segments(ENDPOINT, "blue")
    assert segments, "no data collector file for blue"
    instance = host.state()["endpoints"][ENDPOINT]["deployments"]["blue"]["server"]["instance_id"]
    for segment in segments:
        assert re.fullmatch(rf"modelDataCollector/{ENDPOINT}/blue/model_inputs/\d{{4}}/\d\d/\d\d/\d\d/[0-9a-f]{{12}}\.jsonl",
                            segment.key)
    assert any(segment.key.endswith(f"/{instance}.jsonl") for segment in segments)  # the serving instance's file
    rows = [row for segment in segments for chunk in reader.read(segment)
            for row in csv.reader(io.StringIO(chunk.decode()))]
    assert rows[0] == COLUMNS
    assert [str(v) for v in marker[0]] in rows
    assert [str(v) for v in ROWS[0]] in rows
    first_line = blobs.get_blob_client(CONTAINER, segments[-1].key).download_blob().readall().splitlines()[0]
    line = json.loads(first_line)
    assert line["type"] == "azureml.inference.model_inputs" and line["specversion"] == "1.0"
    assert line["source"].endswith(f"/onlineEndpoints/{ENDPOINT}/deployments/blue")
    assert blobs.get_blob_client(CONTAINER, segments[-1].key).get_blob_properties().blob_type == "AppendBlob"
    assert reader.segments(ENDPOINT, "green"), "a request naming green is collected by green"


def test_a_deployment_without_a_collector_collects_nothing(deployed, model_name, blobs):
    host, port = deployed
    host.start_deployment(ENDPOINT, "plain", model_name, "1", None)
    try:
        assert wait_for_state(host, "plain") == ("Succeeded", "")
        assert score(port, deployment="plain")[0] == 200
        host.collector.flush()
        assert DataCollectorInputs(blobs, CONTAINER, "model_inputs", COLUMNS).segments(ENDPOINT, "plain") == []
    finally:
        host.stop_deployment(ENDPOINT, "plain")


def test_a_model_that_cannot_be_served_fails_its_deployment(deployed, model_name):
    host, _ = deployed
    host.start_deployment(ENDPOINT, "broken", model_name, "99", None)
    try:
        state, message = wait_for_state(host, "broken")
        assert state == "Failed"
        assert "exited with code" in message and "log tail" in message
    finally:
        host.stop_deployment(ENDPOINT, "broken")


def test_a_restarted_deployment_keeps_serving_until_its_new_server_answers(deployed, model_name):
    host, port = deployed
    old = host.state()["endpoints"][ENDPOINT]["deployments"]["blue"]["server"]
    host.start_deployment(ENDPOINT, "blue", model_name, "1", COLLECT)
    assert host.deployment_state(ENDPOINT, "blue") == ("Creating", "")
    status, headers, _ = score(port)  # answered by the old server meanwhile
    assert (status, headers["azureml-model-deployment"]) == (200, "blue")
    assert wait_for_state(host, "blue") == ("Succeeded", "")
    new = host.state()["endpoints"][ENDPOINT]["deployments"]["blue"]["server"]
    assert new["pid"] != old["pid"] and new["instance_id"] != old["instance_id"]
    assert score(port)[0] == 200
    assert ended(old["pid"])


def test_stopping_forgets_the_deployment_and_removing_the_endpoint_its_servers(deployed, model_name):
    host, port = deployed
    endpoint = f"ep-stop-{uuid.uuid4().hex[:6]}"
    host.set_endpoint(endpoint, KEYS, {}, {})
    for deployment in ("one", "two"):
        host.start_deployment(endpoint, deployment, model_name, "1", None)
    assert [wait_state(host, endpoint, d) for d in ("one", "two")] == [("Succeeded", "")] * 2
    host.set_endpoint(endpoint, KEYS, {"one": 100}, {})
    servers = {d: s["server"]["pid"] for d, s in host.state()["endpoints"][endpoint]["deployments"].items()}
    host.stop_deployment(endpoint, "two")
    assert "two" not in host.state()["endpoints"][endpoint]["deployments"]
    assert ended(servers["two"])
    assert score(port, deployment="two", endpoint=endpoint)[0] == 404
    assert score(port, endpoint=endpoint)[1]["azureml-model-deployment"] == "one"
    host.remove_endpoint(endpoint)
    assert endpoint not in host.state()["endpoints"]
    assert ended(servers["one"])
    assert score(port, endpoint=endpoint)[0] == 404
    assert score(port)[0] == 200  # the other endpoint is untouched


def servers_under(host, endpoint: str) -> list[int]:
    """Pids of this test process's children working in the endpoint's server folders."""
    folder = str(host.folder / endpoint)
    found = []
    for proc in Path("/proc").iterdir():
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if proc.name.isdigit() and parent == os.getpid() and os.readlink(proc / "cwd").startswith(folder):
                found.append(int(proc.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.parametrize("collector", ["model_inputs", ["model_inputs"], {"collections": ["model_inputs"]}])
def test_a_bad_data_collector_starts_nothing_and_keeps_the_server_starting(online, model_name, collector):
    host, _ = online
    endpoint = f"ep-bad-{uuid.uuid4().hex[:6]}"
    host.start_deployment(endpoint, "red", model_name, "1", None)
    try:
        starting = servers_under(host, endpoint)
        assert len(starting) == 1
        with pytest.raises(ValueError):
            host.start_deployment(endpoint, "red", model_name, "1", collector)
        assert servers_under(host, endpoint) == starting  # no new process, the one starting not stopped
        assert wait_state(host, endpoint, "red") == ("Succeeded", "")
    finally:
        host.stop_deployment(endpoint, "red")
    assert ended(starting[0])
    assert servers_under(host, endpoint) == []
