"""Four eyes in process: who may decide (APPROVERS), never the requester, principals believed only
behind App Service authentication (AUTH_MODE); every refusal recorded, no state changed."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

import shared.bootstrap as bootstrap
from shared.domain.models import ModelRegistered
from shared.domain.principals import encode_principal
from shared.domain.training import COMPLETED, JobStatus
from tests.blueprints.conftest import call, request
from tests.builders import MODEL, FakeWorld

ADA, BOB, EVE = "ada@contoso.com", "bob@contoso.com", "eve@contoso.com"


def signed_in(name: str, object_id: str = "", groups: tuple[str, ...] = ()) -> dict:
    return {"X-MS-CLIENT-PRINCIPAL": encode_principal(name, object_id, groups), "X-MS-CLIENT-PRINCIPAL-NAME": name,
            "X-MS-CLIENT-PRINCIPAL-IDP": "aad"}


@pytest.fixture
def behind_auth(monkeypatch) -> FakeWorld:
    world = FakeWorld(AUTH_MODE="app-service", APPROVERS=f"{ADA},{BOB},g-reviewers")
    monkeypatch.setattr(bootstrap, "_services", world.services)
    return world


def candidate_requested_by(world, headers: dict | None = None, body: dict | None = None, version: str = "1"):
    """The manual training request → job → registered version → approval request."""
    status, _ = call("request_training", request("POST", "training/request", body or {"reason": "new code"},
                                                 headers=headers))
    assert status == 202
    world.clock.advance(seconds=11)
    job = world.training.submit_due_training()
    world.platform.register_model_version(MODEL, version, job_name=job.name)
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def decide(approval_id: str, action: str = "approve", headers: dict | None = None, body: dict | None = None):
    return call("decide_approval", request("POST", f"approvals/{approval_id}/{action}", body or {},
                                           route_params={"id": approval_id, "action": action}, headers=headers))


def refusals(world) -> list[dict]:
    return [e for e in world.audit.read(100) if e["action"] == "decision_refused"]


# ------------------------------------------------------------------ AUTH_MODE=none (the default)

def test_a_spoofed_principal_header_without_app_service_authentication_is_refused(world):
    candidate = candidate_requested_by(world, body={"reason": "x", "requested_by": "bob"})
    status, body = decide(candidate.approval_id, headers={"X-MS-CLIENT-PRINCIPAL-NAME": ADA}, body={"reviewer": "ada"})
    assert status == 400 and "only accepted behind App Service authentication (AUTH_MODE" in body["error"]
    assert world.approvals.get(candidate.approval_id).status == "pending"
    status, body = call("request_training", request("POST", "training/request", {},
                                                    headers={"x-ms-client-principal": "e30="}))
    assert status == 400 and "x-ms-client-principal" in body["error"]


def test_without_authentication_the_named_requester_may_not_approve_but_another_may(world):
    candidate = candidate_requested_by(world, body={"reason": "x", "requested_by": "bob"})
    assert world.candidates.candidates.get("1").requested_by == ["bob"]
    status, body = decide(candidate.approval_id, body={"reviewer": "Bob"})
    assert status == 403 and body["error"] == "the requester of a candidate may not approve it"
    assert world.approvals.get(candidate.approval_id).status == "pending"
    assert refusals(world)[0]["actor"] == "Bob" and refusals(world)[0]["reason"] == body["error"]
    status, body = decide(candidate.approval_id, body={"reviewer": "ada"})
    assert status == 202 and body["decided_by"] == "ada"


def test_without_authentication_a_listed_approvers_setting_still_applies(monkeypatch):
    world = FakeWorld(APPROVERS="ada")
    monkeypatch.setattr(bootstrap, "_services", world.services)
    candidate = candidate_requested_by(world)
    status, body = decide(candidate.approval_id, body={"reviewer": "mallory"})
    assert status == 403 and body["error"].startswith("not an approver")
    assert world.approvals.get(candidate.approval_id).status == "pending" and len(refusals(world)) == 1


# ------------------------------------------------------------------ AUTH_MODE=app-service

def test_behind_authentication_nobody_signed_in_is_401_and_a_body_reviewer_is_not_believed(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB, "oid-bob"))
    status, body = decide(candidate.approval_id, body={"reviewer": ADA})
    assert status == 401 and "sign in" in body["error"]
    assert behind_auth.approvals.get(candidate.approval_id).status == "pending"


def test_behind_authentication_an_unlisted_principal_is_403_recorded_and_changes_nothing(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB, "oid-bob"))
    status, body = decide(candidate.approval_id, headers=signed_in(EVE, "oid-eve"), body={"reviewer": ADA})
    assert status == 403 and body["error"] == f"not an approver: {EVE} is not listed in APPROVERS"
    assert behind_auth.approvals.get(candidate.approval_id).status == "pending"
    [entry] = refusals(behind_auth)
    assert entry["actor"] == EVE and entry["decision"] == "approve" and entry["principal"]["object_id"] == "oid-eve"


def test_behind_authentication_the_requester_may_not_approve_even_when_listed(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB, "oid-bob"))
    assert behind_auth.approvals.get(candidate.approval_id).requested_by == [BOB, "oid-bob"]
    status, body = decide(candidate.approval_id, headers=signed_in("Bob (another name)", "OID-BOB", ("g-reviewers",)))
    assert status == 403 and body["error"] == "the requester of a candidate may not approve it"
    assert behind_auth.approvals.get(candidate.approval_id).status == "pending"
    assert refusals(behind_auth)[0]["requested_by"] == [BOB, "oid-bob"]


def test_behind_authentication_a_listed_principal_decides_as_themselves(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB, "oid-bob"))
    status, body = decide(candidate.approval_id, headers=signed_in("Dan", "oid-dan", ("g-reviewers",)),
                          body={"reviewer": "someone else"})
    assert status == 202 and body["status"] == "approved" and body["decided_by"] == "Dan"
    assert refusals(behind_auth) == []


def test_a_malformed_principal_header_is_400_naming_it(behind_auth):
    candidate = candidate_requested_by(behind_auth)
    status, body = decide(candidate.approval_id, headers={"X-MS-CLIENT-PRINCIPAL": "%%%"})
    assert status == 400 and "X-MS-CLIENT-PRINCIPAL" in body["error"]


def test_a_job_submitted_outside_the_service_names_its_requesters_in_a_job_tag(behind_auth):
    behind_auth.platform.statuses["retrain-code-abc"] = JobStatus("retrain-code-abc", COMPLETED,
                                                                  tags={"requested_by": "octocat, ada@contoso.com"})
    behind_auth.platform.register_model_version(MODEL, "1", job_name="retrain-code-abc")
    candidate = behind_auth.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    assert behind_auth.candidates.candidates.get("1").requested_by == ["octocat", ADA]
    status, _ = decide(candidate.approval_id, headers=signed_in(ADA))
    assert status == 403


def test_a_signed_link_behind_authentication_needs_a_signed_in_approver(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB))
    link = urlparse(next(n for n in behind_auth.notifier.sent if n.links).links["Approve"])
    token = parse_qs(link.query)["token"][0]
    route = {"id": candidate.approval_id, "action": "approve"}

    def show(headers=None):
        return call("review_link", request("GET", link.path, params={"token": token}, route_params=route,
                                           headers=headers))

    assert show()[0] == 401
    assert show(signed_in(EVE))[0] == 403
    status, page = show(signed_in(ADA))
    assert status == 200 and f"Signed in as <b>{ADA}</b>" in page and "name='reviewer'" not in page
    form = f"token={token}&reviewer=mallory".encode()
    status, page = call("review_link", request("POST", link.path, form, route_params=route))
    assert status == 401  # a forwarded link alone decides nothing
    status, page = call("review_link", request("POST", link.path, form, route_params=route, headers=signed_in(EVE)))
    assert status == 403 and behind_auth.approvals.get(candidate.approval_id).status == "pending"
    status, page = call("review_link", request("POST", link.path, form, route_params=route, headers=signed_in(ADA)))
    assert status == 200 and behind_auth.approvals.get(candidate.approval_id).decided_by == ADA
    assert [e["via"] for e in refusals(behind_auth)] == ["link"]
