"""BlobCreated from real uploads to Azurite: the watcher publishes Azure's event shape, the
data-blob-created subscription delivers what its filters let through, and the control routes
over real HTTP show the state and publish."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings

from emulators.azure import http as emulator_http
from emulators.azure.eventgrid import register
from emulators.azure.http import Router
from tests.azure_emulator.eventgrid_support import make_context, receiver, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def host():
    with receiver() as r:
        yield r


@pytest.fixture
def data(azurite):
    name = "data-" + uuid.uuid4().hex[:10]
    container = BlobServiceClient.from_connection_string(azurite).get_container_client(name)
    container.create_container()
    container.upload_blob("before.csv", b"a,b\n1,2\n")  # there before Event Grid: never announced
    yield container
    container.delete_container()


@pytest.fixture
def emulator(tmp_path, host, azurite, data):
    """The part registered on a router served over plain HTTP: (context, base URL)."""
    context = make_context(tmp_path, host.url, azurite, data_container=data.container_name)
    router = Router()
    register(router, context)
    server = emulator_http.serve(router, 0)
    grid = context.extras["eventgrid"]
    wait_for(lambda: grid.subscriptions["data-blob-created"].state == "Succeeded" and grid.watcher.ready.is_set())
    host.next()  # the handshake
    yield context, f"http://127.0.0.1:{server.server_port}"
    context.extras["stop"]["eventgrid"]()
    server.shutdown()
    server.server_close()


def _call(url: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def test_an_upload_is_delivered_as_blob_created(emulator, host, data):
    context, _ = emulator
    blob = data.upload_blob("incoming/new file.csv", b"x,y\n1,2\n",
                            content_settings=ContentSettings(content_type="text/csv"))
    request = host.next()
    assert request.path == "/runtime/webhooks/blobs" and request.headers["aeg-subscription-name"] == "DATA-BLOB-CREATED"
    [event] = request.events
    assert event["eventType"] == "Microsoft.Storage.BlobCreated"
    assert event["topic"] == context.config.storage_account_id
    assert event["subject"] == f"/blobServices/default/containers/{data.container_name}/blobs/incoming/new file.csv"
    assert event["dataVersion"] == "" and event["metadataVersion"] == "1"
    body = event["data"]
    assert body["url"] == (f"https://devstoreaccount1.blob.localhost:10000/{data.container_name}/incoming/new%20file.csv")
    assert body["eTag"] == blob.get_blob_properties().etag.strip('"')
    assert (body["contentType"], body["contentLength"], body["blobType"], body["api"]) == ("text/csv", 8, "BlockBlob", "PutBlob")
    assert {"clientRequestId", "requestId", "sequencer", "storageDiagnostics"} <= set(body)
    assert re.fullmatch(r"[0-9a-f]{32}", body["sequencer"])


def test_the_subscription_filter_and_new_etags(emulator, host, data):
    context, base = emulator
    data.upload_blob("_accepted/copy.csv", b"1")  # excluded by the advanced filter
    data.upload_blob("a.csv", b"1")
    first = host.next().events[0]
    assert first["subject"].endswith("/blobs/a.csv")
    data.upload_blob("a.csv", b"22", overwrite=True)  # a new ETag: a new BlobCreated
    second = host.next().events[0]
    assert second["subject"].endswith("/blobs/a.csv") and second["data"]["eTag"] != first["data"]["eTag"]
    status, state = _call(f"{base}/_emulator/eventgrid/idle?timeout=10", "POST")
    assert status == 200 and state["pending_deliveries"] == 0
    assert host.received.empty()  # neither before.csv nor _accepted/copy.csv
    assert state["delivered"] == 2 and state["unmatched"] == 1


def test_control_routes(emulator, host):
    context, base = emulator
    status, listing = _call(f"{base}/_emulator/eventgrid/subscriptions")
    assert status == 200 and [s["name"] for s in listing["value"]] == ["data-blob-created", "model-registered",
                                                                       "job-status-changed"]
    assert all(context.config.blobs_extension_key not in json.dumps(s) for s in listing["value"])
    status, _ = _call(f"{base}/_emulator/eventgrid/events", "POST", {
        "topic": context.config.workspace_id,
        "event": {"subject": "models/diabetes-classifier:1", "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
                  "data": {"modelName": "diabetes-classifier", "modelVersion": "1"}, "dataVersion": "2"}})
    assert status == 202
    assert host.next().query["functionName"] == "on_model_registered"
    status, created = _call(f"{base}/_emulator/eventgrid/subscriptions/data-blob-created/create", "POST")
    assert status == 200 and created["provisioningState"] == "Succeeded"
    assert host.next().headers["aeg-event-type"] == "SubscriptionValidation"
    assert context.extras["state"]["eventgrid"]()["subscriptions"]["data-blob-created"] == "Succeeded"


@pytest.mark.parametrize("path", ["/_emulator/eventgrid/idle?timeout=soon", "/_emulator/eventgrid/idle?timeout=nan",
                                  "/_emulator/eventgrid/subscriptions/data-blob-created/create?wait=-1"])
def test_control_routes_refuse_a_wait_that_is_not_seconds(emulator, path):
    _, base = emulator
    with pytest.raises(urllib.error.HTTPError) as refused:
        _call(f"{base}{path}", "POST")
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"]["code"] == "InvalidRequest"
