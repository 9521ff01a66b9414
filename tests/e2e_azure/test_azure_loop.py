"""End to end on the Azure emulator (ML_BACKEND=azure, the real SDKs, loopback only), with Azure's
failures injected: each scenario checks the app's HTTP API and the emulated platform (control
state, ARM with a managed-identity token, the request trail). The scenarios build on each other
and run in file order on one stack: v1 through a redelivered BlobCreated and an expired token to
production; v2 through dead-lettered events (found again by reconciliation) into a failed
deployment, a throttled redeploy, a failing traffic switch and its recovery."""
from __future__ import annotations

import ast
import json

import pytest

from devstack.processes import REPO_ROOT
from shared.domain.naming import deployment_name_for
from tests.e2e_azure.conftest import wait_until

pytestmark = pytest.mark.e2e

DEV = (REPO_ROOT / "data" / "diabetes-dev.csv").read_text()
PROD_LINES = (REPO_ROOT / "data" / "diabetes-prod.csv").read_text().splitlines()
FIRST, SECOND = "incoming/e2e-azure-dev.csv", "incoming/e2e-azure-prod-slice.csv"
SETTLED = ("received", "gating", "deploying")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def upload(stack, name: str, text: str) -> None:
    container = stack.values.get("DATA_CONTAINER", "data")
    stack.blob_service().get_blob_client(container, name).upload_blob(text.encode(), overwrite=True)


def candidate(api, version: str) -> dict | None:
    return next((c for c in api.get_json("/api/candidates")["candidates"] if c["version"] == version), None)


def settled_candidate(api, version: str) -> dict | None:
    found = candidate(api, version)
    return found if found and found["status"] not in SETTLED else None


def jobs_with(api, name: str) -> list[dict]:
    return [j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])]


def finished_job(api, name: str) -> dict | None:
    job = api.get_json(f"/api/jobs/{name}")
    return job if job["status"] in ("completed", "failed", "canceled") else None


def version_of(api, job_name: str) -> dict | None:
    return next((v for v in api.get_json("/api/models")["versions"] if v.get("tags", {}).get("job_name") == job_name),
                None)


def approve(api, approval_id: str) -> dict:
    response = api.request("POST", f"/api/approvals/{approval_id}/approve", {"reviewer": "ada@example.com"})
    assert response.status == 202, response.body[:300]
    return wait_until("the decision", lambda: next(
        (a for a in [api.get_json(f"/api/approvals/{approval_id}")] if a["status"] != "deciding"), None), 240)


def prod_rows(count: int) -> dict:
    header = PROD_LINES[0].split(",")
    features = [i for i, name in enumerate(header) if name not in ("PatientID", "Diabetic")]
    rows = [line.split(",") for line in PROD_LINES[1:count + 1]]
    return {"input_data": {"columns": [header[i] for i in features], "index": list(range(count)),
                           "data": [[float(row[i]) for i in features] for row in rows]}}


def trail_since(azure, mark: int) -> list[dict]:
    return azure.trail()[mark:]


def test_1_a_redelivered_blob_created_makes_one_batch_one_job_and_v1_awaits_approval(azure_loop, api, azure):
    before = azure.events()
    azure.add_fault({"kind": "eventgrid_timeout", "match": {"subscription": "data-blob-created"}, "times": 1})

    upload(azure_loop, FIRST, DEV)

    batch = wait_until("the file's batch", lambda: next(
        (f for f in api.get_json("/api/data")["files"] if f["name"] == FIRST), None), 120)
    assert batch["status"] == "accepted", batch
    job = wait_until("a training job on the file", lambda: (jobs_with(api, FIRST) or [None])[0], 120)
    job = wait_until("the training job", lambda: finished_job(api, job["name"]), 300)
    assert job["status"] == "completed", job
    version = wait_until("v1 in the registry", lambda: version_of(api, job["name"]), 120)
    v1 = wait_until("v1's gate, staging and smoke test", lambda: settled_candidate(api, version["version"]), 240)

    assert v1["status"] == "awaiting_approval", v1["history"][-1]
    events = azure.events()
    assert events["retries"] - before["retries"] >= 1, "the timed-out BlobCreated was delivered again"
    assert events["attempts"] - before["attempts"] >= 2
    assert not [f for f in azure.faults() if f["kind"] == "eventgrid_timeout"], "the timeout was used"
    assert [f["name"] for f in api.get_json("/api/data")["files"]].count(FIRST) == 1, "one batch per file"
    assert len(jobs_with(api, FIRST)) == 1, "one job for the file, whatever the deliveries"
    deployment = v1["deployment"]
    online = azure.online()
    assert online["deployments"] == {deployment: "Succeeded"} and not online["traffic"], online


def test_2_an_expired_token_fails_the_promotion_step_cleanly_and_the_retry_promotes_v1(azure_loop, api, azure):
    v1 = settled_candidate(api, "1")
    mark = len(azure.trail())
    read = rf"/onlineEndpoints/{azure.endpoint}/deployments/{v1['deployment']}$"
    azure.add_fault({"kind": "token_expired", "match": {"method": "GET", "path": read}, "times": 2})

    outcome = approve(api, v1["approval_id"])

    assert outcome["status"] == "approved", outcome
    assert api.get_json("/api/production")["champion_version"] == "1"
    assert not azure.faults(), "the expired-token fault was spent"
    reads = [line["status"] for line in trail_since(azure, mark)
             if line["method"] == "GET" and line["path"].endswith(f"/deployments/{v1['deployment']}")]
    assert reads[:2] == [401, 401] and 200 in reads[2:], reads
    assert azure.online()["traffic"] == {v1["deployment"]: 100}
    answer = azure.score(prod_rows(5))
    assert answer.status_code == 200 and len(answer.json()) == 5, answer.text
    hosts = {line["host"] for line in azure.trail()}
    assert all(h in LOOPBACK or h.endswith(".localhost") for h in hosts), hosts
    assert api.request("GET", f"/api/approvals/{v1['approval_id']}").status == 200


def test_3_dead_lettered_events_are_found_by_reconciliation_and_a_failed_deployment_fails_v2(
        azure_loop, api, admin, azure):
    v2_deployment = deployment_name_for(azure_loop.values["MODEL_NAME"], "2")
    for subscription in ("job-status-changed", "model-registered"):
        azure.add_fault({"kind": "eventgrid_unreachable", "match": {"subscription": subscription}})
    azure.add_fault({"kind": "deployment_failed", "match": {"deployment": v2_deployment}, "times": 1})
    dead_before = set(azure.events()["dead_letter_blobs"])

    upload(azure_loop, SECOND, "\n".join(PROD_LINES[:2001]) + "\n")
    job = wait_until("a training job on the second file", lambda: (jobs_with(api, SECOND) or [None])[0], 120)
    assert len(job["batches"]) == 2, "v2 trains on both accepted files"
    job = wait_until("the training job (no status event reaches the app)", lambda: finished_job(api, job["name"]), 300)
    assert job["status"] == "completed", job
    registered = azure.arm("GET", f"/models/{azure_loop.values['MODEL_NAME']}/versions/2", token=azure.token())
    assert registered.status_code == 200 and registered.json()["properties"]["tags"]["job_name"] == job["name"]
    letters = wait_until("the dead letters of both subscriptions", lambda: _dead_letters(azure, dead_before), 120)
    assert candidate(api, "2") is None and not version_of(api, job["name"]), "no ModelRegistered reached the app"

    azure.request("DELETE", "/_emulator/faults", params={"kind": "eventgrid_unreachable"}).raise_for_status()
    assert admin.request("POST", "/admin/functions/reconcile_registry", {"input": ""}).status == 202
    assert wait_until("v2 found by the reconciliation", lambda: version_of(api, job["name"]), 60)["version"] == "2"
    v2 = wait_until("v2's pipeline", lambda: settled_candidate(api, "2"), 300)

    assert v2["status"] == "failed" and v2_deployment in v2["history"][-1]["detail"], v2["history"][-1]
    for path in letters:
        entry = _read_dead_letter(azure_loop, path)
        assert entry["deadLetterReason"] == "MaxDeliveryAttemptsExceeded" and entry["deliveryAttempts"] == 3, entry
    azure.quiet()
    online = azure.online()
    assert online["traffic"] == {deployment_name_for(azure_loop.values["MODEL_NAME"], "1"): 100}, online
    assert v2_deployment not in online["deployments"], f"the failed deployment is left: {online['deployments']}"


def _dead_letters(azure, before: set) -> list[str] | None:
    new = [p for p in azure.events()["dead_letter_blobs"] if p not in before]
    seen = {p.split("/")[2] for p in new}
    return new if {"JOB-STATUS-CHANGED", "MODEL-REGISTERED"} <= seen else None


def _read_dead_letter(stack, path: str) -> dict:
    container, name = path.split("/", 1)
    body = json.loads(stack.blob_service().get_blob_client(container, name).download_blob().readall())
    return body[0]


def test_4_a_throttled_deployment_create_is_retried_and_the_redeployed_v2_awaits_approval(api, azure):
    v2 = candidate(api, "2")
    put = rf"/onlineEndpoints/{azure.endpoint}/deployments/{v2['deployment']}$"
    azure.add_fault({"kind": "http", "match": {"method": "PUT", "path": put}, "times": 1, "status": 429,
                     "headers": {"Retry-After": "1"}})
    mark = len(azure.trail())

    assert api.request("POST", "/api/candidates/diabetes-classifier/2/redeploy").status == 202
    v2 = wait_until("the redeployed v2", lambda: settled_candidate(api, "2"), 300)

    assert v2["status"] == "awaiting_approval", v2["history"][-1]
    puts = [line["status"] for line in trail_since(azure, mark)
            if line["method"] == "PUT" and line["path"].endswith(f"/deployments/{v2['deployment']}")]
    assert puts == [429, 201], puts
    assert azure.online()["deployments"][v2["deployment"]] == "Succeeded"


def test_5_a_failing_traffic_switch_leaves_v1_serving_and_a_redeploy_promotes_v2(api, azure):
    v1_deployment = api.get_json("/api/production")["champion_deployment"]
    v2 = candidate(api, "2")
    azure.add_fault({"kind": "http", "match": {"method": "PUT", "path": rf"/onlineEndpoints/{azure.endpoint}$"},
                     "status": 500})

    mark = len(azure.trail())
    outcome = approve(api, v2["approval_id"])

    assert outcome["status"] == "promotion_failed" and "HTTP 500" in outcome["reason"], outcome
    switches = [line["status"] for line in trail_since(azure, mark)
                if line["method"] == "PUT" and line["path"].endswith(f"/onlineEndpoints/{azure.endpoint}")]
    assert len(switches) > 1 and set(switches) == {500}, f"retried, never applied: {switches}"
    assert candidate(api, "2")["status"] == "failed"
    assert api.get_json("/api/production")["champion_version"] == "1"
    online = azure.online()
    assert online["traffic"] == {v1_deployment: 100}, online
    assert online["deployments"].get(v2["deployment"]) == "Succeeded", "nothing deleted"
    assert azure.score(prod_rows(3)).status_code == 200, "production still answers"

    azure.clear_faults()
    assert api.request("POST", "/api/candidates/diabetes-classifier/2/redeploy").status == 202
    again = wait_until("v2's new approval", lambda: settled_candidate(api, "2"), 300)
    assert again["status"] == "awaiting_approval" and again["approval_id"] != v2["approval_id"], again
    assert approve(api, again["approval_id"])["status"] == "approved"
    assert api.get_json("/api/production")["champion_version"] == "2"
    assert azure.online()["traffic"] == {v2["deployment"]: 100}


def test_6_nothing_is_stuck_or_orphaned(azure_loop, api, admin, azure):
    state = azure.quiet()
    assert not azure.faults()
    assert all(status == "Completed" for status in state["jobs"]["jobs"].values()), state["jobs"]
    assert all(c["status"] not in SETTLED for c in api.get_json("/api/candidates")["candidates"])
    production = api.get_json("/api/production")
    kept = {production["champion_deployment"], production["previous_deployment"]} - {None}
    assert set(azure.online()["deployments"]) == kept, (azure.online(), production)
    assert state["arm"]["endpoints"][azure.endpoint]["deployments"] == {name: "Succeeded" for name in kept}
    scoring = state["online"]
    assert set(scoring["endpoints"][azure.endpoint]["deployments"]) == kept, "no scoring server left behind"
    assert scoring["servers_running"] == len(kept)

    assert admin.request("POST", "/admin/functions/approval_sweeper", {"input": ""}).status == 202
    report = wait_until("the sweeper's report", lambda: _sweeper_report(azure_loop), 60)
    assert report == {"reminded": [], "expired": [], "repaired": [], "reported": []}, report
    assert set(azure.online()["deployments"]) == kept


def _sweeper_report(stack) -> dict | None:
    log = (stack.log_dir / "functions-host.log").read_text(errors="replace")
    lines = [line for line in log.splitlines() if "approval sweeper: {" in line]
    return ast.literal_eval(lines[-1].split("approval sweeper: ", 1)[1]) if lines else None
