"""The composition root: settings → adapters → services, built once per process on first use.

Backends are chosen by key (like MLflow's store registries); their modules, and the SDKs
they need, are imported only when a function first needs a service, not at app start-up.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable

from shared.bootstrap.adapters import (  # noqa: F401 - BACKENDS and model_inputs are part of the root's interface
    BACKENDS, CAPTURES, notifier_adapter, step_queue_adapter, storage_adapters, window_reader_adapter, model_inputs,
)
from shared.bootstrap.policies import delivery_config, drift_config, gate_policy  # noqa: F401
from shared.domain.clock import utc_now
from shared.domain.contract import DIABETES_CONTRACT
from shared.ports import (
    AuditLog, CapturedInputs, DocumentStore, FileStore, MLPlatform, Notifier, OnlineEndpoints, StepQueue, WindowReader,
)
from shared.services.audit import AuditTrail
from shared.services.dashboard import Dashboard, DashboardConfig
from shared.services.dossier import Dossier
from shared.services.evidence import EvidenceService
from shared.services.ingestion import DataIngestion, IngestionConfig
from shared.services.model_events import ModelEvents
from shared.services.monitoring import (
    DriftMonitoring, PerformanceConfig, PerformanceTracking, RetrainingConfig, RetrainingPolicy,
)
from shared.services.promotion import (
    ApprovalService, CandidatePipeline, CandidateTrack, DecisionTrack, ProductionHealth,
    PromotionContext, RollbackService, RollbackTrack, StepRunner, Sweeper,
)
from shared.services.repositories import Repositories
from shared.services.training import TrainingConfig, TrainingService
from shared.services.urls import PublicUrls
from shared.settings import Settings, get_settings


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
    evidence: EvidenceService
    dashboard: Dashboard
    dossier: Dossier


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
        built_documents, built_files, built_audit = storage_adapters(settings)
        documents, files, audit = documents or built_documents, files or built_files, audit or built_audit
    audit = AuditTrail.on(audit, documents)  # every writer records the log's head too
    if platform is None or endpoints is None:
        built_platform, built_endpoints = BACKENDS[settings.ml_backend](settings)
        platform, endpoints = platform or built_platform, endpoints or built_endpoints
    notifier = notifier or notifier_adapter(settings)
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
    drift = DriftMonitoring(repos, files, platform, reader or window_reader_adapter(), captures, notifier, retraining,
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
    evidence = EvidenceService(repos, platform, urls, drift.config, clock)
    ctx = PromotionContext(delivery_config(settings), repos, files, platform, endpoints, notifier, audit, urls, clock,
                           captures, evidence)
    runner = StepRunner(queue or step_queue_adapter(settings),
                        [CandidateTrack(ctx), DecisionTrack(ctx), RollbackTrack(ctx)], clock,
                        settings.delivery.step_max_dequeue_count, repos.poisoned)
    candidates = CandidatePipeline(ctx, runner)
    approvals = ApprovalService(ctx, runner)
    rollback = RollbackService(ctx, runner)
    model_events = ModelEvents(repos, training, candidates, settings.model_name,
                               settings.local.mlflow_webhook_secret.value, settings.local.webhook_max_age_seconds, clock,
                               platform)
    sweeper = Sweeper(ctx, approvals, runner, ProductionHealth(ctx, rollback))
    dashboard = Dashboard(repos, DashboardConfig(settings.model_name), clock)
    dossier = Dossier(repos, audit, settings.model_name, clock, evidence)
    return Services(settings, repos, urls, ingestion, training, model_events, candidates, approvals, rollback,
                    sweeper, runner, drift, performance, retraining, audit, dashboard=dashboard, dossier=dossier,
                    evidence=evidence)


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services
