"""End to end through the local host: hostile route ids and bodies are 4xx naming the problem,
malformed Event Grid events are kept (a flood within a bounded number of documents), and a
storage outage (Azurite stopped) answers 503 with Retry-After within 10 s, changing nothing."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from devstack.client import ApiClient
from devstack.processes import start_azurite
from shared.domain.signatures import mlflow_signature
from tests.e2e.test_event_grid_and_timers import deliver, model_registered

pytestmark = pytest.mark.e2e

APPROVAL_ID = "diabetes-classifier-v1-00000000"


def deep(levels: int) -> bytes:
    return b'{"reviewer": "ada", "comment": ' + b"[" * levels + b"]" * levels + b"}"


HOSTILE_BODIES = {
    "deep": deep(100_000),
    "deep-within-size": deep(30_000),
    "number": b'{"reviewer": "ada", "comment": ' + b"7" * 5_000 + b"}",
    "huge": json.dumps({"reviewer": "ada", "padding": "y" * 2_000_000}).encode(),
}


def assert_clear_4xx(response, *statuses: int) -> dict:
    assert response.status in statuses, (response.status, response.body[:300])
    assert b"Traceback" not in response.body
    body = response.json()
    assert body["error"], body
    return body


@pytest.mark.parametrize("path", [
    "/api/approvals/..%2F..%2Fproduction", "/api/approvals/..", "/api/approvals/%2E%2E",
    "/api/jobs/..%2F..%2Fapprovals", "/api/jobs/%2E%2E", "/api/drift/reports/..%2F..%2Fproduction",
    "/api/drift/reports/" + "x" * 300,
])
def test_route_ids_with_dot_segments_are_400_or_404(api, path):
    assert_clear_4xx(api.request("GET", path), 400, 404)


@pytest.mark.parametrize("path", [
    f"/api/approvals/..%2F{APPROVAL_ID}/approve", "/api/approvals/%2E%2E/reject",
    "/api/candidates/..%2F..%2Fx/1/redeploy", "/api/candidates/diabetes-classifier/..%2F1/redeploy",
    "/api/candidates/diabetes-classifier/" + "9" * 5_000 + "/redeploy",
])
def test_decisions_on_hostile_ids_are_400_or_404(api, path):
    assert_clear_4xx(api.request("POST", path, {"reviewer": "ada"}), 400, 404)


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("path", [f"/api/approvals/{APPROVAL_ID}/approve", f"/api/approvals/{APPROVAL_ID}/reject",
                                  "/api/rollback", "/api/training/request"])
def test_bodies_past_their_limits_are_400(api, path, kind):
    body = assert_clear_4xx(api.request("POST", path, HOSTILE_BODIES[kind]), 400)
    assert any(word in body["error"] for word in ("nested", "number", "bytes")), body


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
def test_signed_webhook_bodies_past_their_limits_are_400(local_stack, api, kind):
    body, timestamp = HOSTILE_BODIES[kind], str(int(time.time()))
    signature = mlflow_signature(local_stack.values["MLFLOW_WEBHOOK_SECRET"], "d-hostile", timestamp, body)
    headers = {"X-MLflow-Delivery-Id": "d-hostile", "X-MLflow-Timestamp": timestamp, "X-MLflow-Signature": signature}
    assert_clear_4xx(api.request("POST", "/api/mlflow/webhook", body, headers, key=False), 400)


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'[{"id": ' + b"1" * 5_000 + b"}]"])
def test_event_grid_bodies_too_deep_or_with_huge_numbers_are_400(local_stack, body):
    assert deliver(local_stack, body).status == 400


def state_documents(stack):
    from shared.adapters.blob_storage import BlobDocumentStore, blob_service

    return BlobDocumentStore(blob_service(stack.storage_connection), stack.values.get("STATE_CONTAINER", "retrain-state"))


def kept_malformed(stack) -> list[dict]:
    documents = state_documents(stack)
    return [documents.get(key).doc for key in documents.list_keys("events/malformed/", 5_000).keys]


def test_a_malformed_event_with_a_path_like_id_is_kept(local_stack):
    event_id = f"../../production/{uuid.uuid4()}/.."
    malformed = {**model_registered(local_stack.values["MODEL_NAME"], 1), "id": event_id, "data": {"ModelName": 7}}
    assert deliver(local_stack, [malformed]).status == 202
    assert [doc["event"]["id"] for doc in kept_malformed(local_stack) if doc["event"].get("id") == event_id] == [event_id]
    keys = state_documents(local_stack).list_keys("", 5_000).keys
    assert not any(".." in key for key in keys)


def test_a_flood_of_malformed_events_in_one_delivery_writes_a_bounded_number_of_documents(local_stack):
    from shared.services.model_events import MALFORMED_KEPT_PER_MINUTE

    flood = uuid.uuid4().hex
    events = [{**model_registered(local_stack.values["MODEL_NAME"], 1), "id": f"{flood}-{n}", "data": {"ModelName": n + 1}}
              for n in range(1_000)]  # a ModelName of 0 would fall back to the subject's name
    # One invocation per event, one after the other in the local host: more than the client's usual 30 s
    # on a busy machine.
    slow = ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_MASTER_KEY"], timeout=180)
    response = slow.request("POST", "/runtime/webhooks/eventgrid?functionName=on_model_registered", events,
                            {"aeg-event-type": "Notification"})
    assert response.status == 202

    kept = [doc for doc in kept_malformed(local_stack) if str(doc["event"].get("id", "")).startswith(flood)]
    documents = state_documents(local_stack)
    summaries = [documents.get(key).doc for key in documents.list_keys("events/malformed-dropped/", 100).keys]
    assert len(kept) <= 2 * MALFORMED_KEPT_PER_MINUTE, "at most one minute's cap (two if the delivery spans a minute)"
    assert sum(summary["count"] for summary in summaries) == 1_000 - len(kept), "every other event is counted"


def header(response, name: str) -> str | None:
    return next((v for k, v in response.headers.items() if k.lower() == name.lower()), None)


def test_a_storage_outage_is_a_fast_503_with_retry_after_and_changes_nothing(local_stack, api):
    before = {path: api.get_json(path) for path in ("/api/approvals", "/api/jobs", "/api/data", "/api/candidates")}
    azurite = next(p for p in local_stack.processes if p.name == "azurite")
    azurite.stop()
    try:
        for method, path, body in (("GET", "/api/approvals", None), ("GET", "/api/jobs", None),
                                   ("POST", "/api/training/request", {"reason": "during the outage"}),
                                   ("POST", f"/api/approvals/{APPROVAL_ID}/approve", {"reviewer": "ada"}),
                                   ("POST", "/api/rollback", {"reviewer": "ada"})):
            started = time.monotonic()
            response = api.request(method, path, body)
            took = time.monotonic() - started
            assert response.status == 503, (path, response.status, response.body[:300])
            assert took < 10, f"{method} {path} took {took:.1f} s"
            assert int(header(response, "Retry-After")) > 0
            assert "storage" in response.json()["error"] and b"Traceback" not in response.body
    finally:
        restarted = start_azurite(local_stack.root / "azurite", local_stack.log_dir,
                                  local_stack.ports.blob, local_stack.ports.queue).wait_ready()
        local_stack.processes[local_stack.processes.index(azurite)] = restarted
    after = {path: api.get_json(path) for path in before}
    assert after == before
