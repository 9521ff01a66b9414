"""The composition root: settings → adapters → services, built once per process on first use.

Backends are chosen by key (like MLflow's store registries); their modules, and the SDKs
they need, are imported only when a function first needs a service, not at app start-up.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable

from shared.domain.data_contract import DIABETES_CONTRACT
from shared.ports import DocumentStore, FileStore, MLPlatform, Notifier
from shared.services.ingestion import DataIngestion, IngestionConfig
from shared.services.model_events import ModelEvents
from shared.services.training import TrainingConfig, TrainingService
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    ingestion: DataIngestion
    training: TrainingService
    model_events: ModelEvents


def _local_platform(settings: Settings) -> MLPlatform:
    from shared.adapters.local_ml.platform import LocalMLPlatform

    return LocalMLPlatform(
        jobs_dir=settings.local_jobs_dir,
        storage_connection=settings.storage_connection.value,
        tracking_uri=settings.mlflow_tracking_uri,
        events_url=settings.local_job_events_url,
        events_key=settings.local_job_events_key.value,
    )


ML_PLATFORMS: dict[str, Callable[[Settings], MLPlatform]] = {"local": _local_platform}


def _storage(settings: Settings) -> tuple[DocumentStore, FileStore]:
    from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service

    service = blob_service(settings.storage_connection.value)
    return BlobDocumentStore(service, settings.state_container), BlobFileStore(service)


def _notifier(settings: Settings) -> Notifier:
    from shared.adapters.notifiers import LogNotifier, WebhookNotifier

    if settings.notify_webhook_url:
        return WebhookNotifier(settings.notify_webhook_url.value)
    return LogNotifier()


def build_services(
    settings: Settings,
    documents: DocumentStore | None = None,
    files: FileStore | None = None,
    platform: MLPlatform | None = None,
    notifier: Notifier | None = None,
) -> Services:
    """Wire the services; any port may be given (tests pass fakes), the rest come from settings."""
    if documents is None or files is None:
        documents, files = _storage(settings)
    platform = platform or ML_PLATFORMS[settings.ml_backend](settings)
    notifier = notifier or _notifier(settings)
    training = TrainingService(
        documents, platform, notifier,
        TrainingConfig(settings.model_name, settings.training_quiet_period_seconds,
                       {"algorithm": settings.training_algorithm}),
    )
    contract = dataclasses.replace(
        DIABETES_CONTRACT,
        min_rows=settings.min_data_rows,
        max_null_share=settings.max_null_share,
        max_bytes=settings.max_data_file_bytes,
    )
    ingestion = DataIngestion(files, documents, notifier, training,
                              IngestionConfig(settings.quarantine_container, contract))
    model_events = ModelEvents(documents, training, settings.model_name,
                               settings.mlflow_webhook_secret.value, settings.webhook_max_age_seconds)
    return Services(settings, ingestion, training, model_events)


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services
