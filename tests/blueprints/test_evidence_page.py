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
    doc["training_set"]["files"][1]["digest"] = None  # without a digest the file's ETag is shown
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


def as_recorded() -> dict:
    """The fixture as the request step records it today: no per-file class counts (the profiles do not
    count the label), the training split's class share, a file without a digest, raw feature floats."""
    doc = copy.deepcopy(FIXTURE)
    data = doc["training_set"]
    data.update(positives=None, positive_share=0.333333)
    for file in data["files"]:
        file["positives"] = None
    data["files"][2]["digest"] = None
    doc["links"]["mlflow_run"] = None
    doc["gate"]["disagreement"]["examples"][0]["features"].update(BMI=19.35004097, DiastolicBloodPressure=68.0)
    doc["gate"]["subgroups"][2].update(judged=False, difference=None, rows=64,
                                       note="fewer than 100 rows or one class only: not judged")
    return doc


def section_of(page: str, ident: str) -> str:
    start = page.index(f"<section id='{ident}'")
    return page[start:page.index("</section>", start)]


def test_the_comparison_is_a_card_table_on_a_phone_and_drops_the_champion_columns_without_one():
    comparison = section_of(rendered(FIXTURE), "comparison")
    assert "<table class='cards n3'>" in comparison and "champion v6 (95% CI)" in comparison
    assert "Both versions scored on the same 1\u202f800 rows" in comparison
    alone = copy.deepcopy(FIXTURE)
    alone["champion"], alone["gate"]["champion"], alone["gate"]["champion_version"] = None, {}, None
    comparison = section_of(rendered(alone), "comparison")
    assert "Scored on 1\u202f800 rows (no champion)" in comparison and "Both versions" not in comparison
    assert "champion (none)" not in comparison and "Δ" not in comparison
    assert "@media (max-width:40rem)" in layout.CSS and "table.cards tr{display:grid" in layout.CSS


def test_the_training_set_shows_the_class_balance_it_has_and_no_empty_columns():
    training = section_of(rendered(as_recorded()), "training")
    assert "33.3% diabetic (training split)" in training and "– (33.3%)" not in training
    assert ">Diabetic<" not in training and ">Share<" not in training and ">Positives<" not in training
    assert "ETag</th>" not in training and '"0x8DE1A2B3C4D5E6F"' not in training  # digest shown: no ETag column
    assert "version (ETag) <span class='mono'>0x8DE3C4D5E6F7081</span>" in training  # the file without a digest
    training = section_of(rendered(FIXTURE), "training")
    assert "3\u202f842 of 11\u202f500 rows diabetic (33.4%)" in training and ">Diabetic<" in training


def test_example_rows_are_transposed_and_formatted_by_column():
    part = section_of(rendered(as_recorded()), "disagreement")
    assert "<th scope='col'>Row 1</th><th scope='col'>Row 2</th><th scope='col'>Row 3</th>" in part
    assert "<td>BMI</td><td>19.35</td><td>27.51</td><td>21.02</td>" in part and "19.35004097" not in part
    assert "<td>DiastolicBloodPressure</td><td>68</td><td>81</td><td>59</td>" in part and "68.0" not in part
    assert "<td>DiabetesPedigree</td><td>0.213</td><td>0.954</td><td>0.087</td>" in part


def test_a_subgroup_not_judged_says_so_with_its_reason_once():
    part = section_of(rendered(as_recorded()), "subgroups")
    assert part.count("fewer than 100 rows or one class only") == 1
    assert "not judged <span class='muted'>(fewer than 100 rows or one class only)</span>" in part


def test_the_mlflow_run_is_a_link_when_its_address_is_known():
    run = FIXTURE["candidate"]["run_id"]
    links = section_of(rendered(FIXTURE), "links")
    assert f"<a href='{FIXTURE['links']['mlflow_run']}' rel='noreferrer noopener'>MLflow run {run}</a>" in links
    links = section_of(rendered(as_recorded()), "links")
    assert f"MLflow run <code>{run}</code> (no UI address configured)" in links and "not recorded" not in links


def test_the_decided_page_shows_the_verdict_the_comparison_and_the_decision_not_an_expiry(world):
    approval = register(world, "1")
    approval.status, approval.decided_by, approval.decided_via = "approved", "ada@example.com", "link"
    approval.decided_at, approval.comment = "2026-03-02T10:11:12.345678+00:00", "ship it"
    page = review_pages.decided(approval).get_body().decode()
    assert "<div class='verdict pass'>" in page and "v1 passes the gate" in page
    auc = approval.gate["candidate"]["auc"]
    assert "id='comparison'" in page and f"<td>AUC</td><td><b>{auc:.4f}</b>" in page and "<td>auc</td>" not in page
    for fact in ("<dt>Decided by</dt><dd>ada@example.com</dd>", "<dt>Via</dt><dd>the review link</dd>",
                 "<dt>Comment</dt><dd>ship it</dd>", ">2026-03-02 10:11 UTC</time>"):
        assert fact in page, fact
    assert "Expires" not in page and approval.expires_at not in page


def test_stored_status_words_read_as_words():
    document = copy.deepcopy(FIXTURE)
    document["training_drift"]["verdict"] = "no_drift"
    document["history"]["drift"][0]["verdict"] = "insufficient_data"
    page = rendered(document)
    assert "<b>no drift</b>" in page and "insufficient data" in page
    assert "no_drift" not in page and "insufficient_data" not in page
