"""MLPlatform on Azure ML: command jobs, data assets for lineage, the workspace model registry.

How a training job reads its data: shared/adapters/azure_ml/training_job.py.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path
from urllib.parse import quote

from shared.adapters.azure_ml.config import AzureMLConfig
from shared.adapters.azure_ml.errors import azure_step, translate
from shared.adapters.azure_ml.training_job import TrainingJobBuilder
from shared.domain.errors import Conflict, InvalidInput, NotFound, PlatformError
from shared.domain.model_contract import JOB_NAME_TAG, METRIC_TAG_PREFIX
from shared.domain.training import CANCELED, COMPLETED, FAILED, QUEUED, RUNNING, JobStatus
from shared.domain.evaluation import ScoredRows
from shared.ports import ModelVersionInfo, RowsSource, TrainingJobRequest, artifact_digest, page_url

log = logging.getLogger(__name__)

STUDIO = "https://ml.azure.com"  # Azure ML studio of the public cloud

# Azure ML job statuses → ours.
_STATUS = {
    "NotStarted": QUEUED, "Queued": QUEUED, "Preparing": QUEUED, "Starting": QUEUED,
    "Provisioning": QUEUED,
    "Running": RUNNING, "Finalizing": RUNNING, "CancelRequested": RUNNING,
    "Completed": COMPLETED,
    "Failed": FAILED, "NotResponding": FAILED,
    "Canceled": CANCELED,
}


class AzureMLPlatform:
    """MLPlatform over an azure.ai.ml MLClient (built by `client.build_ml_client`)."""

    def __init__(self, ml_client, settings: AzureMLConfig):
        self._ml = ml_client
        self.config = settings
        self.jobs = TrainingJobBuilder(ml_client, settings)
        self._tracking_uri: str | None = None

    def __repr__(self) -> str:
        c = self.config
        return f"AzureMLPlatform(workspace={c.workspace!r}, resource_group={c.resource_group!r})"

    # ---------------------------------------------------------------- jobs

    def submit_training_job(self, request: TrainingJobRequest) -> str:
        """Register the training set's data asset, then create the command job; idempotent by
        job name (an existing job, or a 409 from a concurrent submit, returns the name)."""
        if not request.inputs:
            raise InvalidInput(f"training job {request.job_name!r} has no input files")
        step = f"submit Azure ML training job {request.job_name!r}"
        if self._job_exists(request.job_name, step):
            log.info("%s: exists already", step)
            return request.job_name
        data_asset = self.jobs.register_training_set(request)
        job = self.jobs.command_job(request, data_asset)
        try:
            with azure_step(step):
                self._ml.jobs.create_or_update(job)
        except Conflict:  # 409: a concurrent submit created it first: the same job
            log.info("%s: created concurrently by another submit", step)
            return request.job_name
        log.info("%s: submitted", step)
        return request.job_name

    def _job_exists(self, name: str, step: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            with azure_step(f"{step}: look up the job"):
                try:
                    self._ml.jobs.get(name)
                    return True
                except ResourceNotFoundError:
                    return False
        except NotFound:
            return False

    def get_job(self, job_name: str) -> JobStatus:
        """Status from the job; once completed, the model version tagged job_name=<job>.

        Logs are not streamed (`jobs.stream` blocks until the job ends): the log tail names
        the job's Studio page, where user_logs/std_log.txt is."""
        step = f"get Azure ML job {job_name!r}"
        with azure_step(step):
            job = self._ml.jobs.get(job_name)
        raw_status = getattr(job, "status", None)
        azure_status = str(getattr(raw_status, "value", raw_status) or "")  # a str enum or a str
        status = _STATUS.get(azure_status, RUNNING if azure_status else QUEUED)
        studio = getattr(job, "studio_url", None) or ""
        log_tail = (f"logs are not copied from Azure ML: see user_logs/std_log.txt of job {job_name} "
                    f"in Azure ML studio {studio}").strip()
        error = ""
        if status == FAILED:
            error = f"Azure ML job {job_name} ended with status {azure_status}; see its logs in Azure ML studio {studio}".strip()
        elif status == CANCELED:
            error = f"Azure ML job {job_name} was canceled"
        model_version = run_id = None
        metrics: dict = {}
        if status == COMPLETED:
            model_name = (getattr(job, "tags", None) or {}).get("model_name")
            found = self._model_version_of_job(model_name, job_name) if model_name else None
            run_id = job_name  # an Azure ML job's MLflow run id is the job name
            if found is not None:
                model_version, metrics = found.version, found.metrics
        return JobStatus(job_name, status, log_tail=log_tail, error=error,
                         model_version=model_version, run_id=run_id, metrics=metrics,
                         tags={str(k): str(v) for k, v in (getattr(job, "tags", None) or {}).items()})

    def _model_version_of_job(self, model_name: str, job_name: str) -> ModelVersionInfo | None:
        step = f"find the {model_name} version registered by job {job_name!r}"
        try:
            with azure_step(step):
                for model in self._ml.models.list(name=model_name):
                    tags = model.tags or {}
                    if tags.get(JOB_NAME_TAG) == job_name or getattr(model, "job_name", None) == job_name:
                        return _model_info(model)
        except NotFound:
            return None
        return None

    # ------------------------------------------------------------ registry

    def get_model_version(self, name: str, version: str) -> ModelVersionInfo:
        """Tags and metrics as the version carries them: train.py tags each version with
        `metric.<name>` (the held-out metrics of its run); run_id is the job name."""
        with azure_step(f"get model {name} version {version} from Azure ML"):
            model = self._ml.models.get(name=name, version=str(version))
        return _model_info(model)

    def list_model_versions(self, name: str) -> list[ModelVersionInfo]:
        """Every version of the model in the workspace registry (Model Versions - List, each
        `nextLink` followed by the SDK's pager); none when the model is not registered."""
        try:
            with azure_step(f"list the versions of model {name} in Azure ML"):
                return [_model_info(model) for model in self._ml.models.list(name=name)]
        except NotFound:
            return []

    def run_url(self, run_id: str) -> str | None:
        """The run's page in Azure ML studio (a job's run id is its name), in the form the SDK's
        studio_url_from_job_id builds; the workspace is named by its resource id, nothing secret."""
        if not run_id:
            return None
        c = self.config
        workspace = f"/subscriptions/{c.subscription_id}/resourcegroups/{c.resource_group}/workspaces/{c.workspace}"
        return page_url(f"{STUDIO}/runs/{quote(run_id, safe='')}?wsid={quote(workspace, safe='/')}")

    def model_artifact_digest(self, name: str, version: str) -> str:
        """The model asset's files, downloaded as the gate loads the model (MLflow's models:/ URI on
        the workspace's registry) into a temporary folder and hashed from disk one file at a time."""
        self.get_model_version(name, version)  # NotFound before anything is downloaded
        uri = self._mlflow_ready_uri()
        with tempfile.TemporaryDirectory(prefix="model-digest-") as folder:
            with azure_step(f"download the files of model {name} version {version} from Azure ML"):
                import mlflow

                # azureml-mlflow's artifact repository builds its own MLflow client from the process's
                # global URIs, and a models:/ URI is resolved against the global registry URI, so both
                # name the workspace first (the evaluation functions set the tracking URI the same way).
                mlflow.set_tracking_uri(uri)
                mlflow.set_registry_uri(uri)
                root = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}",
                                                                dst_path=folder, tracking_uri=uri))
            hashes = [(path.relative_to(root).as_posix(), _file_sha256(path))
                      for path in root.rglob("*") if path.is_file()]
        if not hashes:
            raise PlatformError(f"model {name} version {version} has no files in Azure ML")
        return artifact_digest(hashes)

    # ------------------------------------------ evaluation (MLflow, workspace tracking)

    def tracking_uri(self) -> str:
        """The workspace's MLflow tracking URI (azureml://...); needs azureml-mlflow installed to use."""
        if self._tracking_uri is None:
            with azure_step(f"get MLflow tracking URI of workspace {self.config.workspace!r}"):
                uri = self._ml.workspaces.get(self.config.workspace).mlflow_tracking_uri
            if not uri:
                raise PlatformError(f"workspace {self.config.workspace!r} reports no MLflow tracking URI")
            self._tracking_uri = uri
        return self._tracking_uri

    def evaluate_models(self, model_name: str, versions: list[str], data_from_version: str) -> dict[str, dict]:
        from shared.adapters.mlflow_models import evaluate_models

        return evaluate_models(self._mlflow_ready_uri(), model_name, versions, data_from_version)

    def get_input_example(self, model_name: str, version: str) -> tuple[list[str], list[list]]:
        from shared.adapters.mlflow_models import input_example

        return input_example(self._mlflow_ready_uri(), model_name, version)

    def get_baseline_profile(self, model_name: str, version: str) -> dict:
        from shared.adapters.mlflow_models import baseline_profile

        return baseline_profile(self._mlflow_ready_uri(), model_name, version)

    def score_data(self, model_name: str, version: str, csv_chunks) -> dict:
        from shared.adapters.mlflow_models import score_data

        return score_data(self._mlflow_ready_uri(), model_name, version, csv_chunks)

    def predict_proba(self, model_name: str, versions: list[str], rows: RowsSource) -> ScoredRows:
        from shared.adapters.mlflow_models import predict_proba

        return predict_proba(self._mlflow_ready_uri(), model_name, versions, rows)

    def _mlflow_ready_uri(self) -> str:
        uri = self.tracking_uri()
        try:
            import azureml.mlflow  # noqa: F401 - registers the azureml:// tracking/registry stores
        except ImportError:
            raise PlatformError("evaluating Azure ML models needs the azureml-mlflow package "
                                "(MLflow's azureml:// tracking store); it is not installed") from None
        return uri


# ----------------------------------------------------------------------- helpers


def _file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(chunk_size):
            sha.update(chunk)
    return sha.hexdigest()


def _model_info(model) -> ModelVersionInfo:
    tags = dict(model.tags or {})
    metrics = {}
    for key, value in tags.items():
        if key.startswith(METRIC_TAG_PREFIX):
            try:
                metrics[key[len(METRIC_TAG_PREFIX):]] = float(value)
            except (TypeError, ValueError):
                pass
    run_id = getattr(model, "job_name", None) or tags.get(JOB_NAME_TAG) or None
    # creation_context is ARM's systemData (Model._from_rest_object): createdBy names the identity
    # that registered the version (a user's principal name, or an application's id).
    created_by = str(getattr(getattr(model, "creation_context", None), "created_by", None) or "").strip()
    return ModelVersionInfo(model.name, str(model.version), run_id, str(model.path or ""), tags, metrics,
                            created_by=created_by)


__all__ = ["AzureMLPlatform", "translate"]
