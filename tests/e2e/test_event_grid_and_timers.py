"""End to end: Event Grid deliveries to the local host the way Azure sends them, and the timers run by hand."""
from __future__ import annotations

import uuid

import pytest

from devstack.client import ApiClient, wait_for
from tests.e2e.test_outer_loop import new_pending_approval, settle_training, settled_candidates

pytestmark = pytest.mark.e2e


def master(stack) -> ApiClient:
    return ApiClient(stack.host_url, stack.values["LOCAL_HOST_MASTER_KEY"])


def model_registered(name: str, version, spelling: str = "pascal") -> dict:
    data = ({"ModelName": name, "ModelVersion": int(version), "ModelTags": {}, "ModelProperties": {}}
            if spelling == "pascal" else {"modelName": name, "modelVersion": str(version), "modelTags": {}})
    return {"id": str(uuid.uuid4()), "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws",
            "subject": f"models/{name}:{version}", "eventType": "Microsoft.MachineLearningServices.ModelRegistered",
            "eventTime": "2026-11-22T12:00:00Z", "data": data, "dataVersion": "2", "metadataVersion": "1"}


def deliver(stack, events, event_type="Notification"):
    return master(stack).request("POST", "/runtime/webhooks/eventgrid?functionName=on_model_registered", events,
                                 {"aeg-event-type": event_type})


def test_the_subscription_validation_handshake(local_stack):
    response = deliver(local_stack, [{"id": "v", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                                      "subject": "", "data": {"validationCode": "code-123"}, "eventTime": "2026-11-22T12:00:00Z",
                                      "dataVersion": "1"}], "SubscriptionValidation")
    assert response.status == 200 and response.json() == {"validationResponse": "code-123"}


def test_model_registered_from_event_grid_is_the_same_command_as_the_webhook(local_stack, api):
    if not api.get_json("/api/candidates")["candidates"]:
        new_pending_approval(api, local_stack)
    settle_training(api)  # an earlier test's retraining would otherwise register a version mid-test
    candidates = settled_candidates(api)
    version = candidates[0]["version"]

    repeated = deliver(local_stack, [model_registered(local_stack.values["MODEL_NAME"], version),
                                     model_registered(local_stack.values["MODEL_NAME"], version, "camel")])
    other = deliver(local_stack, [model_registered("someone-else", 3)])
    malformed = deliver(local_stack, [{**model_registered(local_stack.values["MODEL_NAME"], 1),
                                       "data": {"ModelName": 7}, "subject": "nothing"}])

    assert (repeated.status, other.status, malformed.status) == (202, 202, 202)
    assert api.get_json("/api/candidates")["candidates"] == candidates, "duplicates change nothing"
    log = (local_stack.log_dir / "functions-host.log").read_text()
    assert "someone-else" in log and "malformed ModelRegistered event kept" in log


def test_the_timers_run_by_hand_against_the_real_adapters(local_stack):
    for name in ("approval_sweeper", "drift_check", "training_scheduler"):
        assert master(local_stack).request("POST", f"/admin/functions/{name}", {"input": ""}).status == 202

    def all_succeeded():
        log = (local_stack.log_dir / "functions-host.log").read_text()
        return all(f"Executed 'Functions.{name}' (Succeeded" in log for name in ("approval_sweeper", "drift_check"))

    wait_for("the sweeper and the drift check to succeed", all_succeeded, 60)
