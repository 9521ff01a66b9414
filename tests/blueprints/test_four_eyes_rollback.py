"""Four eyes on rollback: it changes who serves production, so only an approver may ask for it
(403, recorded as decision_refused, nothing changed). Withdrawing data stays open to anyone
signed in, and records who."""
from __future__ import annotations

import pytest

import shared.bootstrap as bootstrap
from shared.domain.models import ModelRegistered
from shared.domain.principals import encode_principal
from tests.blueprints.conftest import call, request
from tests.builders import MODEL, FakeWorld

ADA, EVE = "ada@contoso.com", "eve@contoso.com"
CSV = (__import__("pathlib").Path(__file__).resolve().parents[2] / "data" / "diabetes-dev.csv").read_bytes()


def signed_in(name: str, object_id: str = "") -> dict:
    return {"X-MS-CLIENT-PRINCIPAL": encode_principal(name, object_id), "X-MS-CLIENT-PRINCIPAL-NAME": name,
            "X-MS-CLIENT-PRINCIPAL-IDP": "aad"}


def world_with_two_champions(monkeypatch, **env: str) -> FakeWorld:
    world = FakeWorld(**env)
    monkeypatch.setattr(bootstrap, "_services", world.services)
    for version in ("1", "2"):
        world.platform.register_model_version(MODEL, version)
        candidate = world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))
        world.approvals.decide(candidate.approval_id, "approve", ADA)
    assert world.repos.production.get().champion_version == "2"
    return world


def rollback(headers: dict | None = None, body: dict | None = None):
    return call("rollback", request("POST", "rollback", body or {"comment": "drill"}, headers=headers))


def refusals(world) -> list[dict]:
    return [e for e in world.audit.read(100) if e["action"] == "decision_refused"]


@pytest.fixture
def behind_auth(monkeypatch) -> FakeWorld:
    return world_with_two_champions(monkeypatch, AUTH_MODE="app-service", APPROVERS=ADA)


def test_a_signed_in_principal_not_on_approvers_may_not_roll_back(behind_auth):
    status, body = rollback(signed_in(EVE, "oid-eve"), {"reviewer": ADA, "comment": "drill"})

    assert status == 403 and body["error"] == f"not an approver: {EVE} is not listed in APPROVERS"
    production = behind_auth.repos.production.get()
    assert (production.champion_version, production.rollback) == ("2", {})
    assert not behind_auth.queue.pending and behind_auth.endpoints.get_endpoint("diabetes-endpoint").traffic == {
        production.champion_deployment: 100}
    [entry] = refusals(behind_auth)
    assert (entry["actor"], entry["decision"], entry["via"]) == (EVE, "rollback", "api")
    assert entry["principal"]["object_id"] == "oid-eve" and entry["from_version"] == "2" and entry["version"] == "1"


def test_nobody_signed_in_may_not_roll_back(behind_auth):
    status, body = rollback(body={"reviewer": ADA})
    assert status == 401 and "sign in" in body["error"]
    assert behind_auth.repos.production.get().rollback == {}


def test_an_approver_rolls_back_as_themselves(behind_auth):
    status, body = rollback(signed_in(ADA), {"reviewer": "someone else", "comment": "drill"})

    assert status == 202 and body["rollback"]["by"] == ADA and body["rollback"]["to_version"] == "1"
    assert behind_auth.repos.production.get().champion_version == "1"
    assert refusals(behind_auth) == []
    assert [e["actor"] for e in behind_auth.audit.read(100) if e["action"] == "rolled_back"] == [ADA]


def test_without_authentication_a_listed_approvers_setting_still_applies_to_rollback(monkeypatch):
    world = world_with_two_champions(monkeypatch, APPROVERS="ada@contoso.com")
    status, body = rollback(body={"reviewer": "mallory"})
    assert status == 403 and body["error"].startswith("not an approver: mallory")
    assert world.repos.production.get().rollback == {} and len(refusals(world)) == 1
    status, body = rollback(body={"reviewer": ADA})
    assert status == 202 and body["rollback"]["by"] == ADA


def test_any_signed_in_principal_may_withdraw_data_and_is_recorded(behind_auth):
    behind_auth.files.upload("data", "dev.csv", CSV)
    behind_auth.ingestion.handle_new_file("data", "dev.csv")

    status, body = call("withdraw_data", request("DELETE", "data/x", {"reviewer": ADA}, route_params={"name": "dev.csv"},
                                                 headers=signed_in(EVE)))

    assert status == 200 and body["withdrawn_by"] == EVE
    assert [e["actor"] for e in behind_auth.audit.read(100) if e["action"] == "data_withdrawn"] == [EVE]
    status, body = call("withdraw_data", request("DELETE", "data/x", {}, route_params={"name": "dev.csv"}))
    assert status == 401
