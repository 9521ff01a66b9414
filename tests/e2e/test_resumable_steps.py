"""End to end: the queued steps survive a host killed (SIGKILL) while work is under way, and two
hosts on one storage account run the loop once."""
from __future__ import annotations

import time

import pytest

from devstack.client import ApiClient, wait_for
from devstack.processes import free_port
from shared.domain.steps import CANDIDATE_STEPS
from tests.e2e.test_outer_loop import decided, settle_training, upload_batch

pytestmark = pytest.mark.e2e


def candidate(api: ApiClient, version: str) -> dict | None:
    return next((c for c in api.get_json("/api/candidates")["candidates"] if c["version"] == version), None)


def trained_version(api: ApiClient, name: str) -> str:
    def version():
        jobs = [j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])]
        return next((j["model_version"] for j in jobs if j.get("model_version")), None)

    return wait_for(f"a version trained on {name}", version, 240, interval=0.2)


def test_a_host_killed_at_each_step_resumes_by_itself(local_stack, api):
    """Walks one candidate through its steps, killing the host as soon as each step is due (or
    running) and starting it again; no call of the test moves the candidate on."""
    settle_training(api)
    version = trained_version(api, upload_batch(local_stack))
    killed_in = []
    for target in CANDIDATE_STEPS:
        def due():
            found = candidate(api, version)
            step = (found or {}).get("steps", {}).get("step")
            return step if step in CANDIDATE_STEPS[CANDIDATE_STEPS.index(target):] or step == "done" else None

        step = wait_for(f"v{version} at {target}", due, 240, interval=0.02)
        if step != target:
            continue  # it ran past this step between two looks
        local_stack.kill_host()
        killed_in.append(target)
        local_stack.start_host()
    final = wait_for(f"v{version} awaiting approval", lambda: next(
        (c for c in [candidate(api, version)] if c and c["status"] not in ("received", "gating", "deploying")), None),
        240, interval=0.5)

    assert final["status"] == "awaiting_approval", final["history"][-3:]
    assert len(killed_in) >= 3, f"killed only in {killed_in}"
    approvals = [a for a in api.get_json("/api/approvals")["approvals"] if a["candidate_version"] == version]
    assert len(approvals) == 1 and approvals[0]["status"] == "pending"


def test_two_hosts_on_one_storage_run_the_loop_once(local_stack, api):
    port = free_port()
    local_stack.start_host(port=port, name="functions-host-2")
    try:
        settle_training(api)
        jobs_before = api.get_json("/api/jobs")["count"]
        name = upload_batch(local_stack)
        version = trained_version(api, name)
        final = wait_for(f"v{version} settled", lambda: next(
            (c for c in [candidate(api, version)] if c and c["status"] not in ("received", "gating", "deploying")),
            None), 240, interval=0.5)
        time.sleep(4)  # a second host would act within a poll interval

        assert final["status"] == "awaiting_approval"
        jobs = [j for j in api.get_json("/api/jobs")["jobs"] if any(b["name"] == name for b in j["batches"])]
        assert len(jobs) == 1 and api.get_json("/api/jobs")["count"] == jobs_before + 1
        approvals = [a for a in api.get_json("/api/approvals")["approvals"] if a["candidate_version"] == version]
        assert len(approvals) == 1
        second = ApiClient(f"http://127.0.0.1:{port}", local_stack.values["LOCAL_HOST_FUNCTION_KEY"])
        assert second.get_json(f"/api/approvals/{approvals[0]['id']}")["status"] == "pending"
        assert second.request("POST", f"/api/approvals/{approvals[0]['id']}/approve", {"reviewer": "ada"}).status == 202
        assert decided(api, approvals[0]["id"])["status"] == "approved"
        time.sleep(4)
        promoted = [e for e in api.get_json("/api/audit")["entries"]
                    if e["action"] == "promoted" and e.get("approval_id") == approvals[0]["id"]]
        assert len(promoted) == 1 and api.get_json("/api/production")["champion_version"] == version
    finally:
        local_stack.kill_host("functions-host-2")
