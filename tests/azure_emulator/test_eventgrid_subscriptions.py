"""Event Grid's subscriptions as infra/events.bicep and its modules define them, and their
filters applied to events over real HTTP deliveries."""
from __future__ import annotations

import pytest

from emulators.azure.eventgrid import build, subscriptions
from tests.azure_emulator.eventgrid_support import BLOBS_KEY, EVENTGRID_KEY, make_context, receiver, wait_for


@pytest.fixture
def host():
    with receiver() as r:
        yield r


def test_the_subscriptions_come_from_the_infra_files(tmp_path):
    context = make_context(tmp_path, "http://127.0.0.1:7071")
    found = {s.name: s for s in subscriptions.load(context.config)}
    assert set(found) == {"data-blob-created", "model-registered", "job-status-changed"}
    blobs = found["data-blob-created"]
    assert blobs.endpoint_type == "WebHook"
    assert blobs.endpoint_url == ("http://127.0.0.1:7071/runtime/webhooks/blobs?functionName=Host.Functions.on_data_blob"
                                  f"&code={BLOBS_KEY}")
    assert blobs.topic == context.config.storage_account_id and blobs.topic_name == "devstoreaccount1-events"
    assert blobs.filter["subjectBeginsWith"] == "/blobServices/default/containers/data/blobs/"
    assert blobs.filter["advancedFilters"] == [{"operatorType": "StringNotBeginsWith", "key": "subject",
                                                "values": ["/blobServices/default/containers/data/blobs/_accepted/"]}]
    model = found["model-registered"]
    assert model.endpoint_url == ("http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=on_model_registered"
                                  f"&code={EVENTGRID_KEY}")
    assert model.topic == context.config.workspace_id
    assert model.filter["subjectBeginsWith"] == "models/diabetes-classifier:"
    jobs = found["job-status-changed"]
    assert jobs.function == "on_job_status_changed"
    assert jobs.filter["advancedFilters"][0] == {"operatorType": "StringIn", "key": "data.experimentName",
                                                 "values": ["diabetes-training"]}
    for subscription in found.values():
        assert (subscription.max_delivery_attempts, subscription.ttl_minutes) == (30, 1440)
        assert subscription.dead_letter_container == "eventgrid-deadletter"
        assert subscription.delivery_schema == "EventGridSchema"
        assert "code=***" in subscription.summary()["endpoint"]


def test_events_bicep_parameters_override_its_defaults(tmp_path):
    context = make_context(tmp_path, "http://127.0.0.1:7071")
    found = subscriptions.load(context.config, {"maxDeliveryAttempts": 3, "modelName": "other"})
    assert {s.max_delivery_attempts for s in found} == {3}
    assert next(s for s in found if s.name == "model-registered").filter["subjectBeginsWith"] == "models/other:"


def _blob_event(name: str, event_type: str = "Microsoft.Storage.BlobCreated", container: str = "data") -> dict:
    return {"subject": f"/blobServices/default/containers/{container}/blobs/{name}", "eventType": event_type,
            "data": {"url": f"https://devstoreaccount1.blob.localhost:10000/{container}/{name}"}, "dataVersion": ""}


def _run_event(experiment: str, event_type: str = "Microsoft.MachineLearningServices.RunCompleted") -> dict:
    return {"subject": "experiments/e1/runs/job-1", "eventType": event_type, "dataVersion": "2",
            "data": {"experimentName": experiment, "runId": "job-1"}}


def test_filters_decide_what_each_function_receives(tmp_path, host):
    context = make_context(tmp_path, host.url)
    grid = build(context, watch=False)
    try:
        wait_for(lambda: grid.subscriptions["data-blob-created"].state == "Succeeded")
        assert host.next().headers["aeg-event-type"] == "SubscriptionValidation"
        storage, workspace = context.config.storage_account_id, context.config.workspace_id
        grid.publish(storage, _blob_event("drop/a.csv"))
        grid.publish(storage, _blob_event("_accepted/a.csv"))  # the service's own copies
        grid.publish(storage, _blob_event("b.csv", container="state"))
        grid.publish(storage, _blob_event("c.csv", event_type="Microsoft.Storage.BlobDeleted"))
        grid.publish(workspace, _blob_event("d.csv"))  # another topic
        grid.publish(workspace, {"subject": "models/diabetes-classifier:3", "dataVersion": "2",
                                 "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
                                 "data": {"modelName": "diabetes-classifier", "modelVersion": "3"}})
        grid.publish(workspace, {"subject": "models/diabetes-classifier-old:1", "dataVersion": "2",
                                 "eventType": "Microsoft.MachineLearningServices.ModelRegistered", "data": {}})
        grid.publish(workspace, _run_event("diabetes-training"))
        grid.publish(workspace, _run_event("DIABETES-TRAINING", "Microsoft.MachineLearningServices.RunStatusChanged"))
        grid.publish(workspace, _run_event("someone-else"))
        assert grid.wait_idle(15)
        got = []
        while not host.received.empty():
            request = host.received.get()
            got.append((request.query["functionName"], request.events[0]["subject"], request.events[0]["eventType"]))
        assert sorted(got) == sorted([
            ("Host.Functions.on_data_blob", "/blobServices/default/containers/data/blobs/drop/a.csv",
             "Microsoft.Storage.BlobCreated"),
            ("on_model_registered", "models/diabetes-classifier:3", "Microsoft.MachineLearningServices.ModelRegistered"),
            ("on_job_status_changed", "experiments/e1/runs/job-1", "Microsoft.MachineLearningServices.RunCompleted"),
            ("on_job_status_changed", "experiments/e1/runs/job-1", "Microsoft.MachineLearningServices.RunStatusChanged"),
        ])
        assert grid.state()["unmatched"] == 6 and grid.delivered == 4
    finally:
        grid.stop()
