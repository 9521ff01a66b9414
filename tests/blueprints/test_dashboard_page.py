"""The dashboard routes in process: the page (sections in order, escaped, refreshing itself, no key
or token on it), its JSON, and the console route's auth modes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

import shared.bootstrap as bootstrap
from blueprints.pages import layout
from shared.domain.models import ModelRegistered
from shared.domain.principals import encode_principal
from tests.blueprints.conftest import FUNCTIONS, call, request
from tests.builders import MODEL, SIGNING_KEY, FakeWorld

HOSTILE = "<script>alert(1)</script>'\"&.csv"
KEY = "function-key-never-on-a-page-0123456789"


def pending_candidate(world, version: str = "1"):
    world.platform.register_model_version(MODEL, version)
    return world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))


def page(name: str = "dashboard", params: dict | None = None, headers: dict | None = None):
    route = "dashboard" if name == "dashboard" else "console/dashboard"
    response = FUNCTIONS[name].get_user_function()(request("GET", route, params=params, headers=headers))
    return response, response.get_body().decode()


def test_the_page_shows_each_section_in_the_issue_order_and_refreshes_itself(world):
    pending_candidate(world)
    response, html = page()

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "<meta http-equiv='refresh' content='30'>" in html and "<script" not in html
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    headings = re.findall(r"<h2 id='[a-z]+-h'>([^<]+)</h2>", html)
    assert headings == ["Recent files and verdicts", "Training jobs", "Candidates", "Pending approvals", "Production",
                        "Drift and performance", "Messages given up on"]
    approval = world.repos.approvals.get(world.repos.candidates.get("1").approval_id)
    assert approval.id in html and approval.expires_at in html and "72 h 00 min" in html


def test_a_hostile_file_name_is_escaped_everywhere(world):
    world.files.upload("data", HOSTILE, b"no,diabetes\n1,2\n")
    world.ingestion.handle_new_file("data", HOSTILE)

    _, html = page()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#x27;&quot;&amp;.csv" in html


def test_no_key_token_or_signing_key_reaches_the_page(world):
    pending_candidate(world)
    params, headers = {"code": KEY}, {"x-functions-key": KEY}

    _, html = page(params=params, headers=headers)
    response, body = page(params={**params, "format": "json"}, headers=headers)

    for text in (html, body):
        assert KEY not in text and SIGNING_KEY not in text
        assert "token=" not in text and "used_links" not in text and "sig=" not in text


def test_format_json_gives_the_figures_and_another_format_is_400(world):
    pending_candidate(world)

    status, body = call("dashboard", request("GET", "dashboard", params={"format": "json"}))
    assert status == 200 and body["candidates"][0]["status"] == "awaiting_approval"
    assert body["production"]["staging_version"] == "1" and list(body)[2:] == [
        "files", "jobs", "candidates", "approvals", "production", "trends", "messages"]

    status, body = call("dashboard", request("GET", "dashboard", params={"format": "xml"}))
    assert status == 400 and "format" in body["error"]


def test_the_console_route_is_404_outside_app_service_mode(world):
    status, _ = call("console_dashboard", request("GET", "console/dashboard"))
    assert status == 404


@pytest.fixture
def behind_auth(monkeypatch) -> FakeWorld:
    world = FakeWorld(AUTH_MODE="app-service", APPROVERS="ada@contoso.com,g-reviewers")
    monkeypatch.setattr(bootstrap, "_services", world.services)
    return world


def principal(name: str, groups: tuple[str, ...] = ()) -> dict:
    return {"X-MS-CLIENT-PRINCIPAL": encode_principal(name, groups=groups), "X-MS-CLIENT-PRINCIPAL-IDP": "aad"}


def test_the_console_route_needs_a_signed_in_approver(behind_auth):
    pending_candidate(behind_auth)

    status, body = call("console_dashboard", request("GET", "console/dashboard"))
    assert status == 401 and "sign in" in body["error"]
    status, body = call("console_dashboard", request("GET", "console/dashboard", headers=principal("eve@contoso.com")))
    assert status == 403 and body["error"].startswith("not an approver")

    response, html = page("console_dashboard", headers=principal("ada@contoso.com"))
    assert response.status_code == 200 and "Pending approvals" in html and "ada@contoso.com" not in html
    status, body = call("console_dashboard", request("GET", "console/dashboard", params={"format": "json"},
                                                     headers=principal("carol@contoso.com", ("g-reviewers",))))
    assert status == 200 and body["approvals"][0]["version"] == "1"


def test_an_unreadable_step_message_is_kept_and_shown_not_raised(world):
    import azure.functions as func

    FUNCTIONS["run_step"].get_user_function()(func.QueueMessage(id="m1", body=b"{not json"))

    _, body = call("dashboard", request("GET", "dashboard", params={"format": "json"}))
    assert [(m["what"], m["reason"]) for m in body["messages"]["malformed"]] == [("step message",
                                                                                  "step message is not JSON")]


def test_timestamps_are_short_with_the_full_value_in_their_title_and_the_page_may_be_wide(world):
    pending_candidate(world)
    _, html = page()
    approval = world.repos.approvals.get(world.repos.candidates.get("1").approval_id)
    moment = datetime.fromisoformat(approval.expires_at).astimezone(timezone.utc)
    assert (f"<time datetime='{approval.expires_at}' title='{approval.expires_at}'>"
            f"{moment:%Y-%m-%d %H:%M} UTC</time>") in html
    assert f">{approval.expires_at}<" not in html  # the raw value only in the attribute
    assert "<main><h1>" in html and "<div class='wide'>" in html and "main:has(>.wide){max-width:76rem}" in layout.CSS
