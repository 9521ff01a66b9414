"""End to end: registered model → gate → staging → smoke test → Teams card → reviewer → production.

Real processes throughout: Azurite, MLflow (its webhook plays Event Grid), training jobs,
MLflow scoring servers behind the local endpoint router, the local Functions host; a loopback
receiver stands in for Teams and the tests follow its links the way a reviewer would.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.client import ApiClient, upload_file, wait_for
from shared.domain.signatures import mlflow_signature

pytestmark = pytest.mark.e2e
DATA = Path(__file__).resolve().parents[2] / "data"
PROD_ROWS = (DATA / "diabetes-prod.csv").read_text().splitlines()


def upload_batch(stack, rows: int = 1500) -> str:
    start = 1 + (uuid.uuid4().int % (len(PROD_ROWS) - rows - 1))
    name = f"incoming/prod-{uuid.uuid4().hex[:8]}.csv"
    upload_file(stack.storage_connection, "data", name, ("\n".join([PROD_ROWS[0], *PROD_ROWS[start:start + rows]]) + "\n").encode())
    return name


def settle_training(api: ApiClient, timeout: float = 240) -> None:
    """Wait until no job is unfinished and none was added for a quiet period and a scheduler tick,
    so that an earlier test's retraining cannot register a newer version after this test's."""
    def snapshot():
        jobs = api.get_json("/api/jobs")["jobs"]
        return len(jobs), all(j["status"] in ("completed", "failed", "canceled") for j in jobs)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = snapshot()
        time.sleep(3.5)
        if before[1] and snapshot() == before:
            return
    raise AssertionError("training did not settle")


def new_pending_approval(api: ApiClient, stack) -> dict:
    """The approval request of the version trained on a batch uploaded now. Matched by the job that
    trained on the batch: a job still running for an earlier test may register a version meanwhile."""
    name = upload_batch(stack)

    def trained_version():
        jobs = [j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])]
        return next((j["model_version"] for j in jobs if j.get("model_version")), None)

    version = wait_for(f"a model version trained on {name}", trained_version, 240, interval=0.5)

    def pending():
        return next((a for a in api.get_json("/api/approvals?status=pending")["approvals"]
                     if a["candidate_version"] == version), None)

    return wait_for(f"the approval request of v{version}", pending, 240, interval=0.5)


def decided(api: ApiClient, approval_id: str, timeout: float = 60) -> dict:
    """The approval once its decision's queued steps have run (HTTP answers 202 when it is claimed)."""
    return wait_for(f"approval {approval_id} decided", lambda: next(
        (a for a in [api.get_json(f"/api/approvals/{approval_id}")] if a["status"] not in ("pending", "deciding")),
        None), timeout, interval=0.25)


def score(stack, rows: list[str], deployment: str | None = None, key: str | None = None):
    columns = PROD_ROWS[0].split(",")
    keep = [i for i, c in enumerate(columns) if c not in ("PatientID", "Diabetic")]
    data = [[float(r.split(",")[i]) if "." in r.split(",")[i] else int(r.split(",")[i]) for i in keep] for r in rows]
    body = {"input_data": {"columns": [columns[i] for i in keep], "index": list(range(len(data))), "data": data}}
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {key or stack.values['LOCAL_ENDPOINT_KEY']}"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    url = f"{stack.endpoint_url}/endpoints/{stack.values['ENDPOINT_NAME']}/score"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def card_for(teams, approval_id: str) -> dict:
    def find():
        cards.extend(teams.cards())
        return next((c for c in cards if any(approval_id in a.get("url", "") for a in c.get("actions", []))), None)

    cards: list[dict] = []
    return wait_for(f"the Teams card of {approval_id}", find, 10)


def browse(url: str, form: dict | None = None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/x-www-form-urlencoded"} if data else {},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_reviewer_approves_from_the_teams_card_and_production_answers(local_stack, api, teams):
    approval = new_pending_approval(api, local_stack)
    deployment = approval["deployment"]

    assert approval["gate"]["passed"] and approval["smoke"]["passed"]
    status, predictions, headers = score(local_stack, PROD_ROWS[1:4], deployment=deployment)
    assert status == 200 and set(predictions) <= {0, 1} and len(predictions) == 3, "staging answers by name"
    assert headers.get("azureml-model-deployment") == deployment

    card = card_for(teams, approval["id"])
    actions = {a["title"]: a for a in card["actions"]}
    assert set(actions) == {"Approve", "Reject", "Details"}
    assert all(a["type"] == "Action.OpenUrl" for a in actions.values())
    card_text = json.dumps(card)
    assert "candidate" in card_text and f"v{approval['candidate_version']}" in card_text

    status, page = browse(actions["Approve"]["url"])  # what a link previewer would do, too
    assert status == 200 and "<form" in page
    assert api.get_json(f"/api/approvals/{approval['id']}")["status"] == "pending", "a GET decides nothing"
    status, page = browse(actions["Approve"]["url"], {"reviewer": "ada@example.com", "comment": "ship it"})
    assert status == 200 and "approved" in page

    outcome = decided(api, approval["id"])
    assert outcome["status"] == "approved" and outcome["decided_by"] == "ada@example.com" and outcome["decided_via"] == "link"
    status, predictions, headers = score(local_stack, PROD_ROWS[100:110])
    assert status == 200 and len(predictions) == 10 and set(predictions) <= {0, 1}
    assert headers.get("azureml-model-deployment") == deployment, "live traffic now goes to the candidate"
    assert api.get_json("/api/production")["champion_version"] == approval["candidate_version"]
    assert browse(actions["Approve"]["url"], {"reviewer": "ada@example.com"})[0] == 403, "single use"
    assert browse(actions["Reject"]["url"], {"reviewer": "mallory"})[0] == 409, "already decided"
    audit = api.get_json("/api/audit")["entries"]
    assert any(e["action"] == "promoted" and e["actor"] == "ada@example.com" for e in audit)


def test_links_and_keys_are_enforced(local_stack, api, teams):
    approval = new_pending_approval(api, local_stack)
    card = card_for(teams, approval["id"])
    approve_url = next(a["url"] for a in card["actions"] if a["title"] == "Approve")
    details_url = next(a["url"] for a in card["actions"] if a["title"] == "Details")

    tampered = approve_url[:-3] + ("AAA" if not approve_url.endswith("AAA") else "BBB")
    assert browse(tampered)[0] == 401
    assert browse(tampered, {"reviewer": "eve"})[0] == 401
    wrong_action = approve_url.replace("/approve?", "/reject?")
    assert browse(wrong_action, {"reviewer": "eve"})[0] == 401
    anonymous = ApiClient(local_stack.host_url)
    assert anonymous.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": "eve"}).status == 401
    status, page = browse(details_url)
    assert status == 200 and approval["deployment"] in page
    assert score(local_stack, PROD_ROWS[1:2], key="wrong-key")[0] == 401
    body = api.request("POST", f"/api/approvals/{approval['id']}/approve", {"comment": "who am I?"}).body
    assert b"reviewer" in body
    secrets = [local_stack.values[k] for k in ("APPROVAL_SIGNING_KEY", "LOCAL_HOST_FUNCTION_KEY", "MLFLOW_WEBHOOK_SECRET")]
    log = (local_stack.log_dir / "functions-host.log").read_text()
    assert not any(secret in log for secret in secrets)
    token = urllib.parse.parse_qs(urllib.parse.urlparse(approve_url).query)["token"][0]
    assert token not in log

    rejected = api.request("POST", f"/api/approvals/{approval['id']}/reject", {"reviewer": "bob", "comment": "no"})
    assert rejected.status == 202 and rejected.json()["status_url"].endswith(f"/api/approvals/{approval['id']}")
    assert decided(api, approval["id"])["status"] == "rejected"
    endpoint_state = json.loads((local_stack.endpoints_dir / local_stack.values["ENDPOINT_NAME"] / "endpoint.json").read_text())
    assert approval["deployment"] not in endpoint_state["deployments"], "staging removed on reject"


def test_a_hundred_concurrent_approvals_promote_exactly_once(local_stack, api):
    approval = new_pending_approval(api, local_stack)

    def approve(i):
        return api.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": f"racer-{i}"}).status

    with ThreadPoolExecutor(max_workers=25) as pool:
        statuses = list(pool.map(approve, range(100)))

    assert statuses.count(202) == 1 and statuses.count(409) == 99, sorted(set(statuses))
    assert decided(api, approval["id"])["status"] == "approved"
    assert api.get_json("/api/production")["champion_version"] == approval["candidate_version"]

    def promoted():  # the step records the promotion just after the approval reads approved
        return [e for e in api.get_json("/api/audit")["entries"]
                if e["action"] == "promoted" and e["approval_id"] == approval["id"]]

    assert len(wait_for("the promotion's audit entry", promoted, 30, interval=0.2)) == 1


def with_a_previous_champion(api: ApiClient, stack) -> dict:
    """Production once two versions were promoted on this stack: the earlier tests' promotions, or
    (their stack is another worker's under pytest-xdist) versions promoted here."""
    for _ in range(2):
        production = api.get_json("/api/production")
        if production["previous_version"]:
            return production
        approval = new_pending_approval(api, stack)
        assert api.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": "ops@example.com"}).status == 202
        assert decided(api, approval["id"])["status"] == "approved"
    return api.get_json("/api/production")


def test_rollback_gives_traffic_back_to_the_previous_champion(local_stack, api):
    before = with_a_previous_champion(api, local_stack)
    assert before["previous_version"]

    response = api.request("POST", "/api/rollback", {"reviewer": "ops@example.com", "comment": "drill"})

    assert response.status == 202 and response.json()["rollback"]["to_version"] == before["previous_version"]
    after = wait_for("the rollback", lambda: next((p for p in [api.get_json("/api/production")]
                                                   if p["champion_version"] == before["previous_version"]), None), 120)
    assert after["champion_version"] == before["previous_version"]
    status, predictions, headers = score(local_stack, PROD_ROWS[1:3])
    assert status == 200 and headers.get("azureml-model-deployment") == after["champion_deployment"]


def _settled(candidate: dict) -> bool:
    """Off the candidate path and no step of it queued or running: a candidate reads awaiting
    approval a moment before its request_approval step closes."""
    steps = candidate.get("steps") or {}
    idle = steps.get("step") == "done" or not (steps.get("enqueued") or steps.get("claimed_at"))
    return candidate["status"] not in ("received", "gating", "deploying") and idle


def settled_candidates(api: ApiClient) -> list[dict]:
    """The candidates once none is on its queued steps (an earlier test's may still be)."""
    def settled():
        found = api.get_json("/api/candidates")["candidates"]
        return found if all(_settled(c) for c in found) else None

    return wait_for("every candidate settled", settled, 240, interval=0.5)


def test_duplicate_registry_deliveries_change_nothing(local_stack, api):
    candidates = settled_candidates(api)
    version = candidates[0]["version"]
    body = json.dumps({"entity": "model_version", "action": "created",
                       "data": {"name": local_stack.values["MODEL_NAME"], "version": version, "tags": {}}}).encode()
    secret = local_stack.values["MLFLOW_WEBHOOK_SECRET"]

    def deliver(i):
        ts = str(int(time.time()))
        headers = {"X-MLflow-Delivery-Id": f"dup-{i}", "X-MLflow-Timestamp": ts,
                   "X-MLflow-Signature": mlflow_signature(secret, f"dup-{i}", ts, body)}
        return api.request("POST", "/api/mlflow/webhook", body, headers, key=False)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(deliver, range(40)))

    assert all(r.status == 200 and r.json()["outcome"] == "duplicate" for r in responses)
    assert api.get_json("/api/candidates")["candidates"] == candidates
