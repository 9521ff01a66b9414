"""A decision on a candidate whose artifacts or evidence changed, over HTTP: the API and the signed link
both answer 409 saying what changed, the approval is void, and nothing else moves."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import call, request
from tests.builders import ENDPOINT, MODEL

CHANGED = {"MLmodel": b"flavors: sklearn\n", "model.skops": b"swapped weights"}


def awaiting(world, version: str = "1"):
    candidate = world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))
    link = urlparse(world.notifier.sent[-1].links["Approve"])
    return candidate, link.path, parse_qs(link.query)["token"][0]


def test_the_api_answers_409_naming_the_changed_artifacts_and_the_approval_is_void(world):
    candidate, _, _ = awaiting(world)
    world.platform.set_artifacts(MODEL, "1", CHANGED)

    status, body = call("decide_approval", request("POST", f"approvals/{candidate.approval_id}/approve",
                                                   {"reviewer": "ada"},
                                                   route_params={"id": candidate.approval_id, "action": "approve"}))

    assert status == 409
    assert body["error"].startswith(f"approval {candidate.approval_id} is void and nothing was decided: "
                                    "the artifact files of model version v1 changed")
    assert world.approvals.get(candidate.approval_id).status == "void"
    assert world.repos.production.get().champion_version is None
    assert world.endpoints.get_endpoint(ENDPOINT).traffic == {}
    status, listed = call("list_approvals", request("GET", "approvals", params={"status": "void"}))
    assert status == 200 and [a["id"] for a in listed["approvals"]] == [candidate.approval_id]


def test_the_link_answers_409_with_a_page_that_says_the_evidence_changed(world):
    candidate, path, token = awaiting(world)
    [key] = [k for k in world.documents.docs if k.startswith("evidence/")]
    stored = world.documents.get(key)
    world.documents.replace(key, {**stored.doc, "verdict": {"passed": True, "line": "<b>all fine</b>"}}, stored.etag)
    route = {"id": candidate.approval_id, "action": "approve"}

    status, page = call("review_link", request("POST", path, f"token={token}&reviewer=ada".encode(), route_params=route))

    assert status == 409
    assert "This link cannot be used" in page and "is void and nothing was decided" in page
    assert "the evidence document changed since the approval was requested" in page
    assert token not in page and "<b>all fine</b>" not in page
    assert world.approvals.get(candidate.approval_id).status == "void"
    assert [e["action"] for e in world.audit.read(100)].count("voided") == 1

    status, page = call("review_link", request("GET", path, params={"token": token}, route_params=route))
    assert status == 200 and "void" in page  # the link now shows the approval as void, with no form to decide
    assert "<form" not in page
