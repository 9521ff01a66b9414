"""End to end: promotion is health-checked, and the sweeper repairs a production deployment that died."""
from __future__ import annotations

import json
import os
import signal

import pytest

from devstack.client import ApiClient, wait_for
from tests.e2e.test_outer_loop import PROD_ROWS, decided, new_pending_approval, score

pytestmark = pytest.mark.e2e


def endpoint_state(stack) -> dict:
    return json.loads((stack.endpoints_dir / stack.values["ENDPOINT_NAME"] / "endpoint.json").read_text())


def kill_server(stack, deployment: str) -> None:
    os.kill(endpoint_state(stack)["deployments"][deployment]["pid"], signal.SIGKILL)


def test_a_dead_staging_deployment_is_not_promoted(local_stack, api):
    champion_before = api.get_json("/api/production")["champion_version"]
    approval = new_pending_approval(api, local_stack)
    kill_server(local_stack, approval["deployment"])

    response = api.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": "ada@example.com"})

    assert response.status == 202
    outcome = decided(api, approval["id"])
    assert outcome["status"] == "promotion_failed" and "does not answer" in outcome["reason"]
    assert api.get_json("/api/production")["champion_version"] == champion_before
    assert approval["deployment"] in endpoint_state(local_stack)["deployments"], "nothing deleted"
    if champion_before:
        status, predictions, _ = score(local_stack, PROD_ROWS[1:3])
        assert status == 200 and len(predictions) == 2, "production still answers"


def promote_new_version(api, stack) -> None:
    approval = new_pending_approval(api, stack)
    api.request("POST", f"/api/approvals/{approval['id']}/approve", {"reviewer": "ada@example.com"})
    assert decided(api, approval["id"])["status"] == "approved"


def test_the_sweeper_rolls_back_a_production_deployment_that_died(local_stack, api):
    if not api.get_json("/api/production")["champion_version"]:
        promote_new_version(api, local_stack)
    promote_new_version(api, local_stack)
    production = api.get_json("/api/production")
    assert production["previous_deployment"], "the previous champion is kept for the bake period"
    kill_server(local_stack, production["champion_deployment"])

    master = ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_MASTER_KEY"])
    assert master.request("POST", "/admin/functions/approval_sweeper", {"input": ""}).status == 202

    after = wait_for("the automatic rollback", lambda: next(
        (p for p in [api.get_json("/api/production")] if p["champion_version"] == production["previous_version"]),
        None), 120)
    assert after["champion_deployment"] == production["previous_deployment"]
    status, predictions, headers = score(local_stack, PROD_ROWS[1:3])
    assert status == 200 and headers.get("azureml-model-deployment") == after["champion_deployment"]
    # the rollback step records itself just after production reads rolled back
    assert wait_for("the rollback's audit entry", lambda: any(
        e["action"] == "rolled_back" and e["actor"] == "system" for e in api.get_json("/api/audit")["entries"]),
        30, interval=0.2)
