"""Blob triggers against a real Azurite: receipts across restarts, retries, poison queue, streaming."""
from __future__ import annotations

import os
import time

import pytest
import requests
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from devhost.blob_poison import POISON_QUEUE, decode_poison_message
from devhost.blob_storage import CHUNK_BYTES
from devhost.blob_stream import make_stream
from devhost.blob_watch import RECEIPTS_CONTAINER, BlobWatch
from devhost.functions import index_functions, load_app

from .conftest import MASTER_KEY, SAMPLE_APP, read_records, sample_env, unique_container, wait_for

pytestmark = pytest.mark.integration

POLL = 0.2


@pytest.fixture
def container(azurite):
    name = unique_container()
    service = BlobServiceClient.from_connection_string(azurite)
    client = service.create_container(name)
    yield client
    client.delete_container()


def blob_records(record_file, name=None):
    return [r for r in read_records(record_file, "blob") if name is None or r["name"] == name]


def test_each_blob_version_fires_once_across_restarts(azurite, container, start_host, tmp_path):
    records = tmp_path / "records.jsonl"
    env = sample_env(records, azurite, container.container_name)
    c = container.container_name
    container.upload_blob("incoming/a.txt", b"one")
    container.upload_blob("incoming/sub/b.txt", b"two")
    container.upload_blob("other/c.txt", b"not watched")

    first = start_host(env, blob_poll_interval=POLL)
    assert wait_for(lambda: len(blob_records(records)) >= 2)
    time.sleep(4 * POLL)
    seen = {r["name"]: r for r in blob_records(records)}
    assert set(seen) == {f"{c}/incoming/a.txt", f"{c}/incoming/sub/b.txt"}
    a = seen[f"{c}/incoming/a.txt"]
    assert a["content"] == "one" and a["length"] == 3 and a["is_stream"] is True and a["etag"]
    first.stop()

    start_host(env, blob_poll_interval=POLL)
    time.sleep(5 * POLL)
    assert len(blob_records(records)) == 2, "a restarted host must not run handled blobs again"

    container.upload_blob("incoming/a.txt", b"three", overwrite=True)
    assert wait_for(lambda: [r for r in blob_records(records) if r["content"] == "three"])
    time.sleep(3 * POLL)
    assert len(blob_records(records)) == 3

    receipts = BlobServiceClient.from_connection_string(azurite).get_container_client(RECEIPTS_CONTAINER)
    receipt = receipts.get_blob_client(f"blobreceipts/sample-app/on_blob/{c}/incoming/a.txt").get_blob_properties()
    assert receipt.metadata["etag"] == container.get_blob_client("incoming/a.txt").get_blob_properties().etag.strip('"')


def test_failing_blob_goes_to_poison_queue_after_threshold(azurite, container, start_host, tmp_path):
    records = tmp_path / "records.jsonl"
    c = container.container_name
    start_host(sample_env(records, azurite, c), blob_poll_interval=POLL)
    container.upload_blob("incoming/bad.txt", b"fail please")
    queue = QueueClient.from_connection_string(azurite, POISON_QUEUE)

    def poison_messages():
        try:
            messages = queue.peek_messages(max_messages=32)
        except Exception:  # the queue appears with the first poison message
            return []
        return [m for m in map(decode_poison_message, (x.content for x in messages)) if m["ContainerName"] == c]

    found = wait_for(poison_messages, timeout=15)
    assert found, "no poison message"
    message = found[0]
    assert message["BlobName"] == "incoming/bad.txt" and message["BlobType"] == "BlockBlob"
    assert message["FunctionId"] == "Host.Functions.on_blob" and message["ETag"]
    time.sleep(4 * POLL)
    assert len(blob_records(records, f"{c}/incoming/bad.txt")) == 3  # host.json poisonBlobThreshold


def test_manual_blob_run_via_admin_api(azurite, container, start_host, tmp_path):
    records = tmp_path / "records.jsonl"
    c = container.container_name
    host = start_host(sample_env(records, azurite, c), blob_poll_interval=POLL)
    container.upload_blob("manual/x.txt", b"by hand")
    response = requests.post(f"{host.url}/admin/functions/on_blob", json={"input": f"{c}/manual/x.txt"},
                             params={"code": MASTER_KEY}, timeout=5)
    assert response.status_code == 202
    assert wait_for(lambda: blob_records(records, f"{c}/manual/x.txt"))[0]["content"] == "by hand"


def test_stream_is_lazy_and_reads_across_chunks(azurite, container):
    data = os.urandom(2 * CHUNK_BYTES + 12345)
    blob = container.upload_blob("big.bin", data)
    stream = make_stream(blob, container.container_name, blob.get_blob_properties())
    assert stream._chunks is None  # nothing downloaded before the first read
    assert stream.length == len(data) and stream.name == f"{container.container_name}/big.bin"
    parts = [stream.read(1_000_000)]
    assert len(stream._buffer) < CHUNK_BYTES
    while chunk := stream.read(3_000_000):
        parts.append(chunk)
    assert b"".join(parts) == data and stream.read() == b""


def test_a_blob_in_flight_is_not_dispatched_twice(azurite, container, monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", azurite)
    monkeypatch.setenv("SAMPLE_CONTAINER", container.container_name)
    fn = next(f for f in index_functions(load_app(SAMPLE_APP), os.environ) if f.name == "on_blob")
    watch = BlobWatch(fn, "in-flight-test", threshold=5)
    container.upload_blob("incoming/once.txt", b"x")
    assert [p.name for p in watch.pending()] == ["incoming/once.txt"]
    assert list(watch.pending()) == []
