"""Artifact URIs as Azure ML shows them and as the backing MLflow server stores them.

A run's artifacts live in the workspace blob store (Azurite), where Azure ML keeps them:
`ExperimentRun/dcid.<run id>/<path>`. Clients see a run's artifact URI in Azure ML's form,
`azureml://<host>/mlflow/v2.0/<workspace id>/experiments/<experiment id>/runs/<run id>/artifacts`,
which azureml-mlflow's artifact repository turns into calls to the history API (artifacts.py).
The backing server keeps its own form, `mlflow-artifacts:/<experiment id>/<run id>/artifacts`;
requests are rewritten to it and answers back from it.
"""
from __future__ import annotations

import re
from typing import Any

_WS = (r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.MachineLearningServices"
       r"/workspaces/[^/]+")
AZUREML_RUN_URI = re.compile(r"azureml://[^/]+/mlflow/v[12]\.0" + _WS
                             + r"/experiments/(?P<exp>[^/]+)/runs/(?P<run>[^/]+)/artifacts(?P<rest>/.*)?", re.I)
BACKING_RUN_URI = re.compile(r"mlflow-artifacts:/(?P<exp>[^/]+)/(?P<run>[^/]+)/artifacts(?P<rest>/.*)?")
URI_KEYS = frozenset({"artifact_uri", "source", "storage_location"})

RUN_ORIGIN = "ExperimentRun"


def run_container(run_id: str) -> str:
    """Azure ML's artifact container of a run (its prefix in the workspace blob store)."""
    return f"dcid.{run_id}"


def run_blob(run_id: str, path: str = "") -> str:
    return f"{RUN_ORIGIN}/{run_container(run_id)}/{path.lstrip('/')}" if path else f"{RUN_ORIGIN}/{run_container(run_id)}/"


class UriMap:
    """Rewrites artifact URIs between the client's form (for one host and workspace) and the backing form."""

    def __init__(self, authority: str, workspace_id: str):
        self.prefix = f"azureml://{authority}/mlflow/v2.0{workspace_id}"

    def to_client(self, uri: str) -> str:
        match = BACKING_RUN_URI.fullmatch(uri or "")
        if not match:
            return uri
        return f"{self.prefix}/experiments/{match['exp']}/runs/{match['run']}/artifacts{match['rest'] or ''}"

    @staticmethod
    def to_backing(uri: str) -> str:
        match = AZUREML_RUN_URI.fullmatch(uri or "")
        if not match:
            return uri
        return f"mlflow-artifacts:/{match['exp']}/{match['run']}/artifacts{match['rest'] or ''}"

    def answer_to_client(self, value: Any) -> Any:
        return _rewrite(value, self.to_client)

    def request_to_backing(self, value: Any) -> Any:
        return _rewrite(value, self.to_backing)


def run_artifact_path(uri: str) -> tuple[str, str] | None:
    """(run id, path inside the run's artifacts) of a run artifact URI in either form; None otherwise."""
    for pattern in (AZUREML_RUN_URI, BACKING_RUN_URI):
        match = pattern.fullmatch(uri or "")
        if match:
            return match["run"], (match["rest"] or "").strip("/")
    return None


def _rewrite(value: Any, change) -> Any:
    if isinstance(value, dict):
        return {k: (change(v) if k in URI_KEYS and isinstance(v, str) else _rewrite(v, change))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, change) for v in value]
    return value
