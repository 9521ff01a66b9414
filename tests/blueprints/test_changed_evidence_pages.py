"""The Details page and a decision link's confirmation page show the evidence only if it is the document
the approval was sent with: an edited one (or one no digest can be taken over) gets a warning page that
shows none of it and offers no form; the GET changes nothing, and a decision then voids (409, not 500)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import call, request
from tests.builders import MODEL

EDITED = "v1 is flawless <script>alert(1)</script>"


def awaiting(world):
    world.platform.scores["1"] = {"auc": 0.9, "accuracy": 0.8}
    candidate = world.candidates.handle_registered(ModelRegistered(MODEL, "1", "mlflow-webhook", "d-1"))
    return world.approvals.get(candidate.approval_id)


def link(world, label: str) -> tuple[str, dict, str]:
    url = urlparse(world.notifier.sent[-1].links[label])
    parts = url.path.split("/")
    route = {"id": parts[3], **({"action": parts[4]} if len(parts) > 4 else {})}
    return url.path, route, parse_qs(url.query)["token"][0]


def edit_evidence(world, approval_id: str, **fields) -> None:
    [key] = [k for k in world.documents.docs if k.startswith("evidence/") and k.endswith(f"/{approval_id}.json")]
    stored = world.documents.get(key)
    world.documents.replace(key, {**stored.doc, **fields}, stored.etag)


def show(name: str, path: str, route: dict, token: str):
    return call(name, request("GET", path, params={"token": token}, route_params=route))


@pytest.mark.parametrize("label, function", [("Details", "review_details"), ("Approve", "review_link"),
                                             ("Reject", "review_link")])
def test_as_sent_the_pages_show_the_evidence(world, label, function):
    awaiting(world)
    status, page = show(function, *link(world, label))
    assert status == 200 and "id='verdict'" in page


@pytest.mark.parametrize("edit", [{"verdict": {"passed": True, "line": EDITED}},
                                  {"verdict": {"passed": True, "line": float("nan")}}], ids=["edited", "nan"])
@pytest.mark.parametrize("label, function", [("Details", "review_details"), ("Approve", "review_link"),
                                             ("Reject", "review_link")])
def test_an_edited_document_gets_a_warning_instead_of_the_evidence(world, label, function, edit):
    approval = awaiting(world)
    path, route, token = link(world, label)
    edit_evidence(world, approval.id, **edit)

    status, page = show(function, path, route, token)

    assert status == 409
    assert "changed since it was sent; deciding will void it" in page
    assert "id='verdict'" not in page and "flawless" not in page and "<form" not in page and token not in page
    assert world.approvals.get(approval.id).status == "pending", "a GET decides nothing, not even the void"


def test_after_the_warning_a_decision_by_the_link_voids_it_with_409(world):
    approval = awaiting(world)
    path, route, token = link(world, "Approve")
    details = link(world, "Details")
    edit_evidence(world, approval.id, verdict={"passed": True, "line": float("nan")})

    body = f"token={token}&reviewer=ada".encode()
    status, page = call("review_link", request("POST", path, body, route_params=route))

    assert status == 409 and "evidence document changed" in page
    assert world.approvals.get(approval.id).status == "void"
    status, page = show("review_details", *details)
    assert status == 409 and "changed since it was sent" in page and "deciding will void it" not in page


def test_an_approval_made_before_binding_shows_its_document_as_before(world):
    approval = awaiting(world)
    path, route, token = link(world, "Details")
    edit_evidence(world, approval.id, built_at="2020-01-01T00:00:00+00:00")
    world.repos.approvals.change(approval.id, lambda a: setattr(a, "evidence_digest", ""))
    # the view token covers the digest: sign the Details link again for the unbound approval
    links = world.approvals.view(approval.id)["links"]
    token = parse_qs(urlparse(links["Details"]).query)["token"][0]

    status, page = show("review_details", path, route, token)
    assert status == 200 and "id='verdict'" in page
