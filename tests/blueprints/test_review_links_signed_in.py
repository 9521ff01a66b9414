"""Behind App Service authentication every signed link (Details, and a decision link's GET even once
decided) shows its page only to a signed-in principal on APPROVERS: a forwarded link shows nothing."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.blueprints.conftest import call, request
from tests.blueprints.test_four_eyes import ADA, BOB, EVE, behind_auth, candidate_requested_by, signed_in  # noqa: F401

HOSTILE = "<script>alert(1)</script>@contoso.com"


def link(world, label: str) -> tuple[str, dict, str]:
    url = urlparse(next(n for n in world.notifier.sent if n.links).links[label])
    parts = url.path.split("/")
    route = {"id": parts[3], **({"action": parts[4]} if len(parts) > 4 else {})}
    return url.path, route, parse_qs(url.query)["token"][0]


def test_the_details_link_needs_a_signed_in_approver(behind_auth):
    candidate_requested_by(behind_auth, headers=signed_in(BOB))
    path, route, token = link(behind_auth, "Details")

    def show(headers=None):
        return call("review_details", request("GET", path, params={"token": token}, route_params=route,
                                              headers=headers))

    status, page = show()
    assert status == 401 and "sign in" in page and "id='verdict'" not in page
    status, page = show(signed_in(EVE))
    assert status == 403 and "not an approver" in page and "id='verdict'" not in page
    status, page = show(signed_in(HOSTILE))
    assert status == 403 and "<script>" not in page and "&lt;script&gt;" in page
    status, page = show(signed_in(ADA))
    assert status == 200 and "id='verdict'" in page


def test_a_decided_link_shows_who_decided_only_to_a_signed_in_approver(behind_auth):
    candidate = candidate_requested_by(behind_auth, headers=signed_in(BOB))
    path, route, token = link(behind_auth, "Reject")  # unused: the decision came through the API
    status, _ = call("decide_approval", request("POST", f"approvals/{candidate.approval_id}/approve",
                                                {"comment": "ship it quietly"}, headers=signed_in(ADA),
                                                route_params={"id": candidate.approval_id, "action": "approve"}))
    assert status == 202 and behind_auth.approvals.get(candidate.approval_id).status != "pending"

    def show(headers=None):
        return call("review_link", request("GET", path, params={"token": token}, route_params=route,
                                           headers=headers))

    for headers, expected in ((None, 401), (signed_in(EVE), 403)):
        status, page = show(headers)
        assert status == expected and ADA not in page and "ship it quietly" not in page
    status, page = show(signed_in(ADA))
    assert status == 200 and ADA in page and "ship it quietly" in page  # the decided page
