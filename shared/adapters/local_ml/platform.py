"""MLPlatform on the local machine: each command job is a job runner emulator process
(`python -m emulators.local_ml.job_runner`) with its own folder (`emulator_formats.job_folder`:
spec, status, logs, outputs), whose command runs in the training environment's interpreter as an
Azure ML job runs in its environment; the MLflow server is the model registry."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from emulator_formats import job_folder
from shared.adapters.local_ml.mlflow_rest import MlflowRest
from shared.adapters.local_ml.processes import REPO_ROOT, alive, start_time, tail
from shared.domain.batches import BatchRef
from shared.domain.errors import NotFound, PlatformError
from shared.domain.training import COMPLETED, FAILED, QUEUED, RUNNING, TERMINAL, TRAINING_FLAGS, JobStatus
from shared.domain.evaluation import ScoredRows
from shared.ports import ModelVersionInfo, RowsSource, TrainingJobRequest, artifact_digest, page_base, page_url

LOCAL_EXPERIMENT = "diabetes-training"  # the local backend has one experiment (Azure's is AZUREML_EXPERIMENT)

# The job folder's statuses → ours; anything else the runner writes counts as running.
_STATUS = {job_folder.QUEUED: QUEUED, job_folder.RUNNING: RUNNING,
           job_folder.COMPLETED: COMPLETED, job_folder.FAILED: FAILED}


class LocalMLPlatform:
    """Training jobs as local runner processes, the registry and evaluation on the MLflow server.

    `training_python`: the training environment's interpreter (training/environment/conda.yml),
    which runs each job's train.py; the runner itself is the platform's and runs in this one."""

    def __init__(self, jobs_dir: str, storage_connection: str, tracking_uri: str,
                 events_url: str, events_key: str, training_dir: Path = REPO_ROOT / "training", *,
                 training_python: Path):
        self.jobs_dir = Path(jobs_dir) if Path(jobs_dir).is_absolute() else REPO_ROOT / jobs_dir
        self._storage_connection = storage_connection
        self.tracking_uri = tracking_uri
        self._events_url = events_url
        self._events_key = events_key
        self.training_dir = training_dir
        self.training_python = Path(training_python)
        self.mlflow = MlflowRest(tracking_uri)

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        """Prepare the job's folder and start its runner; a repeated submit of a name is a no-op."""
        job_dir = self.jobs_dir / request.job_name
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        try:
            job_dir.mkdir()  # atomic: the first submit of a name wins, repeats are no-ops
        except FileExistsError:
            return request.job_name
        _write_training_set(job_dir, request)
        job_folder.write_spec(job_dir, {
            "job_name": request.job_name,
            "experiment": request.experiment or LOCAL_EXPERIMENT,
            "inputs": [_job_input(batch) for batch in request.inputs],
            "python": str(self.training_python),
            "command": self._training_command(job_dir, request),
        })
        job_folder.write_status(job_dir, {"status": job_folder.QUEUED})
        env = {
            **os.environ,
            "AzureWebJobsStorage": _runner_storage_connection(self._storage_connection),
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "LOCAL_JOB_EVENTS_URL": self._events_url,
            "LOCAL_JOB_EVENTS_KEY": self._events_key,
            "PYTHONPATH": str(REPO_ROOT),
        }
        with open(job_dir / job_folder.RUNNER_LOG_FILE, "ab") as runner_log:
            process = subprocess.Popen(
                [sys.executable, "-m", "emulators.local_ml.job_runner", str(job_dir)],
                cwd=REPO_ROOT, env=env, stdout=runner_log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        (job_dir / job_folder.RUNNER_PID_FILE).write_text(f"{process.pid} {start_time(process.pid) or ''}".strip())
        return request.job_name

    def get_job(self, job_name: str) -> JobStatus:
        """The job's status; Failed when its runner ended without reporting a result."""
        job_dir = self.jobs_dir / job_name
        status = job_folder.read_status(job_dir)
        if status is None:
            raise NotFound(f"local job {job_name!r} does not exist")
        ours = _STATUS.get(status["status"], RUNNING)
        if ours not in TERMINAL and not _runner_alive(job_dir):
            ours, status = FAILED, {"error": "the job process ended without reporting a result"}
        return JobStatus(
            name=job_name,
            status=ours,
            log_tail=tail(job_folder.log_file(job_dir), 10 if ours == COMPLETED else 40) if ours in TERMINAL else "",
            error=status.get("error", ""),
            model_version=status.get("model_version"),
            run_id=status.get("run_id"),
            metrics=status.get("metrics", {}),
        )

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        info = _version_info(self.mlflow.model_version(name, version))
        metrics = {}
        if info.run_id:
            run = self.mlflow.run(info.run_id)
            metrics = {m["key"]: m["value"] for m in run.get("data", {}).get("metrics", [])}
        return replace(info, metrics=metrics)

    def model_artifact_digest(self, name: str, version: str) -> str:
        """The version's files are its run's artifacts under its source (runs:/<run>/model, or the
        run's artifact URI + /model as mlflow.register_model records it), each streamed and hashed."""
        found = self.mlflow.model_version(name, version)
        run_id, source = found.get("run_id") or "", found.get("source", "")
        folder = _run_folder(source, run_id, self.mlflow.run(run_id)["info"].get("artifact_uri", "") if run_id else "")
        if folder is None:
            raise PlatformError(f"model {name} v{version}: its artifacts ({source[:200]}) are not a run's artifacts")
        prefix = f"{folder}/" if folder else ""
        hashes = [(path[len(prefix):], self.mlflow.run_file_sha256(run_id, path))
                  for path in self.mlflow.run_files(run_id, folder)]
        if not hashes:
            raise PlatformError(f"model {name} v{version} has no artifact files under {source[:200]}")
        return artifact_digest(hashes)

    def run_url(self, run_id: str) -> str | None:
        """The run's page in the MLflow UI the tracking server serves (its hash route
        #/experiments/<experiment>/runs/<run>, the experiment read from the run); None when the tracking
        URI is not an http(s) server."""
        base = page_base(self.tracking_uri)
        if base is None or not run_id:
            return None
        experiment = str(self.mlflow.run(run_id)["info"]["experiment_id"])
        return page_url(f"{base}/#/experiments/{quote(experiment, safe='')}/runs/{quote(run_id, safe='')}")

    def list_model_versions(self, name: str) -> Iterator[ModelVersionInfo]:
        """The registry's versions of the model (MLflow's model-versions/search), without run metrics."""
        return (_version_info(found) for found in self.mlflow.search_model_versions(name))

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

    def predict_proba(self, model_name: str, versions: list[str], rows: RowsSource) -> ScoredRows:
        from shared.adapters.mlflow_models import predict_proba

        return predict_proba(self.tracking_uri, model_name, versions, rows)

    def _training_command(self, job_dir: Path, request: TrainingJobRequest) -> list[str]:
        """training/train.py's command line for this job (unknown parameters are left out)."""
        command = [
            str(self.training_dir / "train.py"),
            "--data", str(job_folder.training_data_dir(job_dir)),
            "--model-name", request.model_name,
            "--training-set", str(job_folder.training_set_file(job_dir)),
            "--job-name", request.job_name,
            "--experiment", request.experiment or LOCAL_EXPERIMENT,
            "--output-file", str(job_folder.result_file(job_dir)),
        ]
        for key, value in request.parameters.items():
            if key in TRAINING_FLAGS:
                command += [TRAINING_FLAGS[key], str(value)]
        return command


def _version_info(model_version: dict) -> ModelVersionInfo:
    """An MLflow ModelVersion (REST JSON) → ours; tags come as a list of {key, value}. `user_id` is
    who created the version when the server records one (MLflow's own stores leave it unset)."""
    tags = {t["key"]: t["value"] for t in model_version.get("tags", [])}
    return ModelVersionInfo(model_version["name"], str(model_version["version"]), model_version.get("run_id") or None,
                            model_version.get("source", ""), tags, {},
                            created_by=str(model_version.get("user_id") or "").strip())


def _run_folder(source: str, run_id: str, run_artifact_uri: str) -> str | None:
    """The folder of the run's artifacts a version's source names ("" the root), None if none."""
    if not run_id:
        return None
    if source.startswith(f"runs:/{run_id}"):
        rest = source[len(f"runs:/{run_id}"):]
        return rest.strip("/") if rest == "" or rest.startswith("/") else None
    root = run_artifact_uri.rstrip("/")
    if root and (source == root or source.startswith(f"{root}/")):
        return source[len(root):].strip("/")
    return None


def _write_training_set(job_dir: Path, request: TrainingJobRequest) -> None:
    """The manifest train.py reads: the training set's id and its exact blob versions."""
    manifest = job_folder.training_set_file(job_dir)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({
        "id": request.training_set_id,
        "batches": [{"name": f"{b.container}/{b.name}", "etag": b.etag, "sha256": b.sha256} for b in request.inputs],
    }, indent=2))


def _job_input(batch: BatchRef) -> dict:
    """One input of the job: the immutable copy (read by name, its hash checked), under a short file name."""
    container, blob, etag = batch.stored_at
    return {"container": container, "blob": blob, "etag": "" if batch.copy_name else etag,
            "sha256": batch.sha256, "file": job_folder.input_file(batch.id)}


def _runner_storage_connection(connection: str) -> str:
    """The storage connection in a form the runner can use without the app's settings."""
    if connection.strip() == "UseDevelopmentStorage=true":
        from shared.adapters.blob_storage import AZURITE_DEVELOPMENT_STORAGE

        return AZURITE_DEVELOPMENT_STORAGE
    return connection


def _runner_alive(job_dir: Path) -> bool:
    try:
        pid, _, recorded_start = (job_dir / job_folder.RUNNER_PID_FILE).read_text().partition(" ")
        pid_start = int(recorded_start) if recorded_start.strip() else None
        return alive(int(pid), pid_start)
    except (OSError, ValueError):
        return True  # being started right now
