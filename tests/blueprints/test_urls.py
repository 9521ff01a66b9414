"""Every public URL the services build is a route the Functions app registers."""
from __future__ import annotations

import re

from shared.services.urls import ROUTE_PREFIX, ROUTES, PublicUrls
from tests.blueprints.conftest import FUNCTIONS

REGISTERED = {f.get_trigger().route: f.get_function_name() for f in FUNCTIONS.values()
              if f.get_trigger().get_binding_name() == "httpTrigger"}


def test_every_url_template_is_a_registered_route():
    missing = {name: template for name, template in ROUTES.items() if template not in REGISTERED}
    assert missing == {}, f"routes built by shared/services/urls.py but not registered: {missing}"


def test_built_urls_fill_the_templates_and_escape_their_parts():
    urls = PublicUrls("https://retrain.example")
    built = {
        "review_action": urls.review_action("m-v1-ab", "approve", "t0k.en"),
        "review_details": urls.review_details("m-v1-ab", "t0k"),
        "approval": urls.approval("m-v1-ab"),
        "production": urls.production(),
        "candidates": urls.candidates(),
        "redeploy": urls.redeploy("diabetes-classifier", "7"),
        "drift": urls.drift(),
        "drift_report": urls.drift_report("20261202T000000-abcdef"),
        "audit": urls.audit(),
    }
    assert set(built) == set(ROUTES)
    for name, url in built.items():
        path = url.removeprefix("https://retrain.example").split("?")[0]
        pattern = re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(f"{ROUTE_PREFIX}/{ROUTES[name]}"))
        assert re.fullmatch(pattern, path), (name, url)
    assert urls.approval("a/../b") == "https://retrain.example/api/approvals/a%2F..%2Fb"
    assert urls.review_action("x", "approve", "a&b").endswith("?token=a%26b")
