"""The evidence page: every section of the issue in its order, each chart labelled and beside its
numbers, nothing that loads or runs (strict CSP whose hash is the page's own stylesheet), hostile
text only escaped, no token or key on the function-key page; the Details link, the confirmation
page and GET /api/candidates/{name}/{version}/evidence on services built by the composition root."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from blueprints import review_pages
from blueprints.pages import evidence, layout
from shared.domain.errors import NotFound
from shared.domain.models import ModelRegistered
from tests.blueprints.conftest import FUNCTIONS, request
from tests.builders import MODEL

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "evidence_document.json").read_text(encoding="utf-8"))
SECTIONS = ["verdict", "comparison", "curves", "confusion", "subgroups", "disagreement", "training", "smoke",
            "history", "links"]
SCRIPT = "<script>alert(1)</script>"
HOSTILE = f"{SCRIPT}\"' onmouseover='alert(2)' & Müller ✓ 🩺"


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's parser would see them."""

    def __init__(self, page: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def check_inert(page: str, allowed_links: set[str]) -> None:
    """No script, no event handler, no style attribute, nothing fetched; links only to `allowed_links` or anchors."""
    for tag, attrs in Elements(page).tags:
        assert tag not in ("script", "img", "iframe", "object", "embed", "base"), tag
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        if tag == "link":
            assert attrs == {"rel": "icon", "href": "data:,"}  # the empty icon: no request for /favicon.ico
        if tag == "a":
            assert attrs["href"].startswith("#") or attrs["href"] in allowed_links, attrs
        assert tag == "a" or not any(str(v).startswith(("http", "javascript")) for v in attrs.values()), (tag, attrs)


def respond(name: str, req):
    response = FUNCTIONS[name].get_user_function()(req)
    return response.status_code, response.headers, response.get_body().decode()


def rendered(document: dict) -> str:
    return layout.html_document(evidence.title(document), evidence.body(document), heading="")


def hostile_document() -> dict:
    doc = copy.deepcopy(FIXTURE)
    doc["version"] = HOSTILE
    doc["verdict"]["line"] = HOSTILE
    doc["gate"]["evaluated_on"] = HOSTILE
    doc["gate"]["reasons"] = [HOSTILE]
    doc["gate"]["subgroups"][0]["name"] = HOSTILE
    doc["gate"]["subgroups"][1]["note"] = HOSTILE
    doc["gate"]["disagreement"]["examples"][0]["features"][HOSTILE] = HOSTILE
    doc["training_set"]["files"][0]["name"] = f"landing/{HOSTILE}.csv"
    doc["training_set"]["files"][1]["etag"] = HOSTILE
    doc["training_set"]["note"] = HOSTILE
    doc["candidate"]["requested_by"] = [HOSTILE]
    doc["candidate"]["created_by"] = HOSTILE
    doc["training_drift"]["features"][0]["name"] = HOSTILE
    doc["history"]["drift"][6]["drifted"] = [HOSTILE]
    doc["history"]["performance"][0]["kind"] = HOSTILE
    doc["smoke"]["problems"] = [HOSTILE]
    doc["links"] = {"mlflow_run": "javascript:alert(3)", "drift_report": f"https://x.example/'{SCRIPT}",
                    "audit": None}
    doc["notes"] = [HOSTILE]
    return doc


def test_every_section_of_the_issue_is_present_in_its_order():
    page = rendered(FIXTURE)
    positions = [page.index(f"id='{ident}'") for ident in SECTIONS]
    assert positions == sorted(positions)
    assert page.index(FIXTURE["verdict"]["line"]) < positions[1]  # the verdict line comes first
    for text in ("champion v6", "[0.8451, 0.8794]", "Age ≥ 50", "5.4%", "landing/diabetes-2026-02.csv",
                 "champion v6 baseline", "142", "MLflow run", FIXTURE["artifact_digest"]):
        assert text in page, text


def test_each_chart_is_labelled_and_has_its_numbers_table_beside_it():
    page = rendered(FIXTURE)
    charts = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(charts) == 6  # ROC, calibration, two confusion matrices, drift and performance history
    for chart in charts:
        assert chart.startswith("<svg role='img'") and re.search(r"<title id='[a-z-]+-t'>[^<]+</title><desc", chart)
    figures = page.split("<div class='figure'>")[1:]
    assert len(figures) == 4
    for part in figures:
        assert part.index("<svg") < part.index("</svg>") < part.index("<table")
    confusion = page[page.index("id='confusion'"):page.index("id='subgroups'")]
    assert confusion.count("<svg") == 2 and "<table" in confusion and "0.684" in confusion  # sensitivity 416/608


def test_nothing_loads_or_runs_and_the_policy_allows_exactly_the_pages_style():
    page = rendered(FIXTURE)
    check_inert(page, set(FIXTURE["links"].values()))
    assert "<script" not in page.lower() and not re.search(r"\bsrc=|url\(|@import", page, re.I)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert styles == [layout.CSS]
    outside = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    outside = re.sub(r"<a href='https?://[^']*' rel='noreferrer noopener'>", "", outside)
    assert "http" not in outside  # only the document's own links point anywhere
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in layout.CONTENT_SECURITY_POLICY
    assert "style=" not in page  # an inline style attribute would be refused by that policy
    assert "<meta name='viewport' content='width=device-width,initial-scale=1'>" in page and "@media print" in page


def test_hostile_strings_appear_only_escaped():
    page = rendered(hostile_document())
    check_inert(page, set())  # neither the javascript: nor the quote-breaking https link became a link
    assert SCRIPT not in page and "onmouseover='alert(2)'" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27; onmouseover=&#x27;alert(2)&#x27; &amp; Müller ✓ 🩺"
    assert page.count(escaped) >= 15
    assert "<a href='javascript" not in page and "href='https://x.example" not in page  # not links: plain text
    assert page.count("<svg") == 6 and "<script" not in page.lower()


def test_hostile_reviewer_names_and_comments_are_escaped_on_the_decision_pages(world):
    approval = register(world, "1")
    approval.decided_by, approval.comment, approval.status = HOSTILE, HOSTILE, "approved"
    page = review_pages.decided(approval).get_body().decode()
    assert SCRIPT not in page and page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    page = review_pages.confirmation(approval, "approve", "t.o'k<en", HOSTILE, hostile_document()).get_body().decode()
    assert SCRIPT not in page and "value='t.o&#x27;k&lt;en'" in page


def register(world, version: str):
    world.platform.scores[version] = {"auc": 0.9, "accuracy": 0.8}
    candidate = world.candidates.handle_registered(ModelRegistered(MODEL, version, "mlflow-webhook", f"d-{version}"))
    return world.approvals.get(candidate.approval_id)


def evidence_request(version: str = "1", name: str = MODEL, **params):
    return request("GET", f"candidates/{name}/{version}/evidence", params=params,
                   route_params={"name": name, "version": version}, headers={"x-functions-key": "k3y-s3cret"})


def test_the_function_key_page_renders_the_newest_document_and_carries_no_token_or_key(world):
    approval = register(world, "1")
    status, headers, page = respond("candidate_evidence", evidence_request("1"))
    assert status == 200 and headers["Content-Security-Policy"] == layout.CONTENT_SECURITY_POLICY
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert all(f"id='{ident}'" in page for ident in SECTIONS) and approval.id in page
    check_inert(page, {u for u in world.services.evidence.for_approval(approval.id)["links"].values() if u})
    assert "<form" not in page and "token" not in page.lower() and "/review/" not in page
    assert "k3y-s3cret" not in page and "code=" not in page and "sig=" not in page
    assert world.services.evidence.digest(world.services.evidence.for_candidate(MODEL, "1")) in page
    status, headers, body = respond("candidate_evidence", evidence_request(format="json"))
    assert status == 200 and json.loads(body) == world.services.evidence.for_approval(approval.id)


@pytest.mark.parametrize("fmt", ["html", "json"])
@pytest.mark.parametrize("name, version, code, word", [
    (MODEL, "0", 400, "version"), (MODEL, "../1", 400, "version"), (MODEL, "x" * 500, 400, "version"),
    ("../../other", "1", 400, MODEL), (MODEL, "9", 404, "no evidence document"),
])
def test_a_bad_or_unknown_version_is_a_clear_4xx(world, fmt, name, version, code, word):
    register(world, "1")
    status, headers, body = respond("candidate_evidence", evidence_request(version, name, format=fmt))
    assert status == code and word in (json.loads(body)["error"] if fmt == "json" else body), body
    if fmt == "html":
        assert "Content-Security-Policy" in headers and "../../other" not in body.replace("&#x27;", "'").replace(
            "not '../../other'", "")


def test_an_unknown_format_is_400(world):
    status, _, body = respond("candidate_evidence", evidence_request(format="xml"))
    assert status == 400 and "format" in json.loads(body)["error"]


def links_of(world) -> dict[str, tuple[str, dict, str]]:
    out = {}
    for label, url in world.notifier.sent[-1].links.items():
        parsed = urlparse(url)
        parts = parsed.path.split("/")
        route = {"id": parts[3], **({"action": parts[4]} if len(parts) > 4 else {})}
        out[label] = (parsed.path, route, parse_qs(parsed.query)["token"][0])
    return out


def test_the_details_link_shows_the_evidence_the_approval_was_issued_with(world):
    approval = register(world, "1")
    path, route, token = links_of(world)["Details"]
    status, headers, page = respond("review_details", request("GET", path, params={"token": token}, route_params=route))
    assert status == 200 and headers["Content-Security-Policy"] == layout.CONTENT_SECURITY_POLICY
    assert all(f"id='{ident}'" in page for ident in SECTIONS)
    assert world.services.evidence.for_approval(approval.id)["verdict"]["line"] in page.replace("&#x27;", "'")
    assert approval.evidence_digest and approval.evidence_digest in page
    assert token not in page and "<form" not in page  # read-only: no decision, no token


def test_without_a_document_the_details_link_falls_back_to_the_summary(world, monkeypatch):
    approval = register(world, "1")
    path, route, token = links_of(world)["Details"]

    def missing(approval_id):
        raise NotFound("no evidence document")

    monkeypatch.setattr(world.services.evidence, "for_approval", missing)
    status, headers, page = respond("review_details", request("GET", path, params={"token": token}, route_params=route))
    assert status == 200 and "Content-Security-Policy" in headers
    assert f"<td>auc</td><td>{approval.gate['candidate']['auc']:.4f}</td>" in page and "id='comparison'" not in page


def test_the_confirmation_page_puts_the_form_under_the_verdict_and_only_its_own_token(world):
    register(world, "1")
    links = links_of(world)
    path, route, token = links["Approve"]
    status, headers, page = respond("review_link", request("GET", path, params={"token": token}, route_params=route))
    assert status == 200 and headers["Content-Security-Policy"] == layout.CONTENT_SECURITY_POLICY
    verdict, form, details = page.index("id='verdict'"), page.index("<form method='post'>"), page.index("id='comparison'")
    assert verdict < form < details and "href='#comparison'" in page
    check_inert(page, {u for u in world.services.evidence.for_approval(route["id"])["links"].values() if u})
    assert page.count(token) == 1 and f"name='token' value='{token}'" in page
    assert links["Reject"][2] not in page and links["Details"][2] not in page


def test_the_fixture_page_weight_is_modest():
    assert len(rendered(FIXTURE).encode()) < 60_000
