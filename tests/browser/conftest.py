"""Browser tests: Playwright's sync API driving Debian's chromium (/usr/bin/chromium; .ci/run installs
it) against the whole local stack, which this package starts once for itself."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from devstack.client import ApiClient
from tests.e2e.conftest import TeamsReceiver, running_stack
from tests.e2e.test_outer_loop import card_for, decided, new_pending_approval

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".local" / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download needs the network; the system chromium does not. Without the
# background-networking flags chromium keeps trying to reach Google's services, which fails offline.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORTS = ((1280, 900), (390, 844))
# The outermost elements reaching past the viewport's right edge (what makes the page scroll sideways).
WIDER_THAN_VIEWPORT = """[...document.body.querySelectorAll('*')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((e, _, all) => !all.includes(e.parentElement))
  .slice(0, 5)
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).join('.') : ''} right=${Math.round(e.getBoundingClientRect().right)}`)"""
NOT_FETCHED = ("data", "blob", "about")  # URLs a page may hold that reach no server


def without_query(text: str) -> str:
    """Links carry a review token or the function key in their query: neither goes into a report."""
    return re.sub(r"\?[^\s'\"]*", "?…", text)


@pytest.fixture(scope="package")
def teams():
    receiver = TeamsReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="package")
def local_stack(tmp_path_factory, teams):
    with running_stack(tmp_path_factory.mktemp("browser-stack"), teams) as stack:
        yield stack


@pytest.fixture(scope="package")
def api(local_stack) -> ApiClient:
    return ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_FUNCTION_KEY"])


@dataclass(repr=False)
class Pending:
    approval: dict
    card: dict

    def __repr__(self) -> str:  # the card's links hold review tokens: a failing test's report shows none
        return f"Pending(approval {self.approval['id']}, v{self.approval['candidate_version']})"

    def link(self, title: str) -> str:
        return next(a["url"] for a in self.card["actions"] if a["title"] == title)


@pytest.fixture(scope="package")
def pending(api, local_stack, teams) -> Pending:
    """One approval request, its Teams card captured: the reviewer's starting point."""
    approval = new_pending_approval(api, local_stack)
    return Pending(approval, card_for(teams, approval["id"]))


@pytest.fixture(scope="package")
def challenger(api, local_stack, teams, pending) -> Pending:
    """A second approval request, against the first version as champion (approved here through the
    API unless a test already approved it in the browser): the evidence page with both models on it."""
    first = pending.approval
    if api.get_json(f"/api/approvals/{first['id']}")["status"] == "pending":
        api.request("POST", f"/api/approvals/{first['id']}/approve", {"reviewer": "grace@example.com"})
    assert decided(api, first["id"])["status"] == "approved"
    approval = new_pending_approval(api, local_stack)
    assert approval["champion_version"] == first["candidate_version"]
    return Pending(approval, card_for(teams, approval["id"]))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass(repr=False)
class Watched:
    """A page and what it did: console errors (with the URL they are about), uncaught page errors,
    every URL it requested."""
    page: Page
    origin: str
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, the URL it is about)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # its URLs hold tokens and the function key: a failing test's report shows none
        return f"Watched({without_query(self.page.url)}, {len(self.requests)} requests)"

    def console_error(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if isinstance(message.location, dict) else ""
            self.console_errors.append((without_query(message.text), without_query(where)))

    def outside(self) -> list[str]:
        return [without_query(url) for url in self.requests
                if urlsplit(url).scheme not in NOT_FETCHED and origin_of(url) != self.origin]

    def assert_clean(self, refused_with: int | None = None) -> None:
        """`refused_with`: the document's own error status, which chromium logs as a console error."""
        own = (f"Failed to load resource: the server responded with a status of {refused_with} ",
               without_query(self.page.url))
        errors = [(text, url) for text, url in self.console_errors
                  if not (refused_with and text.startswith(own[0]) and url == own[1])]
        assert errors == [], f"console errors: {errors}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.requests, "no request was recorded: the recorder is not listening"
        assert self.outside() == [], f"requests outside the app's origin {self.origin}: {self.outside()}"

    def look(self, name: str, refused_with: int | None = None) -> None:
        """Full-page screenshots at both widths, no horizontal overflow at either, nothing unclean."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        overflow = {}
        for width, height in VIEWPORTS:
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            scroll, inner = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if scroll > inner:
                overflow[width] = {"scrollWidth": scroll, "wider": self.page.evaluate(WIDER_THAN_VIEWPORT)}
        self.page.set_viewport_size({"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})
        assert overflow == {}, f"{name}: wider than the viewport at {overflow}"
        self.assert_clean(refused_with)

    def weight(self) -> dict:
        """What loading the current page transferred, from the browser's own resource timing."""
        document, resources = self.page.evaluate(
            "[performance.getEntriesByType('navigation')[0].toJSON(),"
            " performance.getEntriesByType('resource').map(r => r.toJSON())]")
        return {"path": urlsplit(self.page.url).path,
                "document_transfer_bytes": document["transferSize"],
                "document_body_bytes": document["encodedBodySize"],
                "resources": len(resources),
                "transfer_bytes": document["transferSize"] + sum(r["transferSize"] for r in resources)}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def page(browser, local_stack) -> Watched:
    context = browser.new_context(viewport={"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    watched = Watched(tab, origin_of(local_stack.host_url))
    tab.on("console", watched.console_error)
    tab.on("pageerror", lambda error: watched.page_errors.append(without_query(str(error))))
    tab.on("request", lambda request: watched.requests.append(request.url))
    yield watched
    context.close()


def record_weight(name: str, weight: dict) -> None:
    """Adds this page's weight to page-weight.json (a test artifact) and prints it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    file = ARTIFACTS / "page-weight.json"
    weights = json.loads(file.read_text()) if file.exists() else {}
    file.write_text(json.dumps({**weights, name: weight}, indent=2) + "\n")
    print(f"page weight of the {name} page: {weight}")
