from __future__ import annotations

import json
import time

import pytest

from shared.domain.errors import InvalidInput, Unauthorized
from shared.domain.signatures import mlflow_signature
from tests.unit.conftest import SECRET


def delivery(payload: dict, secret: str = SECRET, timestamp: int | None = None, delivery_id: str = "d-1"):
    body = json.dumps(payload).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "X-MLflow-Delivery-Id": delivery_id,
        "X-MLflow-Timestamp": ts,
        "X-MLflow-Signature": mlflow_signature(secret, delivery_id, ts, body),
    }
    return headers, body


def created(name="diabetes-classifier", version="1", tags=None):
    return {"entity": "model_version", "action": "created", "timestamp": 1,
            "data": {"name": name, "version": version, "source": "models:/m-1", "run_id": "r1", "tags": tags or {}}}


def test_genuine_delivery_is_recorded_once(world):
    headers, body = delivery(created())
    assert world.model_events.receive_mlflow_webhook(headers, body).outcome == "recorded"
    assert world.model_events.receive_mlflow_webhook(headers, body).outcome == "duplicate"
    assert [v["version"] for v in world.model_events.list_registered().items] == ["1"]


@pytest.mark.parametrize("tamper", ["forged", "unsigned", "stale", "future", "body"])
def test_forged_unsigned_or_stale_deliveries_are_refused(world, tamper):
    headers, body = delivery(created(), timestamp=int(time.time()) - 3600 if tamper == "stale" else
                             int(time.time()) + 3600 if tamper == "future" else None,
                             secret="wrong" if tamper == "forged" else SECRET)
    if tamper == "unsigned":
        headers.pop("X-MLflow-Signature")
    if tamper == "body":
        body = body.replace(b'"1"', b'"2"')
    with pytest.raises(Unauthorized):
        world.model_events.receive_mlflow_webhook(headers, body)
    assert world.model_events.list_registered().items == []


def test_other_models_and_other_events_are_acknowledged_and_ignored(world):
    assert world.model_events.receive_mlflow_webhook(*delivery(created(name="other"))).outcome == "ignored"
    other_event = {"entity": "registered_model", "action": "created", "data": {"name": "x"}}
    assert world.model_events.receive_mlflow_webhook(*delivery(other_event)).outcome == "ignored"


@pytest.mark.parametrize("payload", [
    {"entity": "model_version", "action": "created"},
    {"entity": "model_version", "action": "created", "data": {"name": "diabetes-classifier", "version": "x"}},
    {"entity": "model_version", "action": "created", "data": {"version": "1"}},
    {"action": "created"},
])
def test_malformed_payloads_name_the_problem(world, payload):
    with pytest.raises(InvalidInput):
        world.model_events.receive_mlflow_webhook(*delivery(payload))


def test_body_that_is_not_json_is_invalid(world):
    headers, _ = delivery(created())
    body = b"not json"
    ts, did = headers["X-MLflow-Timestamp"], headers["X-MLflow-Delivery-Id"]
    headers["X-MLflow-Signature"] = mlflow_signature(SECRET, did, ts, body)
    with pytest.raises(InvalidInput):
        world.model_events.receive_mlflow_webhook(headers, body)


def test_registered_version_is_linked_to_its_job(world):
    from shared.domain.batches import BatchRef

    world.training.request_training(BatchRef("data", "a.csv", '"1"', "s"), "a")
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()

    world.model_events.receive_mlflow_webhook(*delivery(created(version="4", tags={"job_name": job.name})))

    assert world.training.get_job(job.name).model_version == "4"


def eventgrid(data: dict, event_type="Microsoft.MachineLearningServices.ModelRegistered", subject="models/diabetes-classifier:5"):
    return {"id": "e-1", "topic": "/subscriptions/x/workspaces/w", "subject": subject, "eventType": event_type,
            "eventTime": "2026-11-22T12:00:00Z", "data": data, "dataVersion": "2", "metadataVersion": "1"}


@pytest.mark.parametrize("data", [
    {"ModelName": "diabetes-classifier", "ModelVersion": 5, "ModelTags": {"job_name": "j"}, "ModelProperties": {}},
    {"modelName": "diabetes-classifier", "modelVersion": "5", "modelTags": {}, "modelProperties": {}},
    {},  # name and version from the subject
])
def test_event_grid_model_registered_in_both_spellings(world, data):
    assert world.model_events.receive_event_grid(eventgrid(data)).outcome == "recorded"
    assert world.model_events.list_registered().items[0]["version"] == "5"
    assert world.model_events.list_registered().items[0]["source"] == "eventgrid"


def test_cloudevents_schema_is_accepted(world):
    event = {"id": "c-1", "source": "/subscriptions/x", "subject": "models/diabetes-classifier:2", "specversion": "1.0",
             "type": "Microsoft.MachineLearningServices.ModelRegistered", "data": {"modelName": "diabetes-classifier", "modelVersion": "2"}}
    assert world.model_events.receive_event_grid(event).outcome == "recorded"


def test_other_event_types_and_models_are_acknowledged_and_ignored(world):
    assert world.model_events.receive_event_grid(eventgrid({}, event_type="Microsoft.MachineLearningServices.RunCompleted")).outcome == "ignored"
    assert world.model_events.receive_event_grid(eventgrid({"ModelName": "other", "ModelVersion": 1})).outcome == "ignored"
    assert world.model_events.list_registered().items == []


@pytest.mark.parametrize("data", [{"ModelName": "diabetes-classifier", "ModelVersion": "x"}, {"ModelName": 7, "ModelVersion": 1}])
def test_malformed_event_grid_events_are_kept_not_dropped(world, data):
    outcome = world.model_events.receive_event_grid(eventgrid(data, subject="no-subject"))
    assert outcome.outcome == "malformed"
    kept = world.repos.malformed_events.newest(10).items
    assert len(kept) == 1 and kept[0]["event"]["data"] == data
