from __future__ import annotations

import json
import time

import pytest

from shared.domain.errors import InvalidInput, Unauthorized
from shared.domain.signatures import mlflow_signature
from tests.builders import FakeWorld
from tests.fakes import FakeDeliveryPlatform
from tests.unit.conftest import SECRET

MODEL = "diabetes-classifier"


def submit_job(world, name: str = "train-ours") -> str:
    """A training job this service submitted (its record is what makes a version ours)."""
    from shared.domain.training import QUEUED, TrainingJob

    world.repos.jobs.add(TrainingJob(name, MODEL, QUEUED, [], "ts-1", world.clock().isoformat()))
    return name


@pytest.fixture
def world():
    """The registry holds only what training registered: versions 1-5, each from a job of ours."""
    world = FakeWorld(platform=FakeDeliveryPlatform(registry_only=True))
    job = submit_job(world)
    for version in range(1, 6):
        world.platform.register_model_version(MODEL, version, job_name=job)
    return world


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
    world.platform.register_model_version(MODEL, "4", job_name=job.name)

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


# --- the registry is the truth ------------------------------------------------------------

def registered_event(version, name=MODEL):
    return eventgrid({"ModelName": name, "ModelVersion": version}, subject=f"models/{name}:{version}")


def test_a_phantom_version_is_rejected_and_changes_no_ordering(world):
    assert world.model_events.receive_event_grid(registered_event(3)).outcome == "recorded"

    phantom = world.model_events.receive_mlflow_webhook(*delivery(created(version="50"), delivery_id="d-50"))

    assert phantom.outcome == "rejected" and "no version 50" in phantom.detail
    assert world.candidates.production().newest_candidate == "3"
    assert world.repos.candidates.find("50") is None
    assert [v["version"] for v in world.model_events.list_registered().items] == ["3"]
    rejected = world.model_events.list_rejected().items
    assert [(r["version"], r["source"]) for r in rejected] == [("50", "mlflow-webhook")]
    assert "no version 50" in rejected[0]["reason"]
    later = world.model_events.receive_mlflow_webhook(*delivery(created(version="4"), delivery_id="d-4"))
    assert later.outcome == "recorded"
    assert world.repos.candidates.get("4").status != "stale"
    assert world.candidates.production().newest_candidate == "4"


def test_a_rejected_version_that_is_registered_later_is_acted_on(world):
    assert world.model_events.receive_event_grid(registered_event(6)).outcome == "rejected"
    world.platform.register_model_version(MODEL, 6, job_name="train-ours")
    assert world.model_events.receive_event_grid(registered_event(6)).outcome == "recorded"
    assert world.repos.candidates.find("6") is not None


class CountingRegistry(FakeDeliveryPlatform):
    def __init__(self):
        super().__init__(registry_only=True)
        self.reads = 0

    def get_model_version(self, name, version):
        self.reads += 1
        return super().get_model_version(name, version)


def deliver(world, path: str, version: str):
    """The outcome of a ModelRegistered for `version` by that path; a 400 answer counts as "invalid"."""
    if path == "eventgrid":
        return world.model_events.receive_event_grid(registered_event(version)).outcome
    try:
        return world.model_events.receive_mlflow_webhook(*delivery(created(version=version))).outcome
    except InvalidInput:
        return "invalid"


@pytest.mark.parametrize("path", ["eventgrid", "webhook"])
@pytest.mark.parametrize("version", ["9" * 400, "123456789", "100000000"])
def test_an_out_of_bounds_version_is_refused_before_any_registry_call(path, version):
    world = FakeWorld(platform=CountingRegistry())
    started = time.monotonic()
    outcome = deliver(world, path, version)
    assert time.monotonic() - started < 1 and world.platform.reads == 0
    # Past the parser's digit limit the event is malformed (kept) or the webhook answers 400;
    # within it but over 99,999,999 it is rejected, with the bound as its reason.
    assert outcome in ("rejected", "malformed", "invalid")
    if outcome == "rejected":
        (record,) = world.model_events.list_rejected().items
        assert "from 1 to 99999999" in record["reason"] and len(record["version"]) <= 40
    assert world.candidates.production().newest_candidate is None
    assert world.repos.candidates.newest(10).items == []
    assert all(version not in key for key in world.documents.docs)


def test_a_version_just_over_the_bound_is_kept_as_rejected():
    world = FakeWorld(platform=CountingRegistry())
    assert deliver(world, "eventgrid", "100000000") == "rejected" and world.platform.reads == 0


def test_a_version_of_another_model_is_not_ours(world):
    world.platform.register_model_version("other-model", 7, job_name="train-ours")
    assert world.model_events.receive_event_grid(registered_event(7)).outcome == "rejected"
    assert world.model_events.receive_event_grid(registered_event(7, name="other-model")).outcome == "ignored"
    assert world.repos.candidates.find("7") is None
    assert [r["version"] for r in world.model_events.list_rejected().items] == ["7"]


@pytest.mark.parametrize("job_name", [None, "someone-elses-job", "../../jobs/x"])
def test_a_version_whose_tags_name_no_job_of_ours_is_rejected(world, job_name):
    world.platform.register_model_version(MODEL, 8, job_name=job_name)
    outcome = world.model_events.receive_event_grid(registered_event(8))
    assert outcome.outcome == "rejected" and "not trained by a job of this service" in outcome.detail
    assert world.repos.candidates.find("8") is None
    assert world.candidates.production().newest_candidate is None


def test_the_event_acts_on_the_registry_tags_not_the_payload(world):
    forged = created(version="2", tags={"job_name": "forged", "training_set_id": "forged"})
    world.model_events.receive_mlflow_webhook(*delivery(forged))
    assert world.model_events.list_registered().items[0]["tags"]["job_name"] == "train-ours"


def test_an_unreachable_registry_fails_the_delivery_so_it_is_retried(world):
    from shared.domain.errors import PlatformError

    def unreachable(name, version):
        raise PlatformError("MLflow model-versions/get: server unreachable (URLError)")

    world.platform.get_model_version = unreachable
    with pytest.raises(PlatformError):
        world.model_events.receive_event_grid(registered_event(2))
    assert world.model_events.list_registered().items == [] and world.model_events.list_rejected().items == []


def test_reconciliation_finds_a_version_whose_event_was_lost(world):
    assert world.model_events.receive_event_grid(registered_event(2)).outcome == "recorded"

    report = world.model_events.reconcile()

    assert report.listed == 5 and [s.split(":")[0] for s in report.started] == ["v5", "v4", "v3", "v1"]
    assert world.repos.candidates.get("5").status != "stale"
    assert {world.repos.candidates.get(v).status for v in ("4", "3", "1")} == {"stale"}
    assert world.candidates.production().newest_candidate == "5"
    assert world.model_events.list_registered().items[0]["source"] == "reconciliation"
    again = world.model_events.reconcile()
    assert (again.started, again.rejected) == ([], [])
    late = world.model_events.receive_event_grid(registered_event(5))
    assert late.outcome == "duplicate"


def test_reconciliation_rejects_foreign_versions_once_and_keeps_no_ordering(world):
    world.platform.register_model_version(MODEL, 9, job_name="someone-elses-job")
    first = world.model_events.reconcile()
    second = world.model_events.reconcile()
    assert first.rejected == ["9"] and second.rejected == ["9"]
    assert [r["version"] for r in world.model_events.list_rejected().items] == ["9"]  # kept once
    assert world.candidates.production().newest_candidate == "5"


def test_a_crash_between_the_pipeline_and_the_record_is_redone_by_reconciliation(world):
    original = world.repos.model_events.add

    def crash(event, received_at):
        raise RuntimeError("process died")

    object.__setattr__(world.repos.model_events, "add", crash)
    with pytest.raises(RuntimeError):
        world.model_events.receive_event_grid(registered_event(5))
    object.__setattr__(world.repos.model_events, "add", original)
    candidate = world.repos.candidates.get("5")

    report = world.model_events.reconcile()

    assert report.started[0].startswith("v5") and world.repos.candidates.get("5") == candidate
    assert "5" in world.repos.model_events.recorded_versions()
