"""The reviewer's pages in a real browser: opened from the Teams card as a person would, each loads
with no console error and no request outside the app, fits 1280 and 390 px wide, and the decision
made by pressing the button shows on the decided page, on the dashboard and in the API."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import record_weight
from tests.e2e.test_outer_loop import decided

pytestmark = pytest.mark.browser
REVIEWER = "ada@example.com"


def dashboard_url(local_stack) -> str:
    return f"{local_stack.host_url}/api/dashboard?code={local_stack.values['LOCAL_HOST_FUNCTION_KEY']}"


def test_the_reviewer_approves_from_the_teams_card(page, pending, api, local_stack):
    approval = pending.approval
    version = approval["candidate_version"]
    tab = page.page

    assert tab.goto(dashboard_url(local_stack)).status == 200
    assert approval["id"] in tab.locator("#approvals").inner_text(), "the dashboard lists the pending approval"

    assert tab.goto(pending.link("Details")).status == 200
    page.look("evidence")
    record_weight("evidence, no champion yet", page.weight())
    verdict = tab.locator(".verdict")
    assert "pass" in verdict.get_attribute("class").split()
    assert re.search(rf"\bv{version} passes the gate\b", verdict.inner_text()), verdict.inner_text()

    assert tab.goto(pending.link("Approve")).status == 200
    page.look("confirmation")
    assert api.get_json(f"/api/approvals/{approval['id']}")["status"] == "pending", "opening the link decides nothing"
    name = tab.locator("input[name=reviewer]")
    if name.count():
        name.fill(REVIEWER)
    tab.locator("input[name=comment]").fill("ship it")
    with tab.expect_navigation():
        tab.get_by_role("button", name=re.compile(rf"^Approve v{version}$")).click()
    heading = tab.locator("h1").inner_text()
    assert heading.startswith(f"{approval['model_name']} v{version}: approved"), heading
    assert REVIEWER in tab.locator("main").inner_text()
    page.look("decided")

    outcome = decided(api, approval["id"])
    assert (outcome["status"], outcome["decided_by"], outcome["decided_via"]) == ("approved", REVIEWER, "link")
    assert api.get_json("/api/production")["champion_version"] == version

    assert tab.goto(dashboard_url(local_stack)).status == 200
    page.look("dashboard")
    assert tab.locator("#production dd").first.inner_text().startswith(f"v{version} on "), "the champion"
    assert approval["id"] not in tab.locator("#approvals").inner_text(), "no longer pending"
    rows = [row.split("\t") for row in tab.locator("#candidates tbody tr").all_inner_texts()]
    assert [cells[1].strip() for cells in rows if cells[0].strip() == f"v{version}"] == ["promoted"], rows


def test_the_function_key_evidence_route(page, pending, local_stack):
    approval, key = pending.approval, local_stack.values["LOCAL_HOST_FUNCTION_KEY"]
    url = f"{local_stack.host_url}/api/candidates/{approval['model_name']}/{approval['candidate_version']}/evidence"
    assert page.page.goto(f"{url}?code={key}").status == 200
    page.look("evidence-key")
    assert f"v{approval['candidate_version']}" in page.page.locator(".verdict").inner_text()
    assert key not in page.page.content(), "the function key is not on the page"


def test_a_link_with_a_wrong_token_shows_a_clean_refusal(page, pending):
    status = page.page.goto(pending.link("Details").split("?", 1)[0] + "?token=not-the-token").status
    assert 400 <= status < 500
    assert page.page.locator("h1").inner_text() == "This link cannot be used"
    page.look("refused", refused_with=status)


def test_the_evidence_page_of_a_challenger(page, challenger):
    approval = challenger.approval
    assert page.page.goto(challenger.link("Details")).status == 200
    page.look("evidence-challenger")
    record_weight("evidence, candidate vs champion", page.weight())
    heading = page.page.locator("h1").inner_text()
    assert heading.endswith(f"v{approval['candidate_version']} vs champion v{approval['champion_version']}"), heading
    drawn = dict(page.page.evaluate("""[...document.querySelectorAll('svg[role=img]')].map(s =>
        [s.querySelector('title').id.replace(/-t$/, ''), Math.round(s.getBoundingClientRect().width)])"""))
    charts = {"roc", "calibration", "confusion-candidate", "confusion-champion", "performance-history"}
    assert charts <= set(drawn) and all(drawn[c] >= 200 for c in charts), f"chart: width in px {drawn}"
