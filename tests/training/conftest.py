"""A throwaway MLflow tracking store + registry (SQLite, artifacts in tmp) per test module."""
from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE_CSV = FIXTURES / "diabetes-sample.csv"  # 600 rows sampled from data/diabetes-dev.csv


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    """Point MLflow (env and globals) at a fresh SQLite store; restore everything afterwards.

    train.main runs in-process, and mlflow.set_experiment leaves global state behind
    (the active experiment id, env MLFLOW_EXPERIMENT_ID): undone here so that later
    tests talking to another server do not inherit it.
    """
    import mlflow
    import mlflow.tracking._tracking_service.utils as tracking_utils
    import mlflow.tracking.fluent as fluent

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous_uri = tracking_utils._tracking_uri
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    for name in ("MLFLOW_RUN_ID", "AZUREML_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_REGISTRY_URI"):
        patch.delenv(name, raising=False)
    patch.setattr(fluent, "_active_experiment_id", None)
    patch.chdir(root)  # a SQLite store puts new experiments' artifacts under ./mlruns
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(previous_uri)
    patch.undo()
