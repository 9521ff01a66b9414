"""Event Grid deliveries over real HTTP to a scripted receiver: the validation handshake, the
delivery request, retries after a failure and after an injected timeout."""
from __future__ import annotations

import re
import threading

import pytest

from emulators.azure.eventgrid import build
from tests.azure_emulator.eventgrid_support import BLOBS_KEY, make_context, receiver, wait_for

MODEL_EVENT = {"id": "e-1", "subject": "models/diabetes-classifier:7", "dataVersion": "2",
               "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
               "eventTime": "2026-12-02T08:15:00.1234567Z",
               "data": {"modelName": "diabetes-classifier", "modelVersion": "7", "modelTags": {}, "modelProperties": {}}}


@pytest.fixture
def host():
    with receiver() as r:
        yield r


@pytest.fixture
def grid(tmp_path, host):
    context = make_context(tmp_path, host.url)
    grid = build(context, watch=False)
    grid.context = context
    wait_for(lambda: grid.subscriptions["data-blob-created"].state != "Creating")
    yield grid
    grid.stop()


def test_a_webhook_subscription_is_validated_when_created(grid, host):
    request = host.next()
    assert request.path == "/runtime/webhooks/blobs" and request.query["functionName"] == "Host.Functions.on_data_blob"
    assert request.headers["aeg-event-type"] == "SubscriptionValidation"
    assert request.headers["aeg-subscription-name"] == "DATA-BLOB-CREATED"
    [event] = request.events
    assert event["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent"
    assert event["topic"] == grid.context.config.storage_account_id and event["subject"] == ""
    assert re.fullmatch(r"[0-9A-F-]{36}", event["data"]["validationCode"])
    assert grid.subscriptions["data-blob-created"].state == "Succeeded"
    assert grid.state()["subscriptions"] == {"data-blob-created": "Succeeded", "model-registered": "Succeeded",
                                             "job-status-changed": "Succeeded"}


def test_a_failed_handshake_fails_the_subscription_and_it_gets_nothing(tmp_path, host):
    host.script.append(lambda r: (200, {"validationResponse": "wrong"}, 0)
                       if r.headers["aeg-event-type"] == "SubscriptionValidation" else None)
    context = make_context(tmp_path, host.url)
    grid = build(context, watch=False)
    try:
        subscription = wait_for(lambda: grid.subscriptions["data-blob-created"].state != "Creating"
                                and grid.subscriptions["data-blob-created"])
        assert subscription.state == "Failed"
        assert "validation handshake failed" in subscription.failure and BLOBS_KEY not in subscription.failure
        host.next()  # the handshake
        grid.publish(context.config.storage_account_id,
                     {"subject": "/blobServices/default/containers/data/blobs/a.csv",
                      "eventType": "Microsoft.Storage.BlobCreated", "data": {}})
        assert grid.wait_idle(5)
        assert host.received.empty()
        assert grid.state()["dropped"] == 1
    finally:
        grid.stop()


def test_a_subscriptions_state_changes_under_the_deliveries_lock(grid, host):
    host.next()  # the first handshake
    subscription = grid.subscriptions["data-blob-created"]
    host.script.append(lambda r: (200, {"validationResponse": r.events[0]["data"]["validationCode"]}, 1.0)
                       if r.headers["aeg-event-type"] == "SubscriptionValidation" else None)  # "Creating" for 1 s
    with grid.deliveries._cond:  # what submit holds while it reads the state
        creating = threading.Thread(target=grid.create, args=("data-blob-created", 5), daemon=True)
        creating.start()
        creating.join(0.5)
        assert creating.is_alive() and subscription.state == "Succeeded"  # no state change while the lock is held
    creating.join(10)
    assert not creating.is_alive() and subscription.state == "Succeeded"
    assert host.next().headers["aeg-event-type"] == "SubscriptionValidation"


def test_an_event_is_posted_as_an_array_of_one_with_event_grids_headers(grid, host):
    host.next()  # the handshake
    grid.publish(grid.context.config.workspace_id, MODEL_EVENT)
    request = host.next()
    assert request.path == "/runtime/webhooks/eventgrid"
    assert request.query == {"functionName": "on_model_registered", "code": grid.context.config.eventgrid_extension_key}
    assert request.headers["aeg-event-type"] == "Notification"
    assert request.headers["aeg-subscription-name"] == "MODEL-REGISTERED"
    assert request.headers["aeg-delivery-count"] == "0"
    assert request.headers["aeg-data-version"] == "2" and request.headers["aeg-metadata-version"] == "1"
    assert request.headers["content-type"] == "application/json"
    assert request.events == [{**MODEL_EVENT, "topic": grid.context.config.workspace_id, "metadataVersion": "1"}]
    assert grid.wait_idle(5)
    assert (grid.delivered, grid.pending, grid.dead_lettered) == (1, 0, 0)


def test_a_500_is_retried_and_the_retry_counts_the_earlier_attempt(grid, host):
    host.next()
    answers = iter([(500, {"error": "one or more events failed"}, 0)])
    host.script.append(lambda r: next(answers, None))
    grid.publish(grid.context.config.workspace_id, MODEL_EVENT)
    first, second = host.next(), host.next()
    assert (first.headers["aeg-delivery-count"], second.headers["aeg-delivery-count"]) == ("0", "1")
    assert first.events == second.events
    assert grid.wait_idle(5)
    assert grid.state()["attempts"] == 2 and grid.delivered == 1 and grid.dead_lettered == 0


def test_an_injected_timeout_sends_the_request_then_retries_it(grid, host):
    host.next()
    grid.context.faults.add({"kind": "eventgrid_timeout", "match": {"subscription": "model-registered"}, "times": 1})
    grid.publish(grid.context.config.workspace_id, MODEL_EVENT)
    first, second = host.next(), host.next()
    assert first.events == second.events  # the timed-out attempt reached the endpoint
    assert second.headers["aeg-delivery-count"] == "1"
    assert grid.wait_idle(5)
    assert grid.state()["attempts"] == 2 and grid.delivered == 1
    assert grid.context.faults.pending() == []


def test_a_slow_endpoint_past_the_response_timeout_is_retried(tmp_path, host):
    from dataclasses import replace

    context = make_context(tmp_path, host.url)
    context.config = replace(context.config, delivery_timeout_seconds=0.3)
    grid = build(context, watch=False)
    try:
        wait_for(lambda: grid.subscriptions["data-blob-created"].state == "Succeeded")
        host.next()
        slow = iter([(202, None, 1.0)])
        host.script.append(lambda r: next(slow, None))
        grid.publish(context.config.workspace_id, MODEL_EVENT)
        assert host.next().headers["aeg-delivery-count"] == "0"
        assert host.next().headers["aeg-delivery-count"] == "1"
        assert grid.wait_idle(10) and grid.delivered == 1
    finally:
        grid.stop()
