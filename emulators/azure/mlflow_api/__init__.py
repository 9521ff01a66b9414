"""Azure ML's MLflow API (workspace-scoped, on <location>.api.azureml.localhost) over a real,
backing MLflow server; the history API's run artifacts in the workspace blob store; ARM's model
containers and versions read from the backing registry.

`register(router, context)` adds the routes and puts in `context.extras`:
  "mlflow":   JobRuns — create_job_run(experiment_name, run_id, tags), finish_run(run_id, status)
  "registry": Registry — get_version(name, version) -> ARM ModelVersion dict | None
The backing server's SQLite file (needed to make a run with a chosen id, and to record who made a
model version) is, at the time of use: `context.extras["mlflow_backing_db"]`, else
`config.mlflow_backing_db` (when the config has that field), else devstack.azure_stack's layout
(`<root>/mlflow/mlflow.db` next to the emulator's `<root>/emulator`) when that file exists.
"""
from __future__ import annotations

import logging
from pathlib import Path

from emulators.azure.context import Context
from emulators.azure.http import Request, Router

from .arm_models import ArmModels
from .artifacts import HistoryArtifacts
from .backing import Backing
from .blobs import RunArtifactBlobs
from .events import model_registered
from .registry import Registry
from .runs import JobRuns
from .tracking import MlflowProxy

log = logging.getLogger("azure_emulator.mlflow")


def register(router: Router, context: Context) -> None:
    config = context.config
    db_path = lambda: backing_db(context)  # noqa: E731 - resolved at use: the backbone may set it after register
    backing = Backing(config.mlflow_backing_url)
    blobs = RunArtifactBlobs(config, context.blob_service)
    registry = Registry(config, backing, blobs, db_path)

    def version_created(version: dict, request: Request) -> None:
        principal = request.principal
        creator = (getattr(principal, "oid", "") or getattr(principal, "appid", "")) if principal else ""
        if creator:
            registry.record_creator(version["name"], str(version["version"]), creator)
        context.events.publish(config.workspace_id, model_registered(config.workspace_id, version))

    MlflowProxy(config, backing, blobs, version_created).register(router)
    HistoryArtifacts(config, blobs).register(router)
    ArmModels(config, registry).register(router)
    context.extras["mlflow"] = JobRuns(backing, db_path)
    context.extras["registry"] = registry
    # Not a health check: the emulator is up without its backing server (the stack may start it later,
    # some tests run none); MLflow calls then fail as Azure ML's would, and the state says why.
    context.extras.setdefault("state", {})["mlflow_api"] = lambda: {"backing_server_up": backing.healthy()}


def backing_db(context: Context) -> Path | None:
    """Where the backing server's mlflow.db is (see the module's docstring); None when unknown."""
    configured = context.extras.get("mlflow_backing_db") or getattr(context.config, "mlflow_backing_db", None)
    if configured:
        return Path(configured)
    beside = Path(context.config.root).parent / "mlflow" / "mlflow.db"
    return beside if beside.exists() else None
