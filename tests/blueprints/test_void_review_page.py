"""A void approval over HTTP: its decision link's GET says why it is void (escaped), and the candidate's
redeploy route takes it through the gate to a new approval request."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import call, request
from tests.builders import MODEL

HOSTILE = "the evidence document changed <script>alert(1)</script> & 'more'"


def awaiting(world):
    candidate = world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    link = urlparse(world.notifier.sent[-1].links["Approve"])
    return candidate, link.path, parse_qs(link.query)["token"][0]


def test_the_link_of_a_void_approval_shows_why_escaped_and_no_form(world):
    candidate, path, token = awaiting(world)
    world.repos.approvals.change(candidate.approval_id, lambda a: a.void(HOSTILE, world.clock()))

    status, page = call("review_link", request("GET", path, params={"token": token},
                                               route_params={"id": candidate.approval_id, "action": "approve"}))

    assert status == 200 and "<form" not in page
    assert "Void: nothing was decided" in page
    assert "Why: the evidence document changed &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x27;more&#x27;" in page
    assert "<script>" not in page and "Decided by system" not in page
    assert "a redeploy re-runs the quality gate" in page
    assert token not in page


def test_after_a_void_the_redeploy_route_asks_for_a_new_approval(world):
    candidate, path, token = awaiting(world)
    world.platform.set_artifacts(MODEL, "1", {"MLmodel": b"flavors: {}\n", "model.skops": b"swapped"})
    route = {"id": candidate.approval_id, "action": "approve"}
    status, page = call("review_link", request("POST", path, f"token={token}&reviewer=ada".encode(), route_params=route))
    assert status == 409 and "artifact files of model version v1 changed" in page
    assert world.repos.candidates.get("1").status == "failed"

    status, body = call("redeploy_candidate", request("POST", f"candidates/{MODEL}/1/redeploy",
                                                      route_params={"name": MODEL, "version": "1"}))
    world.queue.drain()

    assert status == 202, body
    again = world.repos.candidates.get("1")
    assert again.status == "awaiting_approval" and again.approval_id != candidate.approval_id
    approval = world.approvals.get(again.approval_id)
    assert approval.status == "pending"
    assert approval.artifact_digest == world.platform.model_artifact_digest(MODEL, "1")
    assert approval.evidence_digest == world.evidence.digest(world.evidence.for_approval(approval.id))
