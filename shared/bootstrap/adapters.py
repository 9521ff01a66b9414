"""The composition root's adapter choices: each port's adapter built from settings (SDKs imported on first use)."""
from __future__ import annotations

from typing import Callable

from shared.domain.contract import DIABETES_CONTRACT
from shared.ports import (
    AuditLog, CapturedInputs, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints, StepQueue, WindowReader,
)
from shared.settings import Settings


def _local_path(path: str) -> str:
    from shared.adapters.local_ml.processes import REPO_ROOT

    return path if path.startswith("/") else str(REPO_ROOT / path)


def _local_backend(settings: Settings) -> tuple[MLPlatform, OnlineEndpoints]:
    from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints
    from shared.adapters.local_ml.platform import LocalMLPlatform
    from shared.adapters.local_ml.processes import training_python

    python = training_python(settings.local.training_python)
    platform = LocalMLPlatform(
        jobs_dir=settings.local.jobs_dir,
        storage_connection=settings.storage.connection.value,
        tracking_uri=settings.local.mlflow_tracking_uri,
        events_url=settings.local.job_events_url,
        events_key=settings.local.job_events_key.value,
        training_python=python,
    )
    endpoints = LocalOnlineEndpoints(_local_path(settings.local.endpoints_dir), settings.local.mlflow_tracking_uri,
                                     settings.local.endpoint_url, settings.local.endpoint_key.value,
                                     settings.local.deployment_min_seconds, python=python)
    return platform, endpoints


def _azure_backend(settings: Settings) -> tuple[MLPlatform, OnlineEndpoints]:
    from shared.adapters.azure_ml import AzureMLConfig, build_azure_ml

    azure = settings.azure
    return build_azure_ml(AzureMLConfig(
        subscription_id=azure.subscription_id,
        resource_group=azure.resource_group,
        workspace=azure.workspace,
        compute=azure.compute,
        environment=azure.environment,
        experiment=azure.experiment,
        instance_type=azure.instance_type,
        instance_count=azure.instance_count,
        data_datastore=azure.datastore,
        lro_timeout_seconds=azure.lro_timeout_seconds,
        data_collection=azure.data_collector_collection,
    ))


# One entry per backend (chosen by ML_BACKEND): the ML platform (jobs, registry, evaluation)
# and its online endpoints, built together because they share one client.
BACKENDS: dict[str, Callable[[Settings], tuple[MLPlatform, OnlineEndpoints]]] = {
    "local": _local_backend,
    "azure": _azure_backend,
}


def model_inputs(contract) -> list[str]:
    """The columns a model is given: the contract's features, in its order."""
    return [name for name in contract.names if name not in contract.not_features]


def _local_captures(settings: Settings) -> CapturedInputs:
    from shared.adapters.local_ml.captures import LocalCapturedInputs

    return LocalCapturedInputs(_local_path(settings.local.endpoints_dir), model_inputs(DIABETES_CONTRACT))


def _azure_captures(settings: Settings) -> CapturedInputs | None:
    """The data collector's files in the workspace blob store, read with the app's identity;
    None (no live traffic in the windows) while DATA_COLLECTOR_ACCOUNT_URL is unset."""
    azure = settings.azure
    if not azure.data_collector_account_url:
        return None
    from shared.adapters.azure_ml.data_collector import DataCollectorInputs
    from shared.adapters.blob_storage import blob_service

    return DataCollectorInputs(blob_service(azure.data_collector_account_url), azure.data_collector_container,
                               azure.data_collector_collection, model_inputs(DIABETES_CONTRACT))


# Where each backend's deployments keep the inputs of the live traffic they served.
CAPTURES: dict[str, Callable[[Settings], CapturedInputs | None]] = {
    "local": _local_captures,
    "azure": _azure_captures,
}


def storage_adapters(settings: Settings) -> tuple[DocumentStore, FileStore, AuditLog]:
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service

    service = blob_service(settings.storage.connection.value)
    return (BlobDocumentStore(service, settings.storage.state_container), BlobFileStore(service),
            BlobAuditLog(service, settings.storage.audit_container))


def notifier_adapter(settings: Settings) -> Notifier:
    from shared.adapters.notifiers import LogNotifier, WebhookNotifier

    if settings.delivery.teams_webhook_url:
        from shared.adapters.teams import TeamsNotifier

        return TeamsNotifier(settings.delivery.teams_webhook_url.value)
    if settings.delivery.notify_webhook_url:
        return WebhookNotifier(settings.delivery.notify_webhook_url.value)
    return LogNotifier()


def step_queue_adapter(settings: Settings) -> StepQueue:
    from shared.adapters.storage_queue import StorageStepQueue, queue_client

    return StorageStepQueue(queue_client(settings.storage.connection.value, settings.delivery.step_queue_name))


def window_reader_adapter() -> WindowReader:
    from shared.adapters.window_reader import ColumnChunkReader

    return ColumnChunkReader()
