"""Dead letters in a real Azurite: a code Event Grid does not retry dead-letters the event after
one attempt; an unreachable endpoint dead-letters it after maxDeliveryAttempts; the blob's path
and body are Event Grid's."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from azure.storage.blob import BlobServiceClient

from emulators.azure.eventgrid import build
from tests.azure_emulator.eventgrid_support import make_context, receiver, wait_for

pytestmark = pytest.mark.integration
RUN_EVENT = {"subject": "experiments/e1/runs/job-9", "dataVersion": "2",
             "eventType": "Microsoft.MachineLearningServices.RunCompleted",
             "data": {"experimentName": "diabetes-training", "runId": "job-9", "runStatus": "Completed"}}


@pytest.fixture
def host():
    with receiver() as r:
        yield r


@pytest.fixture
def dead_letters(azurite):
    name = "deadletter-" + uuid.uuid4().hex[:10]
    container = BlobServiceClient.from_connection_string(azurite).get_container_client(name)
    container.create_container()
    yield container
    container.delete_container()


def _grid(tmp_path, host, azurite, dead_letters, **parameters):
    context = make_context(tmp_path, host.url, azurite, dead_letter_container=dead_letters.container_name)
    grid = build(context, watch=False, parameters=parameters or None)
    wait_for(lambda: grid.subscriptions["data-blob-created"].state == "Succeeded")
    host.next()  # the handshake
    return context, grid


def _only_blob(container):
    blobs = wait_for(lambda: list(container.list_blobs()))
    assert len(blobs) == 1
    return blobs[0].name, json.loads(container.download_blob(blobs[0].name).readall())


def test_a_400_is_dead_lettered_after_one_attempt(tmp_path, host, azurite, dead_letters):
    context, grid = _grid(tmp_path, host, azurite, dead_letters)
    try:
        host.script.append(lambda r: (400, {"error": "body is not JSON"}, 0))
        grid.publish(context.config.workspace_id, RUN_EVENT)
        assert grid.wait_idle(15)
        name, body = _only_blob(dead_letters)
        assert re.fullmatch(r"MLW-RETRAIN-EVENTS/JOB-STATUS-CHANGED/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/[0-9a-f-]{36}\.json", name)
        [entry] = body
        assert entry["deadLetterReason"] == "UndeliverableDueToHttpBadRequest"
        assert (entry["deliveryAttempts"], entry["lastDeliveryOutcome"], entry["lastHttpStatusCode"]) == (1, "BadRequest", 400)
        assert entry["subject"] == RUN_EVENT["subject"] and entry["data"] == RUN_EVENT["data"]
        assert entry["topic"] == context.config.workspace_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", entry["publishTime"])
        assert entry["lastDeliveryAttemptTime"] >= entry["publishTime"]
        assert host.received.qsize() == 1  # no retry
        state = grid.state()
        assert (state["dead_letters"], state["pending_deliveries"], state["delivered"]) == (1, 0, 0)
        assert state["dead_letter_blobs"] == [f"{dead_letters.container_name}/{name}"]
    finally:
        grid.stop()


def test_an_unreachable_endpoint_is_dead_lettered_after_max_attempts(tmp_path, host, azurite, dead_letters):
    context, grid = _grid(tmp_path, host, azurite, dead_letters, maxDeliveryAttempts=4)
    try:
        context.faults.add({"kind": "eventgrid_unreachable", "match": {"subscription": "job-status-changed"}})
        grid.publish(context.config.workspace_id, RUN_EVENT)
        assert grid.wait_idle(30)
        name, [entry] = _only_blob(dead_letters)
        assert name.startswith("MLW-RETRAIN-EVENTS/JOB-STATUS-CHANGED/")
        assert entry["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
        assert (entry["deliveryAttempts"], entry["lastDeliveryOutcome"]) == (4, "SocketError")
        assert "lastHttpStatusCode" not in entry
        assert host.received.empty()  # nothing reached the endpoint
        assert grid.state()["attempts"] == 4 and grid.state()["retries"] == 3
        assert context.faults.pending()[0]["taken"] == 4  # stays until cleared
    finally:
        grid.stop()


def test_a_retried_failure_past_the_time_to_live_is_dead_lettered(tmp_path, host, azurite, dead_letters):
    # eventTimeToLiveInMinutes 1 × time_scale 0.001 = 60 ms: the first retry (10 s × 0.001 ± 10 %)
    # comes before it, the later ones after it.
    context, grid = _grid(tmp_path, host, azurite, dead_letters, eventTimeToLiveInMinutes=1)
    try:
        host.script.append(lambda r: (503, None, 0))
        grid.publish(context.config.workspace_id, RUN_EVENT)
        assert grid.wait_idle(30)
        name, [entry] = _only_blob(dead_letters)
        assert entry["deadLetterReason"] == "TimeToLiveExceeded"
        assert entry["lastDeliveryOutcome"] == "Busy" and entry["lastHttpStatusCode"] == 503
        assert entry["deliveryAttempts"] == host.received.qsize() < 30
    finally:
        grid.stop()
