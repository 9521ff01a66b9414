"""The workspace's models as ARM shows them, read from the backing MLflow registry
(`extras["registry"]`, and the ARM routes in arm_models.py).

Shapes: stable/2024-10-01 examples Workspace/ModelVersion/{get,list}.json and
Workspace/ModelContainer/get.json (see SPECS.md). An MLflow model version is an ARM ModelVersion
of modelType "mlflow_model": properties.tags are the version's tags, jobName its run (an Azure ML
job's run id is the job's name), flavors those of its MLmodel, modelUri its folder in the
workspace blob store; systemData.createdBy who created the version (MLflow's user_id, which the
MLflow API sets from the caller's token).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .backing import Backing, BackingError
from .blobs import RunArtifactBlobs
from .uris import run_artifact_path, run_blob

VERSION_TYPE = "Microsoft.MachineLearningServices/workspaces/models/versions"
CONTAINER_TYPE = "Microsoft.MachineLearningServices/workspaces/models"


class Registry:
    """Model containers and versions in ARM's shape."""

    def __init__(self, config, backing: Backing, blobs: RunArtifactBlobs, db_path: Callable[[], Path | None]):
        self.config, self.backing, self.blobs, self.db_path = config, backing, blobs, db_path
        self._flavors: dict[tuple[str, str], dict] = {}
        self._creators: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_version(self, name: str, version: str) -> dict[str, Any] | None:
        """The ModelVersion body, None when the registry has no such version."""
        try:
            found = self.backing.call("GET", "model-versions/get", name=name, version=str(version))
        except BackingError as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return self.version_body(found["model_version"])

    def get_container(self, name: str) -> dict[str, Any] | None:
        try:
            found = self.backing.call("GET", "registered-models/get", name=name)
        except BackingError as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return self.container_body(found["registered_model"])

    def list_versions(self, name: str, page_token: str | None, top: int) -> tuple[list[dict], str | None]:
        found = self.backing.call("GET", "model-versions/search", filter=f"name='{_quoted(name)}'",
                                  max_results=top, page_token=page_token, order_by="version_number DESC")
        return ([self.version_body(v) for v in found.get("model_versions", [])], found.get("next_page_token"))

    def list_containers(self, page_token: str | None, top: int) -> tuple[list[dict], str | None]:
        found = self.backing.call("GET", "registered-models/search", max_results=top, page_token=page_token)
        return ([self.container_body(m) for m in found.get("registered_models", [])], found.get("next_page_token"))

    def record_creator(self, name: str, version: str, creator: str) -> None:
        """Who created the version: MLflow's user_id column (the backing server keeps it), else memory."""
        with self._lock:
            self._creators[(name, str(version))] = creator
        db = self.db_path()
        if db is not None and db.exists():
            with sqlite3.connect(db, timeout=30) as connection:
                connection.execute("UPDATE model_versions SET user_id = ? WHERE name = ? AND version = ?",
                           (creator, name, int(version)))

    def version_body(self, mv: dict[str, Any]) -> dict[str, Any]:
        name, version = mv["name"], str(mv["version"])
        run_id = mv.get("run_id") or None
        created_by = mv.get("user_id") or self._creators.get((name, version), "")
        return {
            "id": f"{self.config.workspace_id}/models/{name}/versions/{version}",
            "name": version, "type": VERSION_TYPE,
            "properties": {
                "description": mv.get("description") or None,
                "tags": {t["key"]: t["value"] for t in mv.get("tags", [])},
                "properties": {},
                "isAnonymous": False, "isArchived": False,
                "flavors": self._flavors_of(name, version, mv.get("source", "")),
                "modelType": "mlflow_model",
                "modelUri": self._model_uri(mv.get("source", "")),
                "jobName": run_id,
                "stage": mv.get("current_stage") or None,
                "provisioningState": "Succeeded",
            },
            "systemData": _system_data(mv, created_by),
        }

    def container_body(self, rm: dict[str, Any]) -> dict[str, Any]:
        versions = [int(v["version"]) for v in rm.get("latest_versions", [])]
        latest = str(max(versions)) if versions else None
        return {
            "id": f"{self.config.workspace_id}/models/{rm['name']}", "name": rm["name"], "type": CONTAINER_TYPE,
            "properties": {"description": rm.get("description") or None,
                           "tags": {t["key"]: t["value"] for t in rm.get("tags", [])},
                           "properties": {}, "isArchived": False, "latestVersion": latest,
                           "nextVersion": str(int(latest) + 1) if latest else "1",
                           "provisioningState": "Succeeded"},
            "systemData": _system_data(rm, ""),
        }

    def _model_uri(self, source: str) -> str:
        found = run_artifact_path(source)
        if not found:
            return source
        run_id, path = found
        c = self.config
        return (f"azureml://subscriptions/{c.subscription_id}/resourcegroups/{c.resource_group}/workspaces/"
                f"{c.workspace}/datastores/workspaceblobstore/paths/{run_blob(run_id, path)}")

    def _flavors_of(self, name: str, version: str, source: str) -> dict[str, dict]:
        """The MLmodel's flavors (versions are immutable: read once)."""
        key = (name, version)
        with self._lock:
            known = self._flavors.get(key)
        if known is not None:
            return known
        flavors = _read_flavors(self.blobs, source)  # blob reads outside the lock
        with self._lock:
            return self._flavors.setdefault(key, flavors)


def _read_flavors(blobs: RunArtifactBlobs, source: str) -> dict[str, dict]:
    import yaml

    found = run_artifact_path(source)
    if not found:
        return {}
    run_id, path = found
    try:
        mlmodel = yaml.safe_load(blobs.read(run_id, f"{path}/MLmodel" if path else "MLmodel")) or {}
    except Exception:  # noqa: BLE001 - no MLmodel (yet): no flavors
        return {}
    return {flavor: {"data": {k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in data.items()}}
            for flavor, data in (mlmodel.get("flavors") or {}).items() if isinstance(data, dict)}


def _system_data(entity: dict[str, Any], created_by: str) -> dict[str, Any]:
    return {"createdAt": _iso(entity.get("creation_timestamp")), "createdBy": created_by or None,
            "createdByType": "Application" if created_by else None,
            "lastModifiedAt": _iso(entity.get("last_updated_timestamp") or entity.get("creation_timestamp")),
            "lastModifiedBy": created_by or None, "lastModifiedByType": "Application" if created_by else None}


def _iso(millis: Any) -> str | None:
    if millis in (None, ""):
        return None
    return datetime.fromtimestamp(int(millis) / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")
