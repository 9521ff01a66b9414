"""End to end: the registry is the truth. A phantom ModelRegistered changes nothing but a rejected
record; a version whose webhook never arrives is found by the reconcile timer (run by hand)."""
from __future__ import annotations

import time

import pytest

from devstack.client import wait_for
from devstack.stack import WEBHOOK_NAME
from tests.e2e.test_event_grid_and_timers import deliver, master, model_registered
from tests.e2e.test_outer_loop import new_pending_approval

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def trained(local_stack, api):
    """A version trained by one of the service's jobs, as MLflow holds it (the tags training set)."""
    from mlflow import MlflowClient

    version = new_pending_approval(api, local_stack)["candidate_version"]
    return MlflowClient(local_stack.tracking_uri).get_model_version(local_stack.values["MODEL_NAME"], version)


def register_like(stack, trained) -> str:
    """Register a new version of the model with the same model files and tags (its job is ours)."""
    from mlflow import MlflowClient

    logged_model = trained.source.split("/")[-1] if trained.source.startswith("models:/m-") else None
    created = MlflowClient(stack.tracking_uri).create_model_version(
        trained.name, trained.source, trained.run_id, tags=dict(trained.tags), model_id=logged_model)
    return str(created.version)


def candidate(api, version: str) -> dict | None:
    return next((c for c in api.get_json("/api/candidates?limit=200")["candidates"] if c["version"] == version), None)


def test_a_phantom_version_is_rejected_and_the_next_real_one_still_becomes_a_candidate(local_stack, api, trained):
    newest_before = api.get_json("/api/production")["newest_candidate"]

    response = deliver(local_stack, [model_registered(local_stack.values["MODEL_NAME"], 50)])

    assert response.status == 202
    rejected = wait_for("the phantom v50 to be recorded as rejected", lambda: next(
        (r for r in api.get_json("/api/models/rejected")["rejected"] if r["version"] == "50"), None), 30)
    assert "no version 50" in rejected["reason"] and rejected["source"] == "eventgrid"
    assert api.get_json("/api/production")["newest_candidate"] == newest_before
    assert candidate(api, "50") is None
    assert all(v["version"] != "50" for v in api.get_json("/api/models")["versions"])

    version = register_like(local_stack, trained)  # the registry's webhook brings it

    wait_for(f"v{version} to become a candidate", lambda: candidate(api, version), 120, interval=0.5)
    wait_for(f"v{version} to be taken as the newest candidate (the pipeline's first step runs from the queue)",
             lambda: api.get_json("/api/production")["newest_candidate"] == version, 120, interval=0.5)
    assert candidate(api, version)["status"] != "stale"


def test_a_version_whose_webhook_never_arrives_is_found_by_the_reconcile_timer(local_stack, api, trained):
    from mlflow import MlflowClient

    client = MlflowClient(local_stack.tracking_uri)
    (webhook,) = [w for w in client.list_webhooks() if w.name == WEBHOOK_NAME]
    client.update_webhook(webhook.webhook_id, status="DISABLED")
    try:
        time.sleep(2)  # the server caches its webhook list for MLFLOW_WEBHOOK_CACHE_TTL (1 s here)
        version = register_like(local_stack, trained)
        time.sleep(3)
        assert candidate(api, version) is None, "no webhook was delivered for it"
    finally:
        client.update_webhook(webhook.webhook_id, status="ACTIVE")

    assert master(local_stack).request("POST", "/admin/functions/reconcile_registry", {"input": ""}).status == 202

    found = wait_for(f"the reconcile timer to make v{version} a candidate", lambda: candidate(api, version), 120,
                     interval=0.5)
    assert found["source"] == "reconciliation"
    wait_for(f"v{version} to be taken as the newest candidate",
             lambda: api.get_json("/api/production")["newest_candidate"] == version, 120, interval=0.5)
    assert candidate(api, version)["status"] != "stale"
    recorded = next(v for v in api.get_json("/api/models")["versions"] if v["version"] == version)
    assert recorded["source"] == "reconciliation" and recorded["tags"]["job_name"] == trained.tags["job_name"]
    log = (local_stack.log_dir / "functions-host.log").read_text()
    assert "Executed 'Functions.reconcile_registry' (Succeeded" in log
