"""The HTTP blueprints in process: statuses, bodies and error mapping on fakes."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import call, request
from tests.builders import MODEL


def register(world, version: str):
    world.platform.scores[version] = {"auc": 0.9, "accuracy": 0.8}
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def test_list_approvals_pages_newest_first_with_a_continuation(world):
    for version in ("1", "2", "3"):
        register(world, version)
        world.clock.advance(minutes=1)

    status, first = call("list_approvals", request("GET", "approvals", params={"limit": "2"}))
    assert status == 200 and first["count"] == 2 and first["continuation"]
    assert [a["candidate_version"] for a in first["approvals"]] == ["3", "2"]
    status, rest = call("list_approvals", request("GET", "approvals", params={"limit": "2",
                                                                            "continuation": first["continuation"]}))
    assert status == 200 and [a["candidate_version"] for a in rest["approvals"]] == ["1"]
    assert rest["continuation"] is None


def test_list_approvals_filters_by_status(world):
    register(world, "1")
    world.clock.advance(minutes=1)
    register(world, "2")  # supersedes v1's approval
    status, body = call("list_approvals", request("GET", "approvals", params={"status": "superseded"}))
    assert status == 200 and [a["candidate_version"] for a in body["approvals"]] == ["1"]


def test_bad_list_parameters_are_400_naming_the_problem(world):
    for params, word in (({"limit": "0"}, "limit"), ({"limit": "abc"}, "limit"), ({"status": "nope"}, "status"),
                         ({"continuation": "!!not-a-token"}, "continuation")):
        status, body = call("list_approvals", request("GET", "approvals", params=params))
        assert status == 400 and word in body["error"], (params, body)


def test_unknown_approval_is_404_and_a_hostile_id_is_400(world):
    status, body = call("get_approval", request("GET", "approvals/x", route_params={"id": "nope-v1-00000000"}))
    assert status == 404 and "does not exist" in body["error"]
    status, body = call("get_approval", request("GET", "approvals/x", route_params={"id": "../../production"}))
    assert status == 400 and "not valid" in body["error"]


def test_approve_over_the_api_promotes_and_a_second_decision_conflicts(world):
    approval_id = register(world, "1").approval_id
    route = {"id": approval_id, "action": "approve"}
    status, body = call("decide_approval", request("POST", "approvals/x/approve", {"reviewer": "ada"}, route_params=route))
    assert status == 202 and body["status_url"].endswith(f"/api/approvals/{approval_id}")
    assert body["status"] == "approved" and body["decided_by"] == "ada"  # the fake queue runs the steps inline
    status, body = call("decide_approval", request("POST", "approvals/x/approve", {"reviewer": "bob"}, route_params=route))
    assert status == 409 and "already approved" in body["error"]
    status, production = call("production", request("GET", "production"))
    assert status == 200 and production["champion_version"] == "1"


def test_decisions_need_a_reviewer_and_a_json_object(world):
    route = {"id": register(world, "1").approval_id, "action": "approve"}
    status, body = call("decide_approval", request("POST", "approvals/x/approve", b"[1,2]", route_params=route))
    assert status == 400 and "JSON object" in body["error"]
    status, body = call("decide_approval", request("POST", "approvals/x/approve", {}, route_params=route))
    assert status == 400 and "reviewer" in body["error"]


def test_the_signed_link_get_confirms_and_changes_nothing(world):
    register(world, "1")
    link = urlparse(world.notifier.sent[-1].links["Approve"])
    approval_id = link.path.split("/")[3]
    route = {"id": approval_id, "action": "approve"}
    status, page = call("review_link", request("GET", link.path, params={"token": parse_qs(link.query)["token"][0]},
                                               route_params=route))
    assert status == 200 and "<form" in page
    assert world.approvals.get(approval_id).status == "pending"
    status, page = call("review_link", request("GET", link.path, params={"token": "forged"}, route_params=route))
    assert status == 401


def test_rollback_without_a_previous_champion_is_409(world):
    status, body = call("rollback", request("POST", "rollback", {"reviewer": "ops"}))
    assert status == 409 and "no previous champion" in body["error"]


def test_list_data_and_jobs_answer_empty_pages(world):
    for name, route, key in (("list_data", "data", "files"), ("list_jobs", "jobs", "jobs"),
                             ("list_models", "models", "versions"), ("list_candidates", "candidates", "candidates")):
        status, body = call(name, request("GET", route))
        assert status == 200 and body == {key: [], "count": 0, "continuation": None}, name


def test_drift_results_page_their_history(world):
    for _ in range(3):
        world.drift.check_drift("manual")
        world.clock.advance(minutes=1)
    status, body = call("drift_results", request("GET", "drift", params={"limit": "2"}))
    assert status == 200 and len(body["history"]) == 2 and body["continuation"]
    assert body["latest"]["id"] == body["history"][0]["id"]
    status, body = call("drift_report", request("GET", "drift/reports/x", route_params={"id": "..%2F..%2Fx"}))
    assert status == 400


def test_request_training_is_202_with_the_pending_request(world):
    status, body = call("request_training", request("POST", "training/request", {"reason": "new code"}))
    assert status == 202 and body["pending"]["reasons"] == ["new code"]
    status, body = call("request_training", request("POST", "training/request", {"reason": 5}))
    assert status == 400 and "reason" in body["error"]
