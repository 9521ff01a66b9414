"""Every public URL the service puts in a notification, a record or a page, built in one place.

Each template is a route of `function_app.app` (tests/unit/test_urls.py checks them against the
registered routes), so renaming a route cannot silently break a link.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

ROUTE_PREFIX = "/api"

# name → the route template as registered with the Functions app
ROUTES = {
    "review_action": "review/{id}/{action}",
    "review_details": "review/{id}",
    "approval": "approvals/{id}",
    "production": "production",
    "candidates": "candidates",
    "redeploy": "candidates/{name}/{version}/redeploy",
    "drift": "drift",
    "drift_report": "drift/reports/{id}",
    "audit": "audit",
}


@dataclass(frozen=True)
class PublicUrls:
    base_url: str

    def _url(self, route: str, query: dict | None = None, **parts: str) -> str:
        return f"{self.base_url}{self.path(route, **parts)}" + (f"?{urlencode(query)}" if query else "")

    @staticmethod
    def path(route: str, **parts: str) -> str:
        return f"{ROUTE_PREFIX}/" + ROUTES[route].format(**{k: quote(str(v), safe="") for k, v in parts.items()})

    def review_action(self, approval_id: str, action: str, token: str) -> str:
        return self._url("review_action", {"token": token}, id=approval_id, action=action)

    def review_details(self, approval_id: str, token: str) -> str:
        return self._url("review_details", {"token": token}, id=approval_id)

    def approval(self, approval_id: str) -> str:
        return self._url("approval", id=approval_id)

    def production(self) -> str:
        return self._url("production")

    def candidates(self) -> str:
        return self._url("candidates")

    def redeploy(self, model_name: str, version: str) -> str:
        return self._url("redeploy", name=model_name, version=version)

    def drift(self) -> str:
        return self._url("drift")

    def drift_report(self, check_id: str) -> str:
        return self._url("drift_report", id=check_id)

    def audit(self) -> str:
        return self._url("audit")
