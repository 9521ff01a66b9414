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
from shared.domain.drift import DriftPolicy
from shared.domain.gate import GatePolicy
from shared.ports import AuditLog, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints, WindowReader
from shared.services.approvals import ApprovalService
from shared.services.candidates import CandidatePipeline
from shared.services.delivery import DeliveryConfig, DeliveryPorts
from shared.services.ingestion import DataIngestion, IngestionConfig
from shared.services.model_events import ModelEvents
from shared.services.monitoring import Monitoring, MonitoringConfig
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
    monitoring: Monitoring


def _local_backend(settings: Settings) -> tuple[MLPlatform, OnlineEndpoints]:
    from shared.adapters.local_ml.endpoints import LocalOnlineEndpoints
    from shared.adapters.local_ml.platform import REPO_ROOT, LocalMLPlatform

    def local_path(path: str) -> str:
        return path if path.startswith("/") else str(REPO_ROOT / path)

    platform = LocalMLPlatform(
        jobs_dir=settings.local_jobs_dir,
        storage_connection=settings.storage_connection.value,
        tracking_uri=settings.mlflow_tracking_uri,
        events_url=settings.local_job_events_url,
        events_key=settings.local_job_events_key.value,
    )
    endpoints = LocalOnlineEndpoints(local_path(settings.local_endpoints_dir), settings.mlflow_tracking_uri,
                                     settings.local_endpoint_url, settings.local_endpoint_key.value)
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
    ))


# One entry per backend (chosen by ML_BACKEND): the ML platform (jobs, registry, evaluation)
# and its online endpoints, built together because they share one client.
BACKENDS: dict[str, Callable[[Settings], tuple[MLPlatform, OnlineEndpoints]]] = {
    "local": _local_backend,
    "azure": _azure_backend,
}


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


def monitoring_config(settings: Settings) -> MonitoringConfig:
    policy = dataclasses.replace(DriftPolicy(), min_window_rows=settings.drift_min_window_rows,
                                 **settings.drift_thresholds)
    return MonitoringConfig(
        model_name=settings.model_name,
        policy=policy,
        triggers=settings.retrain_triggers,
        cooldown_hours=settings.retrain_cooldown_hours,
        daily_cap=settings.retrain_daily_cap,
        performance_metric=settings.gate_metric,
        performance_drop=settings.performance_drop_threshold,
        reports_container=settings.reports_container,
        public_base_url=settings.public_base_url,
        endpoint_name=settings.endpoint_name,
    )


def _window_reader() -> WindowReader:
    from shared.adapters.window_reader import ColumnChunkReader

    return ColumnChunkReader()


def build_services(
    settings: Settings,
    documents: DocumentStore | None = None,
    files: FileStore | None = None,
    platform: MLPlatform | None = None,
    notifier: Notifier | None = None,
    endpoints: OnlineEndpoints | None = None,
    audit: AuditLog | None = None,
    reader: WindowReader | None = None,
) -> Services:
    """Wire the services; any port may be given (tests pass fakes), the rest come from settings."""
    if documents is None or files is None or audit is None:
        documents, files, audit = _storage(settings)
    if platform is None or endpoints is None:
        built_platform, built_endpoints = BACKENDS[settings.ml_backend](settings)
        platform, endpoints = platform or built_platform, endpoints or built_endpoints
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
    monitoring = Monitoring(documents, files, platform, reader or _window_reader(), training, notifier,
                            monitoring_config(settings), endpoints=endpoints)
    ingestion = DataIngestion(files, documents, notifier, training,
                              IngestionConfig(settings.quarantine_container, contract,
                                              train_on_new_data="new_data" in settings.retrain_triggers),
                              performance=monitoring)
    delivery_ports = DeliveryPorts(documents, files, platform, endpoints, notifier, audit)
    delivery = delivery_config(settings)
    candidates = CandidatePipeline(delivery_ports, delivery)
    approvals = ApprovalService(delivery_ports, delivery)
    model_events = ModelEvents(documents, training, settings.model_name,
                               settings.mlflow_webhook_secret.value, settings.webhook_max_age_seconds, candidates)
    return Services(settings, ingestion, training, model_events, candidates, approvals, monitoring)


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services
