"""Hostile input in process: route ids outside their grammar, bodies past their size, depth or
number limits, malformed events with path-like ids — each a 400 (or a kept event) naming the
problem, never a 500; and a storage outage is a 503 with Retry-After."""
from __future__ import annotations

import json
import time

import azure.functions as func
import pytest

from blueprints.http import http_errors
from shared.domain.errors import Unavailable
from shared.domain.signatures import mlflow_signature
from tests.blueprints.conftest import call, request
from tests.builders import MODEL, WEBHOOK_SECRET



def nested(depth: int) -> bytes:
    return b'{"reviewer": "ada", "comment": ' + b"[" * depth + b"]" * depth + b"}"


BIG_NUMBER = b'{"reviewer": "ada", "comment": ' + b"7" * 5_000 + b"}"
HUGE = json.dumps({"reviewer": "ada", "comment": "x" * 1000, "padding": "y" * 200_000}).encode()
# 100,000 levels are past the size limit too; 30,000 fit in it and meet the depth limit.
BODIES = {"deep": (nested(100_000), ("nested", "bytes")), "deep-within-size": (nested(30_000), ("nested",)),
          "number": (BIG_NUMBER, ("number",)), "huge": (HUGE, ("bytes",))}

HOSTILE_IDS = ["..", "../../production", "a/../b", "..%2F..%2Fproduction", "x" * 300, "", "é-v1", "a b"]


@pytest.mark.parametrize("bad_id", HOSTILE_IDS)
@pytest.mark.parametrize("name, route, param, method", [
    ("get_approval", "approvals/x", "id", "GET"),
    ("decide_approval", "approvals/x/approve", "id", "POST"),
    ("get_job", "jobs/x", "name", "GET"),
    ("drift_report", "drift/reports/x", "id", "GET"),
])
def test_a_route_id_outside_its_grammar_is_400_naming_the_id(world, name, route, param, method, bad_id):
    route_params = {param: bad_id, "action": "approve"}
    status, body = call(name, request(method, route, {"reviewer": "ada"} if method == "POST" else b"",
                                      route_params=route_params))
    assert status == 400 and "id" in body["error"] and "not valid" in body["error"], body


@pytest.mark.parametrize("version", ["..", "../1", "²", "١", "1" * 5_000, "0", "-1", ""])
def test_a_candidate_version_outside_its_grammar_is_400(world, version):
    status, body = call("redeploy_candidate", request("POST", "candidates/x/1/redeploy",
                                                      route_params={"name": MODEL, "version": version}))
    assert status == 400 and "version" in body["error"], body


def test_a_foreign_candidate_name_is_400(world):
    status, body = call("redeploy_candidate", request("POST", "candidates/x/1/redeploy",
                                                      route_params={"name": "../../x", "version": "1"}))
    assert status == 400 and MODEL in body["error"]


@pytest.mark.parametrize("limit", ["²", "١٠", "9" * 5_000])
def test_list_limits_in_other_digits_or_huge_are_400(world, limit):
    status, body = call("list_approvals", request("GET", "approvals", params={"limit": limit}))
    assert status == 400 and "limit" in body["error"]
    status, body = call("audit", request("GET", "audit", params={"limit": limit}))
    assert status == 400 and "limit" in body["error"]


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("name, route, route_params", [
    ("decide_approval", "approvals/x/approve", {"id": "diabetes-classifier-v1-00000000", "action": "approve"}),
    ("decide_approval", "approvals/x/reject", {"id": "diabetes-classifier-v1-00000000", "action": "reject"}),
    ("rollback", "rollback", {}),
    ("request_training", "training/request", {}),
])
def test_bodies_past_their_limits_are_400_naming_the_limit(world, name, route, route_params, kind):
    body, words = BODIES[kind]
    status, answer = call(name, request("POST", route, body, route_params=route_params))
    assert status == 400 and any(word in answer["error"] for word in words), answer
    assert world.training.pending_request() is None


def signed(body: bytes, delivery_id: str = "d-hostile") -> dict:
    timestamp = str(int(time.time()))
    return {"X-MLflow-Delivery-Id": delivery_id, "X-MLflow-Timestamp": timestamp,
            "X-MLflow-Signature": mlflow_signature(WEBHOOK_SECRET, delivery_id, timestamp, body)}


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_signed_webhook_bodies_past_their_limits_are_400(world, kind):
    body, words = BODIES[kind]
    if kind == "huge":
        body = json.dumps({"entity": "model_version", "action": "created", "pad": "z" * 2_000_000}).encode()
    status, answer = call("mlflow_webhook", request("POST", "mlflow/webhook", body, headers=signed(body)))
    assert status == 400 and any(word in answer["error"] for word in words), answer
    assert world.model_events.list_registered().items == []


def test_a_webhook_version_of_5000_digits_is_400_not_500(world):
    body = (b'{"entity": "model_version", "action": "created", "data": {"name": "%s", "version": "%s"}}'
            % (MODEL.encode(), b"9" * 5_000))
    status, answer = call("mlflow_webhook", request("POST", "mlflow/webhook", body, headers=signed(body)))
    assert status == 400 and "version" in answer["error"]


def event(event_id: str, data, subject: str = "nothing") -> func.EventGridEvent:
    return func.EventGridEvent(id=event_id, data=data, topic="/subscriptions/x", subject=subject,
                               event_type="Microsoft.MachineLearningServices.ModelRegistered",
                               event_time=None, data_version="1")


def registered_function(name: str):
    from tests.blueprints.conftest import FUNCTIONS

    return FUNCTIONS[name].get_user_function()


def test_a_malformed_event_with_a_path_like_id_is_kept_under_a_hash(world):
    registered_function("on_model_registered")(event("../../production/../x", {"ModelName": 7}))
    kept = world.repos.malformed_events.newest(10).items
    assert [k["event"]["id"] for k in kept] == ["../../production/../x"]
    keys = world.documents.list_keys("", 100).keys
    assert not any(".." in key or "production/" in key for key in keys), keys


@pytest.mark.parametrize("version", ["9" * 5_000, "²", {"nested": [[[]]]}])
def test_events_with_unparseable_versions_are_kept_as_malformed(world, version):
    registered_function("on_model_registered")(event("e-1", {"ModelName": MODEL, "ModelVersion": version}))
    assert len(world.repos.malformed_events.newest(10).items) == 1
    assert world.model_events.list_registered().items == []


def test_a_deeply_nested_malformed_event_is_kept_cut_to_a_bounded_depth(world):
    deep = current = {}
    for _ in range(900):
        current["d"] = current = {}
    registered_function("on_model_registered")(event("e-deep", {"ModelName": 7, "extra": deep}))
    kept = world.repos.malformed_events.newest(10).items
    assert len(kept) == 1 and "cut" in json.dumps(kept[0]["event"])


def test_a_flood_of_distinct_malformed_events_writes_a_bounded_number_of_documents(world):
    from shared.services.model_events import MALFORMED_KEPT_PER_MINUTE

    handler = registered_function("on_model_registered")
    for n in range(1_000):
        handler(event(f"flood-{n}", {"ModelName": 7, "n": n}))
    kept = world.repos.malformed_events.newest(200).items
    dropped = world.repos.malformed_events.dropped(10).items
    assert len(kept) == MALFORMED_KEPT_PER_MINUTE
    assert len(dropped) == 1 and dropped[0]["count"] == 1_000 - MALFORMED_KEPT_PER_MINUTE
    assert len(set(dropped[0]["hashes"])) == 1_000 - MALFORMED_KEPT_PER_MINUTE, "every dropped event is named"
    assert len(world.documents.list_keys("", 1000).keys) <= MALFORMED_KEPT_PER_MINUTE + 1


def test_the_next_minute_keeps_events_whole_again(world):
    from shared.services.model_events import MALFORMED_KEPT_PER_MINUTE

    handler = registered_function("on_model_registered")
    for n in range(MALFORMED_KEPT_PER_MINUTE + 5):
        handler(event(f"a-{n}", {"ModelName": 7, "n": n}))
    world.clock.advance(minutes=1)
    handler(event("later", {"ModelName": 7}))
    assert world.repos.malformed_events.newest(1).items[0]["event"]["id"] == "later"


def test_an_unavailable_store_is_503_with_retry_after():
    @http_errors
    def handler(req):
        raise Unavailable("storage is unreachable while reading a state document (ServiceRequestError)", 7)

    response = handler(request("GET", "approvals"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert "unreachable" in json.loads(response.get_body())["error"]
