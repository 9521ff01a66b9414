"""Azure ML's workspace-scoped MLflow REST API, proxied to the backing MLflow server.

Paths as azureml-mlflow sends them (AzureMLAbstractRestStore.get_host_credentials: host_url +
"/mlflow/v2.0" for MLflow 2.x/3.x, "/mlflow/v1.0" for 1.x, + the workspace scope, + MLflow's
"/api/2.0/mlflow/<endpoint>"). Artifact URIs are rewritten both ways (uris.py); Azure ML has no
logged-models or webhooks API (404); a model version made from a run's folder is copied to the
backing server's artifact store (so `models:/` resolves there too, for the scoring servers),
its creator recorded, and ModelRegistered published.
"""
from __future__ import annotations

import json
import logging

from emulators.azure.http import Request, Response, Router

from .backing import Backing
from .blobs import RunArtifactBlobs
from .common import WS, azure_ml_error, check_workspace, mlflow_host_pattern
from .uris import BACKING_RUN_URI, UriMap

log = logging.getLogger("azure_emulator.mlflow")

PATH = r"/mlflow/v(?:1|2)\.0" + WS + r"/(?:ajax-)?api/2\.0/mlflow/(?P<endpoint>.+)"
NOT_IN_AZURE_ML = ("logged-models", "webhooks")
METHODS = ("GET", "POST", "PATCH", "DELETE", "PUT")


class MlflowProxy:
    """The MLflow routes; `on_version_created(version_json, request)` runs after a version is made."""

    def __init__(self, config, backing: Backing, blobs: RunArtifactBlobs, on_version_created):
        self.config, self.backing, self.blobs = config, backing, blobs
        self.on_version_created = on_version_created

    def register(self, router: Router) -> None:
        for method in METHODS:
            router.route(method, PATH, self.handle, host=mlflow_host_pattern(self.config))

    def handle(self, request: Request) -> Response:
        check_workspace(request, self.config)
        endpoint = request.params["endpoint"].strip("/")
        if endpoint.split("/", 1)[0] in NOT_IN_AZURE_ML:
            raise azure_ml_error(404, "NotFound", f"The MLflow API {request.method} /api/2.0/mlflow/{endpoint} "
                                                  "is not supported by Azure Machine Learning.")
        uris = UriMap(request.header("host") or request.host, self.config.workspace_id)
        body = request.body
        payload = _json(body)
        if payload is not None:
            payload = uris.request_to_backing(payload)
            body = json.dumps(payload).encode()
        if endpoint == "model-versions/create" and request.method == "POST" and isinstance(payload, dict):
            self._copy_model_to_backing(payload.get("source", ""))
        query = request.raw_path.split("?", 1)[1] if "?" in request.raw_path else ""
        answer = self.backing.send(request.method, f"/api/2.0/mlflow/{endpoint}", query, body or None)
        result = answer.json()
        if result is None:
            return Response(answer.status, answer.body, content_type=answer.content_type or "application/json")
        if answer.status == 200 and endpoint == "model-versions/create":
            self.on_version_created(result.get("model_version", {}), request)
        return Response(answer.status, uris.answer_to_client(result))

    def _copy_model_to_backing(self, backing_source: str) -> None:
        """The run's model folder, uploaded by the client to the workspace blob store, copied to
        where the backing server's version source points (mlflow-artifacts:/<exp>/<run>/artifacts/<path>)."""
        match = BACKING_RUN_URI.fullmatch(backing_source or "")
        if not match:
            return
        run, folder = match["run"], (match["rest"] or "").strip("/")
        prefix = f"{folder}/" if folder else ""
        for path in self.blobs.paths(run, prefix):
            self.backing.put_artifact(f"{match['exp']}/{run}/artifacts/{path}", self.blobs.read(run, path))
        log.info("copied %s of run %s to the backing artifact store", folder or "all artifacts", run)


def _json(body: bytes):
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
