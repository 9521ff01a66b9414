"""SDK-type blob triggers against a real Azurite: a real BlobClient instead of the bytes, and the
blobs webhook (Event Grid BlobCreated) sharing the scan's receipts and poison queue."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
import requests
from azure.storage.blob import BlobClient, BlobServiceClient
from azure.storage.queue import QueueClient

from devhost.blob_binding import trigger_value
from devhost.blob_poison import POISON_QUEUE, decode_poison_message
from devhost.functions import index_functions, load_app
from devhost.host import FunctionsHost

from .conftest import FUNCTION_KEY, MASTER_KEY, read_records, sample_env, unique_container, wait_for

pytestmark = pytest.mark.integration

SDK_APP = Path(__file__).resolve().parent / "sdk_app"
BLOBS_KEY = "test-blobs-extension-key"
SLOW_SCAN = 60.0  # the scan runs once at start, then not again during a test: only events trigger


@pytest.fixture
def start_host():
    """Start hosts of the SDK-type app on free ports; all of them are stopped after the test."""
    hosts: list[FunctionsHost] = []

    def start(env: dict[str, str], **kwargs) -> FunctionsHost:
        hosts.append(FunctionsHost(SDK_APP, 0, {**env, "LOCAL_HOST_BLOBS_KEY": BLOBS_KEY}, **kwargs))
        return hosts[-1].start()

    yield start
    for host in reversed(hosts):
        host.stop()


@pytest.fixture
def container(azurite):
    client = BlobServiceClient.from_connection_string(azurite).create_container(unique_container())
    yield client
    client.delete_container()


def client_records(record_file, name=None):
    return [r for r in read_records(record_file, "blob-client") if name is None or r["name"] == name]


def blob_created(container: str, name: str, account_url: str = "http://127.0.0.1:10000/devstoreaccount1") -> dict:
    from urllib.parse import quote

    return {
        "id": str(uuid.uuid4()), "eventType": "Microsoft.Storage.BlobCreated", "subject":
        f"/blobServices/default/containers/{container}/blobs/{name}", "eventTime": "2026-11-22T12:00:00.0000000Z",
        "dataVersion": "", "metadataVersion": "1", "topic": "/subscriptions/x/resourceGroups/rg/providers/"
        "Microsoft.Storage/storageAccounts/devstoreaccount1",
        "data": {"api": "PutBlob", "blobType": "BlockBlob", "contentLength": 1, "eTag": "0x8D",
                 "url": f"{account_url}/{container}/{quote(name)}"},
    }


def post_events(host, body, event_type="Notification", function="Host.Functions.on_blob_client", key=BLOBS_KEY):
    params = {"functionName": function}
    if key:
        params["code"] = key
    headers = {"aeg-event-type": event_type} if event_type else {}
    payload = {"data": body} if isinstance(body, bytes) else {"json": body}
    return requests.post(f"{host.url}/runtime/webhooks/blobs", params=params, headers=headers, timeout=10, **payload)


def test_an_sdk_typed_function_gets_a_blob_client_built_from_the_connection_setting(azurite, container,
                                                                                     monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", azurite)
    monkeypatch.setenv("SAMPLE_CONTAINER", container.container_name)
    functions = {f.name: f for f in index_functions(load_app(SDK_APP), os.environ)}
    name = "sdk/ünï code/a b.csv"
    container.upload_blob(name, b"x" * 10)

    value = trigger_value(functions["on_blob_client"], container.container_name, name)

    assert type(value) is BlobClient  # what the extension hands the function in Azure, not a stream
    assert (value.container_name, value.blob_name) == (container.container_name, name)
    assert value.download_blob().readall() == b"x" * 10
    stream = trigger_value(functions["on_blob_stream"], container.container_name, name)
    assert stream.name == f"{container.container_name}/{name}" and stream.length == 10  # InputStream still served


def test_building_the_client_reads_nothing_from_storage(monkeypatch):
    # An account no one listens on (a request there fails): building the client must not touch it.
    monkeypatch.setenv("AzureWebJobsStorage", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                       "AccountKey=Zm9v;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;")
    monkeypatch.setenv("SAMPLE_CONTAINER", "nowhere")
    fn = next(f for f in index_functions(load_app(SDK_APP), os.environ) if f.name == "on_blob_client")
    client = trigger_value(fn, "nowhere", "sdk/big.csv")
    assert client.blob_name == "sdk/big.csv" and client.url == "http://127.0.0.1:9/devstoreaccount1/nowhere/sdk/big.csv"


def test_a_blob_created_event_runs_the_function_once_with_the_scans_receipts(azurite, container, start_host,
                                                                             tmp_path):
    records = tmp_path / "records.jsonl"
    c = container.container_name
    host = start_host(sample_env(records, azurite, c),
                      blob_poll_interval=SLOW_SCAN)
    time.sleep(0.5)  # the first scan has run on the empty container
    container.upload_blob("sdk/ev ent.txt", b"by event")

    response = post_events(host, [blob_created(c, "sdk/ev ent.txt")])

    assert response.status_code == 202 and response.content == b""
    seen = wait_for(lambda: client_records(records, "sdk/ev ent.txt"), timeout=10)
    assert seen and seen[0]["content"] == "by event" and seen[0]["is_client"] and seen[0]["container"] == c
    assert post_events(host, blob_created(c, "sdk/ev ent.txt")).status_code == 202  # a duplicate delivery
    time.sleep(1.0)
    assert len(client_records(records, "sdk/ev ent.txt")) == 1, "the receipt covers this version"
    container.upload_blob("sdk/ev ent.txt", b"by event, again", overwrite=True)
    assert post_events(host, [blob_created(c, "sdk/ev ent.txt")]).status_code == 202
    assert wait_for(lambda: len(client_records(records, "sdk/ev ent.txt")) == 2, timeout=10)


def test_a_blob_seen_by_the_scan_is_not_run_again_by_its_event(azurite, container, start_host, tmp_path):
    records = tmp_path / "records.jsonl"
    c = container.container_name
    container.upload_blob("sdk/both.txt", b"scan first")
    host = start_host(sample_env(records, azurite, c),
                      blob_poll_interval=SLOW_SCAN)
    assert wait_for(lambda: client_records(records, "sdk/both.txt"), timeout=10)
    assert post_events(host, blob_created(c, "sdk/both.txt")).status_code == 202
    time.sleep(1.0)
    assert len(client_records(records, "sdk/both.txt")) == 1


def test_a_failing_event_blob_is_retried_by_the_scan_and_poisoned_at_the_threshold(azurite, container, start_host,
                                                                                    tmp_path):
    records = tmp_path / "records.jsonl"
    c = container.container_name
    host = start_host(sample_env(records, azurite, c),
                      blob_poll_interval=0.3)
    container.upload_blob("sdk/bad.txt", b"fail please")
    assert post_events(host, blob_created(c, "sdk/bad.txt")).status_code == 202
    queue = QueueClient.from_connection_string(azurite, POISON_QUEUE)

    def poisoned():
        try:
            messages = [decode_poison_message(m.content) for m in queue.peek_messages(max_messages=32)]
        except Exception:  # the queue appears with the first poison message
            return []
        return [m for m in messages if m["ContainerName"] == c]

    found = wait_for(poisoned, timeout=15)
    assert found and found[0]["FunctionId"] == "Host.Functions.on_blob_client" and found[0]["BlobName"] == "sdk/bad.txt"
    time.sleep(1.0)
    assert len(client_records(records, "sdk/bad.txt")) == 3  # sample host.json poisonBlobThreshold


def test_the_webhook_handshake_keys_and_bad_requests(azurite, container, start_host, tmp_path):
    c = container.container_name
    host = start_host(sample_env(tmp_path / "r.jsonl", azurite, c),
                      blob_poll_interval=SLOW_SCAN)
    validation = [{"id": "v", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                   "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}]
    response = post_events(host, validation, event_type="SubscriptionValidation")
    assert response.status_code == 200
    assert response.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert post_events(host, validation, event_type="SubscriptionValidation", key=MASTER_KEY).status_code == 200
    assert post_events(host, [], event_type="Unsubscribe").status_code == 202

    event = [blob_created(c, "sdk/x.txt")]
    assert post_events(host, event, key=None).status_code == 401
    assert post_events(host, event, key=FUNCTION_KEY).status_code == 401
    assert post_events(host, event, function="Host.Functions.nope").status_code == 404
    assert post_events(host, event, function="Host.Functions.hello").status_code == 404  # not a blob function
    assert post_events(host, event, function="on_blob_client").status_code == 404  # the id Event Grid is given
    assert post_events(host, event, event_type=None).status_code == 400
    assert post_events(host, b"not json").status_code == 400
    no_url = post_events(host, [{"id": "1", "data": {}}])
    assert no_url.status_code == 400 and "data.url" in no_url.json()["error"]
    assert requests.get(f"{host.url}/runtime/webhooks/blobs", timeout=5).status_code == 405


def test_with_event_grid_scans_off_only_an_event_runs_an_event_grid_source_trigger(azurite, container, start_host,
                                                                                    tmp_path):
    # DEVHOST_EVENTGRID_BLOB_SCAN=0 (the Azure emulator's stack): as on the real host, a source=EventGrid
    # trigger is never run by a container scan, so the blob waits for its BlobCreated event.
    records = tmp_path / "records.jsonl"
    c = container.container_name
    container.upload_blob("sdk/waits.txt", b"event only")
    host = start_host({**sample_env(records, azurite, c), "DEVHOST_EVENTGRID_BLOB_SCAN": "0"},
                      blob_poll_interval=0.2)
    time.sleep(1.5)  # several scans have passed
    assert client_records(records, "sdk/waits.txt") == []
    assert post_events(host, [blob_created(c, "sdk/waits.txt")]).status_code == 202
    seen = wait_for(lambda: client_records(records, "sdk/waits.txt"), timeout=10)
    assert seen and seen[0]["content"] == "event only"
