"""The typed, frozen settings of the service, in sections; read once from the environment (app
settings in Azure, local.settings.json "Values" locally). A bad value fails fast, naming the
variable. What each field means, its variable and its default: shared/settings/declaration.py."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from shared.settings.reader import read_sections
from shared.settings.secret import Secret


@dataclass(frozen=True)
class StorageSettings:
    """The storage account and the containers of data files and state."""

    connection: Secret
    data_container: str
    quarantine_container: str
    state_container: str
    audit_container: str
    audit_retention_days: int


@dataclass(frozen=True)
class TrainingSettings:
    """How training jobs are asked for, and which data files are accepted for them."""

    algorithm: str
    quiet_period_seconds: float
    max_data_file_bytes: int
    min_data_rows: int
    max_null_share: float


@dataclass(frozen=True)
class DeliverySettings:
    """From a registered model to production: the endpoint, the gate, the smoke test, approvals
    (their links and notifications) and the promotion."""

    endpoint_name: str
    gate_metric: str
    gate_min_value: float
    gate_max_drop: float
    gate_bootstrap_resamples: int
    gate_confidence: float
    gate_subgroups: str
    gate_subgroup_min_rows: int
    gate_recent_rows: int
    smoke_max_latency_ms: float
    approval_ttl_hours: float
    approval_reminder_hours: float
    approval_signing_key: Secret
    auth_mode: str
    approvers: str
    promotion_mirror_percent: int
    step_queue_name: str
    step_poll_seconds: float
    step_max_dequeue_count: int
    deployment_timeout_seconds: float
    promotion_bake_minutes: float
    production_auto_rollback: str
    notify_webhook_url: Secret
    teams_webhook_url: Secret


@dataclass(frozen=True)
class MonitoringSettings:
    """What asks for retraining and how often, the drift checks and their reports."""

    retrain_triggers: frozenset[str]
    retrain_cooldown_hours: float
    retrain_daily_cap: int
    performance_drop_threshold: float
    cbpe_max_ece: float
    cbpe_min_rows: int
    drift_min_window_rows: int
    drift_false_alarm_rate: float
    drift_recent_rows: int
    drift_recent_hours: float | None
    drift_confirmations: str
    drift_psi_threshold: float | None
    drift_ks_threshold: float | None
    drift_js_threshold: float | None
    drift_share: float | None
    reports_container: str

    @property
    def drift_thresholds(self) -> dict[str, float]:
        """The fields of the drift policy these settings override: only those that are set."""
        given = {"psi_threshold": self.drift_psi_threshold, "ks_threshold": self.drift_ks_threshold,
                 "js_threshold": self.drift_js_threshold, "drifted_share": self.drift_share}
        return {name: value for name, value in given.items() if value is not None}

    @property
    def drift_confirmation_rule(self) -> tuple[int, int]:
        """DRIFT_CONFIRMATIONS as (M, N)."""
        needed, of = self.drift_confirmations.split("/")
        return int(needed), int(of)


@dataclass(frozen=True)
class LocalSettings:
    """The local backend: the MLflow server and its webhook, local jobs and the local endpoint."""

    mlflow_tracking_uri: str
    mlflow_webhook_secret: Secret
    webhook_max_age_seconds: int
    jobs_dir: str
    job_events_url: str
    job_events_key: Secret
    endpoints_dir: str
    endpoint_url: str
    endpoint_key: Secret
    deployment_min_seconds: float
    training_python: str


@dataclass(frozen=True)
class AzureSettings:
    """Where the Azure ML backend works (ML_BACKEND=azure)."""

    subscription_id: str
    resource_group: str
    workspace: str
    compute: str
    environment: str
    experiment: str
    datastore: str
    instance_type: str
    instance_count: int
    lro_timeout_seconds: float
    data_collector_account_url: str
    data_collector_container: str
    data_collector_collection: str


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads; `azure` is None unless ML_BACKEND=azure."""

    ml_backend: str
    model_name: str
    public_base_url: str
    storage: StorageSettings
    training: TrainingSettings
    delivery: DeliverySettings
    monitoring: MonitoringSettings
    local: LocalSettings
    azure: AzureSettings | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting; SettingsError names the first bad or missing one."""
        sections = read_sections(os.environ if env is None else env)
        azure = sections["azure"]
        return cls(
            **sections[""],
            storage=StorageSettings(**sections["storage"]),
            training=TrainingSettings(**sections["training"]),
            delivery=DeliverySettings(**sections["delivery"]),
            monitoring=MonitoringSettings(**sections["monitoring"]),
            local=LocalSettings(**sections["local"]),
            azure=None if azure is None else AzureSettings(**azure),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
