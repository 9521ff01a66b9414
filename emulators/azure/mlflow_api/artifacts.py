"""Azure ML's run history artifact API, as azureml-mlflow's RunArtifactsClient calls it
(azureml/mlflow/_restclient/run_artifact: /history/v1.0/<workspace>/experiments/<e>/runs/<r>/artifacts...):
batch/metadata (create empty artifacts → SAS URLs to upload to), contentinfo (a SAS URL to read),
the listing (paged with continuationToken/nextLink), path, prefix/contentinfo and metadata.
The experiment segment (a name or an id) is not needed to find a run: run ids are unique.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from emulators.azure.http import HttpError, Request, Response, Router

from .blobs import RunArtifactBlobs
from .common import WS, check_workspace, mlflow_host_pattern
from .uris import RUN_ORIGIN, run_container

BASE = (r"/history/v1\.0" + WS + r"/(?:experiments|experimentids)/(?P<exp>[^/]+)/runs/(?P<run>[^/]+)/artifacts")
PAGE_SIZE = 500


class HistoryArtifacts:
    """The history API's artifact routes over the runs' blobs."""

    def __init__(self, config, blobs: RunArtifactBlobs):
        self.config, self.blobs = config, blobs

    def register(self, router: Router) -> None:
        host = mlflow_host_pattern(self.config)
        for method, suffix, handler in (("POST", "/batch/metadata", self.create_empty),
                                        ("GET", "/contentinfo", self.content_info),
                                        ("GET", "/artifacturi", self.content_info),
                                        ("GET", "/prefix/contentinfo", self.prefix_content_info),
                                        ("GET", "/metadata", self.metadata),
                                        ("GET", "/path", self.list_in_path),
                                        ("GET", "", self.list_in_container)):
            router.route(method, BASE + suffix, handler, host=host)

    def create_empty(self, request: Request) -> Response:
        check_workspace(request, self.config)
        body = request.json() or {}
        paths = [p.get("path", "") for p in body.get("paths", []) if isinstance(p, dict)]
        if not paths or any(not p or p.startswith("/") or ".." in p.split("/") for p in paths):
            raise HttpError(400, "UserError", "Each artifact needs a relative path without '..'.")
        run = request.params["run"]
        return Response(200, {
            "artifacts": {p: self._artifact(run, p) for p in paths},
            "artifactContentInformation": {p: self._content(run, p, write=True) for p in paths},
            "errors": {},
        })

    def content_info(self, request: Request) -> Response:
        check_workspace(request, self.config)
        run, path = request.params["run"], request.query.get("path", "").strip("/")
        if not path or not self.blobs.exists(run, path):
            raise _not_found(run, path)
        return Response(200, self._content(run, path, write=False))

    def metadata(self, request: Request) -> Response:
        check_workspace(request, self.config)
        run, path = request.params["run"], request.query.get("path", "").strip("/")
        if not path or not self.blobs.exists(run, path):
            raise _not_found(run, path)
        return Response(200, self._artifact(run, path))

    def list_in_container(self, request: Request) -> Response:
        check_workspace(request, self.config)
        return self._page(request, [self._artifact(request.params["run"], p)
                                    for p in self.blobs.paths(request.params["run"])])

    def list_in_path(self, request: Request) -> Response:
        check_workspace(request, self.config)
        run, prefix = request.params["run"], request.query.get("path", "").strip("/")
        return self._page(request, [self._artifact(run, p) for p in self.blobs.paths(run, _folder(prefix))])

    def prefix_content_info(self, request: Request) -> Response:
        check_workspace(request, self.config)
        run, prefix = request.params["run"], request.query.get("path", "").strip("/")
        return self._page(request, [self._content(run, p, write=False) for p in self.blobs.paths(run, _folder(prefix))])

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            start = max(0, int(request.query.get("continuationToken") or 0))
        except ValueError:
            raise HttpError(400, "UserError", "The continuation token is invalid.")
        end = start + PAGE_SIZE
        token = str(end) if end < len(items) else None
        next_link = None
        if token:
            query = {k: v for k, v in request.query.items() if k != "continuationToken"}
            query["continuationToken"] = token
            next_link = f"https://{request.header('host')}{request.raw_path.split('?')[0]}?{urlencode(query)}"
        return Response(200, {"value": items[start:end], "continuationToken": token, "nextLink": next_link})

    def _artifact(self, run: str, path: str) -> dict[str, Any]:
        container = run_container(run)
        return {"artifactId": f"{RUN_ORIGIN}/{container}/{path}", "origin": RUN_ORIGIN, "container": container,
                "path": path, "etag": None, "createdTime": _now(), "dataPath": None, "tags": {}}

    def _content(self, run: str, path: str, write: bool) -> dict[str, Any]:
        return {"contentUri": self.blobs.sas_url(run, path, write=write), "origin": RUN_ORIGIN,
                "container": run_container(run), "path": path, "tags": {}}


def _folder(prefix: str) -> str:
    return f"{prefix}/" if prefix else ""


def _not_found(run: str, path: str) -> HttpError:
    return HttpError(404, "UserError", f"Artifact {path!r} of run {run} was not found.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
