"""Runs named by Azure ML jobs: a job's MLflow run id is the job's name (`extras["mlflow"]`).

MLflow's API cannot choose a run id, so the run is inserted into the backing server's SQLite
store (the `runs` table as MLflow's SqlAlchemyStore writes it, the artifact URI under the
experiment's artifact location as the server would make it); tags and the final status then go
through the REST API like any client's.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from .backing import Backing, BackingError

RUN_ID = re.compile(r"[a-zA-Z0-9][\w\-]{0,255}")
TERMINAL = {"Completed": "FINISHED", "Failed": "FAILED", "Canceled": "KILLED", "FINISHED": "FINISHED",
            "FAILED": "FAILED", "KILLED": "KILLED"}


class JobRuns:
    """create_job_run / finish_run on the backing server; `db_path` is its `mlflow.db`."""

    def __init__(self, backing: Backing, db_path: Callable[[], Path | None]):
        self.backing, self.db_path = backing, db_path
        self._lock = threading.Lock()

    def create_job_run(self, experiment_name: str, run_id: str, tags: dict[str, str] | None = None) -> dict:
        """The run `run_id` in experiment `experiment_name` (made when missing), status RUNNING.
        Idempotent: an existing run with that id is kept (its tags updated)."""
        if not RUN_ID.fullmatch(run_id or ""):
            raise ValueError(f"{run_id!r} cannot be an MLflow run id")
        experiment = self._experiment(experiment_name)
        with self._lock:
            if self._run(run_id) is None:
                self._insert(run_id, experiment)
        all_tags = {"mlflow.runName": run_id, "mlflow.user": "azureml", "mlflow.source.type": "JOB",
                    **(tags or {})}
        self.backing.call("POST", "runs/log-batch", {
            "run_id": run_id, "tags": [{"key": k, "value": str(v)} for k, v in all_tags.items()]})
        return self.backing.call("GET", "runs/get", run_id=run_id)["run"]

    def finish_run(self, run_id: str, status: str) -> None:
        """End the run: an Azure ML status (Completed/Failed/Canceled) or MLflow's (FINISHED/FAILED/KILLED)."""
        if status not in TERMINAL:
            raise ValueError(f"{status!r} is not a terminal run status")
        self.backing.call("POST", "runs/update", {"run_id": run_id, "status": TERMINAL[status],
                                                  "end_time": int(time.time() * 1000)})

    def end_job_run(self, run_id: str, status: str) -> None:
        """What the jobs part calls when the job ends (same as finish_run)."""
        self.finish_run(run_id, status)

    def _experiment(self, name: str) -> dict:
        try:
            return self.backing.call("GET", "experiments/get-by-name", experiment_name=name)["experiment"]
        except BackingError as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
        try:
            experiment_id = self.backing.call("POST", "experiments/create", {"name": name})["experiment_id"]
        except BackingError as error:  # created meanwhile
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return self.backing.call("GET", "experiments/get-by-name", experiment_name=name)["experiment"]
        return self.backing.call("GET", "experiments/get", experiment_id=experiment_id)["experiment"]

    def _run(self, run_id: str) -> dict | None:
        try:
            return self.backing.call("GET", "runs/get", run_id=run_id)["run"]
        except BackingError as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def _insert(self, run_id: str, experiment: dict) -> None:
        if (db := self.db_path()) is None or not db.exists():
            raise RuntimeError("create_job_run needs the backing MLflow server's SQLite file "
                               "(context.extras['mlflow_backing_db'])")
        artifact_uri = f"{experiment['artifact_location'].rstrip('/')}/{run_id}/artifacts"
        with sqlite3.connect(db, timeout=30) as connection:
            connection.execute(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,"
                " start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time)"
                " VALUES (?, ?, 'JOB', '', '', 'azureml', 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)",
                (run_id, run_id, int(time.time() * 1000), artifact_uri, int(experiment["experiment_id"])))
