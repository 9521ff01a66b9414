"""MLPlatform on the local machine: each command job is a runner process with its own folder
(spec, status, logs, outputs), the MLflow server is the model registry."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from shared.adapters.local_ml.mlflow_rest import MlflowRest
from shared.domain.errors import NotFound
from shared.domain.training import FAILED, QUEUED, RUNNING, TERMINAL, JobStatus
from shared.ports import ModelVersionInfo, TrainingJobRequest

REPO_ROOT = Path(__file__).resolve().parents[3]


class LocalMLPlatform:
    def __init__(self, jobs_dir: str, storage_connection: str, tracking_uri: str,
                 events_url: str, events_key: str, training_dir: Path = REPO_ROOT / "training"):
        self.jobs_dir = Path(jobs_dir) if Path(jobs_dir).is_absolute() else REPO_ROOT / jobs_dir
        self._storage_connection = storage_connection
        self.tracking_uri = tracking_uri
        self._events_url = events_url
        self._events_key = events_key
        self.training_dir = training_dir
        self.mlflow = MlflowRest(tracking_uri)

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        job_dir = self.jobs_dir / request.job_name
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        try:
            job_dir.mkdir()  # atomic: the first submit of a name wins, repeats are no-ops
        except FileExistsError:
            return request.job_name
        spec = {
            "job_name": request.job_name,
            "model_name": request.model_name,
            "experiment": request.experiment,
            "training_set_id": request.training_set_id,
            "inputs": [asdict(b) for b in request.inputs],
            "parameters": request.parameters,
            "training_script": str(self.training_dir / "train.py"),
        }
        (job_dir / "spec.json").write_text(json.dumps(spec, indent=2))
        _write_status(job_dir, {"status": QUEUED})
        env = {
            **os.environ,
            "AzureWebJobsStorage": self._storage_connection,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "LOCAL_JOB_EVENTS_URL": self._events_url,
            "LOCAL_JOB_EVENTS_KEY": self._events_key,
            "PYTHONPATH": str(REPO_ROOT),
        }
        with open(job_dir / "runner.log", "ab") as runner_log:
            process = subprocess.Popen(
                [sys.executable, "-m", "shared.adapters.local_ml.runner", str(job_dir)],
                cwd=REPO_ROOT, env=env, stdout=runner_log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        (job_dir / "runner.pid").write_text(str(process.pid))
        return request.job_name

    def get_job(self, job_name: str) -> JobStatus:
        job_dir = self.jobs_dir / job_name
        status_file = job_dir / "status.json"
        if not status_file.exists():
            raise NotFound(f"local job {job_name!r} does not exist")
        status = json.loads(status_file.read_text())
        if status["status"] not in TERMINAL and not _runner_alive(job_dir):
            status = {"status": FAILED, "error": "the job process ended without reporting a result",
                      "log_tail": tail(job_dir / "user_logs" / "std_log.txt")}
        return JobStatus(
            name=job_name,
            status=status["status"] if status["status"] in TERMINAL | {QUEUED} else RUNNING,
            log_tail=status.get("log_tail", ""),
            error=status.get("error", ""),
            model_version=status.get("model_version"),
            run_id=status.get("run_id"),
            metrics=status.get("metrics", {}),
        )

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        model_version = self.mlflow.model_version(name, version)
        tags = {t["key"]: t["value"] for t in model_version.get("tags", [])}
        run_id = model_version.get("run_id") or None
        metrics = {}
        if run_id:
            run = self.mlflow.run(run_id)
            metrics = {m["key"]: m["value"] for m in run.get("data", {}).get("metrics", [])}
        return ModelVersionInfo(name, str(model_version["version"]), run_id, model_version.get("source", ""), tags, metrics)


    def evaluate_models(self, model_name: str, versions: list[str], data_from_version: str) -> dict[str, dict]:
        from shared.adapters.mlflow_models import evaluate_models

        return evaluate_models(self.tracking_uri, model_name, versions, data_from_version)

    def get_input_example(self, model_name: str, version: str) -> tuple[list[str], list[list]]:
        from shared.adapters.mlflow_models import input_example

        return input_example(self.tracking_uri, model_name, version)

    def get_baseline_profile(self, model_name: str, version: str) -> dict:
        from shared.adapters.mlflow_models import baseline_profile

        return baseline_profile(self.tracking_uri, model_name, version)

    def score_data(self, model_name: str, version: str, csv_chunks) -> dict:
        from shared.adapters.mlflow_models import score_data

        return score_data(self.tracking_uri, model_name, version, csv_chunks)


def _write_status(job_dir: Path, status: dict) -> None:
    temporary = job_dir / "status.json.tmp"
    temporary.write_text(json.dumps(status, indent=2))
    temporary.replace(job_dir / "status.json")


def _runner_alive(job_dir: Path) -> bool:
    try:
        pid = int((job_dir / "runner.pid").read_text())
    except (OSError, ValueError):
        return True  # being started right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return ""
