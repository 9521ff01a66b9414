"""The composition root: settings → adapters → services, built once per process on first use.

Backends are chosen by key (like MLflow's store registries); their modules, and the SDKs
they need, are imported only when a function first needs a service, not at app start-up.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable

from shared.domain.contract import DIABETES_CONTRACT
from shared.domain.drift import DriftPolicy
from shared.services.monitoring.windows import WindowRule
from shared.domain.evaluation import parse_slices
from shared.domain.gate import GatePolicy
from shared.domain.clock import utc_now
from shared.ports import (
    AuditLog, CapturedInputs, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints, StepQueue, WindowReader,
)
from shared.services.audit import AuditTrail
from shared.services.ingestion import DataIngestion, IngestionConfig
from shared.services.model_events import ModelEvents
from shared.services.monitoring import (
    DriftConfig, DriftMonitoring, PerformanceConfig, PerformanceTracking, RetrainingConfig, RetrainingPolicy,
)
from shared.services.promotion import (
    ApprovalService, CandidatePipeline, CandidateTrack, DecisionTrack, DeliveryConfig, ProductionHealth,
    PromotionContext, RollbackService, RollbackTrack, StepRunner, Sweeper,
)
from shared.services.repositories import Repositories
from shared.services.training import TrainingConfig, TrainingService
from shared.services.urls import PublicUrls
from shared.settings import Settings, SettingsError, get_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    repos: Repositories
    urls: PublicUrls
    ingestion: DataIngestion
    training: TrainingService
    model_events: ModelEvents
    candidates: CandidatePipeline
    approvals: ApprovalService
    rollback: RollbackService
    sweeper: Sweeper
    steps: StepRunner
    drift: DriftMonitoring
    performance: PerformanceTracking
    retraining: RetrainingPolicy
    audit: AuditTrail


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


def _storage(settings: Settings) -> tuple[DocumentStore, FileStore, AuditLog]:
    from shared.adapters.blob_audit import BlobAuditLog
    from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service

    service = blob_service(settings.storage.connection.value)
    return (BlobDocumentStore(service, settings.storage.state_container), BlobFileStore(service),
            BlobAuditLog(service, settings.storage.audit_container))


def _notifier(settings: Settings) -> Notifier:
    from shared.adapters.notifiers import LogNotifier, WebhookNotifier

    if settings.delivery.teams_webhook_url:
        from shared.adapters.teams import TeamsNotifier

        return TeamsNotifier(settings.delivery.teams_webhook_url.value)
    if settings.delivery.notify_webhook_url:
        return WebhookNotifier(settings.delivery.notify_webhook_url.value)
    return LogNotifier()


def gate_policy(settings: Settings) -> GatePolicy:
    delivery = settings.delivery
    try:
        slices = parse_slices(delivery.gate_subgroups)
    except ValueError as error:
        raise SettingsError(f"GATE_SUBGROUPS: {error}") from None
    return GatePolicy(delivery.gate_metric, delivery.gate_min_value, delivery.gate_max_drop,
                      resamples=delivery.gate_bootstrap_resamples, confidence=delivery.gate_confidence,
                      slices=slices, subgroup_min_rows=delivery.gate_subgroup_min_rows,
                      recent_rows=delivery.gate_recent_rows)


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        model_name=settings.model_name,
        endpoint_name=settings.delivery.endpoint_name,
        gate=gate_policy(settings),
        smoke_max_latency_ms=settings.delivery.smoke_max_latency_ms,
        approval_ttl_hours=settings.delivery.approval_ttl_hours,
        approval_reminder_hours=settings.delivery.approval_reminder_hours,
        mirror_percent=settings.delivery.promotion_mirror_percent,
        signing_key=settings.delivery.approval_signing_key.value,
        poll_seconds=settings.delivery.step_poll_seconds,
        deployment_timeout_seconds=settings.delivery.deployment_timeout_seconds,
        bake_minutes=settings.delivery.promotion_bake_minutes,
        auto_rollback=settings.delivery.production_auto_rollback == "true",
        auth_mode=settings.delivery.auth_mode, approvers_text=settings.delivery.approvers,
    )


def drift_config(settings: Settings) -> DriftConfig:
    monitoring = settings.monitoring
    policy = dataclasses.replace(DriftPolicy(), min_window_rows=monitoring.drift_min_window_rows,
                                 false_alarm_rate=monitoring.drift_false_alarm_rate, **monitoring.drift_thresholds)
    windows = WindowRule(monitoring.drift_recent_rows, monitoring.drift_recent_hours)
    return DriftConfig(settings.model_name, policy, monitoring.reports_container, settings.delivery.endpoint_name,
                       windows, monitoring.drift_confirmation_rule)


def _step_queue(settings: Settings) -> StepQueue:
    from shared.adapters.storage_queue import StorageStepQueue, queue_client

    return StorageStepQueue(queue_client(settings.storage.connection.value, settings.delivery.step_queue_name))


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
    queue: StepQueue | None = None,
    clock: Callable = utc_now,
    captures: CapturedInputs | None = None,
) -> Services:
    """Wire the services; any port (and the clock) may be given — tests pass fakes — the rest come from settings."""
    if documents is None or files is None or audit is None:
        built_documents, built_files, built_audit = _storage(settings)
        documents, files, audit = documents or built_documents, files or built_files, audit or built_audit
    audit = AuditTrail.on(audit, documents)  # every writer records the log's head too
    if platform is None or endpoints is None:
        built_platform, built_endpoints = BACKENDS[settings.ml_backend](settings)
        platform, endpoints = platform or built_platform, endpoints or built_endpoints
    notifier = notifier or _notifier(settings)
    captures = captures if captures is not None else CAPTURES[settings.ml_backend](settings)
    repos = Repositories.on(documents, settings.model_name, clock)
    urls = PublicUrls(settings.public_base_url)
    training = TrainingService(
        repos, platform, notifier,
        TrainingConfig(settings.model_name, settings.training.quiet_period_seconds,
                       {"algorithm": settings.training.algorithm}), clock,
    )
    retraining = RetrainingPolicy(repos, training, RetrainingConfig(
        settings.monitoring.retrain_triggers, settings.monitoring.retrain_cooldown_hours,
        settings.monitoring.retrain_daily_cap), clock)
    performance = PerformanceTracking(repos, files, platform, retraining, PerformanceConfig(
        settings.model_name, settings.delivery.gate_metric, settings.monitoring.performance_drop_threshold,
        settings.delivery.endpoint_name, settings.monitoring.cbpe_max_ece, settings.monitoring.cbpe_min_rows),
        clock, captures)
    drift = DriftMonitoring(repos, files, platform, reader or _window_reader(), captures, notifier, retraining,
                            performance, drift_config(settings), urls, clock)
    contract = dataclasses.replace(
        DIABETES_CONTRACT,
        min_rows=settings.training.min_data_rows,
        max_null_share=settings.training.max_null_share,
        max_bytes=settings.training.max_data_file_bytes,
    )
    ingestion = DataIngestion(files, repos, notifier, training, performance,
                              IngestionConfig(settings.storage.quarantine_container, contract,
                                              train_on_new_data="new_data" in settings.monitoring.retrain_triggers), clock,
                              audit)
    ctx = PromotionContext(delivery_config(settings), repos, files, platform, endpoints, notifier, audit, urls, clock,
                           captures)
    runner = StepRunner(queue or _step_queue(settings),
                        [CandidateTrack(ctx), DecisionTrack(ctx), RollbackTrack(ctx)], clock,
                        settings.delivery.step_max_dequeue_count)
    candidates = CandidatePipeline(ctx, runner)
    approvals = ApprovalService(ctx, runner)
    rollback = RollbackService(ctx, runner)
    model_events = ModelEvents(repos, training, candidates, settings.model_name,
                               settings.local.mlflow_webhook_secret.value, settings.local.webhook_max_age_seconds, clock,
                               platform)
    sweeper = Sweeper(ctx, approvals, runner, ProductionHealth(ctx, rollback))
    return Services(settings, repos, urls, ingestion, training, model_events, candidates, approvals, rollback,
                    sweeper, runner, drift, performance, retraining, audit)


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services
