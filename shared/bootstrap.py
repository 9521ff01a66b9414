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
from shared.domain.gate import GatePolicy
from shared.ports import AuditLog, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints
from shared.services.approvals import ApprovalService
from shared.services.candidates import CandidatePipeline
from shared.services.delivery import DeliveryConfig, DeliveryPorts
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
    candidates: CandidatePipeline
    approvals: ApprovalService


def _local_platform(settings: Settings) -> MLPlatform:
    from shared.adapters.local_ml.platform import LocalMLPlatform

    return LocalMLPlatform(
        jobs_dir=settings.local_jobs_dir,
        storage_connection=settings.storage_connection.value,
        tracking_uri=settings.mlflow_tracking_uri,
        events_url=settings.local_job_events_url,
        events_key=settings.local_job_events_key.value,
    )


def _local_endpoints(settings: Settings) -> OnlineEndpoints:
    from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints
    from shared.adapters.local_ml.platform import REPO_ROOT

    state_dir = settings.local_endpoints_dir
    state_dir = state_dir if state_dir.startswith("/") else str(REPO_ROOT / state_dir)
    return LocalOnlineEndpoints(state_dir, settings.mlflow_tracking_uri, settings.local_endpoint_url,
                                settings.local_endpoint_key.value)


# One entry per backend: the ML platform (jobs, registry, evaluation) and its online endpoints.
ML_PLATFORMS: dict[str, Callable[[Settings], MLPlatform]] = {"local": _local_platform}
ONLINE_ENDPOINTS: dict[str, Callable[[Settings], OnlineEndpoints]] = {"local": _local_endpoints}


def _storage(settings: Settings) -> tuple[DocumentStore, FileStore, AuditLog]:
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service

    service = blob_service(settings.storage_connection.value)
    return (BlobDocumentStore(service, settings.state_container), BlobFileStore(service),
            BlobAuditLog(service, settings.state_container))


def _notifier(settings: Settings) -> Notifier:
    from shared.adapters.notifiers import LogNotifier, WebhookNotifier

    if settings.teams_webhook_url:
        from shared.adapters.teams import TeamsNotifier

        return TeamsNotifier(settings.teams_webhook_url.value)
    if settings.notify_webhook_url:
        return WebhookNotifier(settings.notify_webhook_url.value)
    return LogNotifier()


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        model_name=settings.model_name,
        endpoint_name=settings.endpoint_name,
        gate=GatePolicy(settings.gate_metric, settings.gate_min_value, settings.gate_max_drop),
        smoke_max_latency_ms=settings.smoke_max_latency_ms,
        approval_ttl_hours=settings.approval_ttl_hours,
        approval_reminder_hours=settings.approval_reminder_hours,
        mirror_percent=settings.promotion_mirror_percent,
        public_base_url=settings.public_base_url,
        signing_key=settings.approval_signing_key.value,
        data_container=settings.data_container,
    )


def build_services(
    settings: Settings,
    documents: DocumentStore | None = None,
    files: FileStore | None = None,
    platform: MLPlatform | None = None,
    notifier: Notifier | None = None,
    endpoints: OnlineEndpoints | None = None,
    audit: AuditLog | None = None,
) -> Services:
    """Wire the services; any port may be given (tests pass fakes), the rest come from settings."""
    if documents is None or files is None or audit is None:
        documents, files, audit = _storage(settings)
    platform = platform or ML_PLATFORMS[settings.ml_backend](settings)
    endpoints = endpoints or ONLINE_ENDPOINTS[settings.ml_backend](settings)
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
    delivery_ports = DeliveryPorts(documents, files, platform, endpoints, notifier, audit)
    candidates = CandidatePipeline(delivery_ports, delivery_config(settings))
    approvals = ApprovalService(delivery_ports, delivery_config(settings))
    model_events = ModelEvents(documents, training, settings.model_name,
                               settings.mlflow_webhook_secret.value, settings.webhook_max_age_seconds, candidates)
    return Services(settings, ingestion, training, model_events, candidates, approvals)


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services
