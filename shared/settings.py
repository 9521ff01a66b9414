"""Typed, frozen settings read once from the environment (app settings in Azure,
local.settings.json "Values" locally). A bad value fails fast, naming the variable."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping, TypeVar

from shared.domain.errors import InvalidInput
from shared.domain.naming import validate_endpoint_name

T = TypeVar("T")

ML_BACKENDS = ("local", "azure")
ALGORITHMS = ("gradient_boosting", "logistic_regression", "random_forest")
GATE_METRICS = ("auc", "accuracy", "f1", "precision", "recall")
RETRAIN_TRIGGERS = ("new_data", "drift", "performance", "schedule")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Secret:
    """A value that must never reach a log: its repr and str are masked."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')" if self.value else "Secret('')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)


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


@dataclass(frozen=True)
class Settings:
    ml_backend: str
    storage_connection: Secret
    data_container: str
    quarantine_container: str
    state_container: str
    model_name: str
    training_algorithm: str
    training_quiet_period_seconds: float
    max_data_file_bytes: int
    min_data_rows: int
    max_null_share: float
    mlflow_tracking_uri: str
    mlflow_webhook_secret: Secret
    webhook_max_age_seconds: int
    local_jobs_dir: str
    local_job_events_url: str
    local_job_events_key: Secret
    notify_webhook_url: Secret
    teams_webhook_url: Secret
    public_base_url: str
    endpoint_name: str
    gate_metric: str
    gate_min_value: float
    gate_max_drop: float
    smoke_max_latency_ms: float
    approval_ttl_hours: float
    approval_reminder_hours: float
    approval_signing_key: Secret
    promotion_mirror_percent: int
    local_endpoints_dir: str
    local_endpoint_url: str
    local_endpoint_key: Secret
    retrain_triggers: frozenset
    retrain_cooldown_hours: float
    retrain_daily_cap: int
    performance_drop_threshold: float
    reports_container: str
    drift_min_window_rows: int
    drift_thresholds: dict  # overrides of the drift policy's defaults: psi_threshold, ks_threshold, js_threshold, drifted_share
    azure: AzureSettings | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        read = _Reader(env)
        settings = cls(
            ml_backend=read.choice("ML_BACKEND", ML_BACKENDS, "local"),
            storage_connection=Secret(read.storage_connection()),
            data_container=read.container("DATA_CONTAINER", "data"),
            quarantine_container=read.container("QUARANTINE_CONTAINER", "quarantine"),
            state_container=read.container("STATE_CONTAINER", "retrain-state"),
            model_name=read.text("MODEL_NAME", "diabetes-classifier"),
            training_algorithm=read.choice("TRAINING_ALGORITHM", ALGORITHMS, "gradient_boosting"),
            training_quiet_period_seconds=read.number("TRAINING_QUIET_PERIOD_SECONDS", 10.0, float, 0, 86400),
            max_data_file_bytes=read.number("MAX_DATA_FILE_BYTES", 2 * 1024**3, int, 1, 100 * 1024**3),
            min_data_rows=read.number("MIN_DATA_ROWS", 100, int, 1, 10**9),
            max_null_share=read.number("MAX_NULL_SHARE", 0.05, float, 0, 1),
            mlflow_tracking_uri=read.url("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000"),
            mlflow_webhook_secret=Secret(read.text("MLFLOW_WEBHOOK_SECRET", "")),
            webhook_max_age_seconds=read.number("WEBHOOK_MAX_AGE_SECONDS", 300, int, 1, 86400),
            local_jobs_dir=read.text("LOCAL_JOBS_DIR", ".local/jobs"),
            local_job_events_url=read.url(
                "LOCAL_JOB_EVENTS_URL",
                "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=on_job_status_changed",
            ),
            local_job_events_key=Secret(read.text("LOCAL_JOB_EVENTS_KEY", "")),
            notify_webhook_url=Secret(read.optional_url("NOTIFY_WEBHOOK_URL")),
            teams_webhook_url=Secret(read.optional_url("TEAMS_WEBHOOK_URL")),
            public_base_url=read.url("PUBLIC_BASE_URL", "http://127.0.0.1:7071").rstrip("/"),
            endpoint_name=read.endpoint_name("ENDPOINT_NAME", "diabetes-endpoint"),
            gate_metric=read.choice("GATE_METRIC", GATE_METRICS, "auc"),
            gate_min_value=read.number("GATE_MIN_VALUE", 0.75, float, 0, 1),
            gate_max_drop=read.number("GATE_MAX_DROP", 0.02, float, 0, 1),
            smoke_max_latency_ms=read.number("SMOKE_MAX_LATENCY_MS", 2000.0, float, 1, 600_000),
            approval_ttl_hours=read.number("APPROVAL_TTL_HOURS", 72.0, float, 0.001, 24 * 90),
            approval_reminder_hours=read.number("APPROVAL_REMINDER_HOURS", 12.0, float, 0, 24 * 90),
            approval_signing_key=Secret(read.text("APPROVAL_SIGNING_KEY", "")),
            promotion_mirror_percent=read.number("PROMOTION_MIRROR_PERCENT", 0, int, 0, 50),
            local_endpoints_dir=read.text("LOCAL_ENDPOINTS_DIR", ".local/endpoints"),
            local_endpoint_url=read.url("LOCAL_ENDPOINT_URL", "http://127.0.0.1:5001").rstrip("/"),
            local_endpoint_key=Secret(read.text("LOCAL_ENDPOINT_KEY", "")),
            retrain_triggers=read.choices("RETRAIN_TRIGGERS", RETRAIN_TRIGGERS, "new_data,drift,performance"),
            retrain_cooldown_hours=read.number("RETRAIN_COOLDOWN_HOURS", 6.0, float, 0, 24 * 30),
            retrain_daily_cap=read.number("RETRAIN_DAILY_CAP", 3, int, 0, 1000),
            performance_drop_threshold=read.number("PERFORMANCE_DROP_THRESHOLD", 0.05, float, 0, 1),
            reports_container=read.container("REPORTS_CONTAINER", "reports"),
            drift_min_window_rows=read.number("DRIFT_MIN_WINDOW_ROWS", 1000, int, 1, 10**9),
            drift_thresholds=read.given_fractions({
                "psi_threshold": "DRIFT_PSI_THRESHOLD", "ks_threshold": "DRIFT_KS_THRESHOLD",
                "js_threshold": "DRIFT_JS_THRESHOLD", "drifted_share": "DRIFT_SHARE",
            }),
            azure=_azure_settings(read) if read.text("ML_BACKEND", "local") == "azure" else None,
        )
        if settings.ml_backend == "local" and not settings.mlflow_webhook_secret:
            raise SettingsError(
                "MLFLOW_WEBHOOK_SECRET: required with ML_BACKEND=local "
                "(the HMAC secret shared with the MLflow registry webhook)"
            )
        if len(settings.approval_signing_key.value) < 16:
            raise SettingsError(
                "APPROVAL_SIGNING_KEY: required, at least 16 characters "
                "(the HMAC key of the signed approve/reject links)"
            )
        if settings.ml_backend == "local" and not settings.local_endpoint_key:
            raise SettingsError("LOCAL_ENDPOINT_KEY: required with ML_BACKEND=local (the local endpoint's key)")
        return settings


def _azure_settings(read: "_Reader") -> AzureSettings:
    return AzureSettings(
        subscription_id=read.required("AZURE_SUBSCRIPTION_ID", "the subscription of the Azure ML workspace"),
        resource_group=read.required("AZURE_RESOURCE_GROUP", "the resource group of the Azure ML workspace"),
        workspace=read.required("AZUREML_WORKSPACE", "the Azure ML workspace name"),
        compute=read.text("AZUREML_COMPUTE", "cpu-cluster"),
        environment=read.text("AZUREML_ENVIRONMENT", "azureml:diabetes-train-env@latest"),
        experiment=read.text("AZUREML_EXPERIMENT", "diabetes-training"),
        datastore=read.text("AZUREML_DATASTORE", "retraindata"),
        instance_type=read.text("AZUREML_INSTANCE_TYPE", "Standard_DS3_v2"),
        instance_count=read.number("AZUREML_INSTANCE_COUNT", 1, int, 1, 100),
        lro_timeout_seconds=read.number("AZUREML_LRO_TIMEOUT_SECONDS", 1800.0, float, 10, 7200),
    )


class _Reader:
    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def _raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is not None and value.strip().startswith("@Microsoft.KeyVault("):
            # App Service leaves the reference text in place when it cannot resolve it.
            raise SettingsError(f"{name}: the Key Vault reference was not resolved (check the app's "
                                "identity has 'Key Vault Secrets User' and the secret exists)")
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def required(self, name: str, meaning: str) -> str:
        value = self._raw(name)
        if value is None:
            raise SettingsError(f"{name}: required with ML_BACKEND=azure ({meaning})")
        return value

    def storage_connection(self) -> str:
        """AzureWebJobsStorage, or the account URL behind an identity-based connection (Flex Consumption)."""
        account = self._raw("AzureWebJobsStorage__accountName")
        if self._raw("AzureWebJobsStorage") is None and account:
            return f"https://{account}.blob.core.windows.net"
        return self.text("AzureWebJobsStorage", "UseDevelopmentStorage=true")

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise SettingsError(f"{name}: must be one of {', '.join(allowed)}; got {value!r}")
        return value

    def number(self, name: str, default: T, kind: Callable[[str], T], low: float, high: float) -> T:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            raise SettingsError(f"{name}: expected {kind.__name__}; got {raw!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name}: must be between {low} and {high}; got {raw}")
        return value

    def container(self, name: str, default: str) -> str:
        value = self.text(name, default)
        valid = 3 <= len(value) <= 63 and value[0].isalnum() and "--" not in value
        if not valid or not all(c.islower() or c.isdigit() or c == "-" for c in value):
            raise SettingsError(
                f"{name}: {value!r} is not a valid container name "
                "(3-63 lowercase letters, digits and single dashes)"
            )
        return value

    def given_fractions(self, names: dict[str, str]) -> dict[str, float]:
        """{field: value} for those of the variables that are set, each a number from 0 to 1."""
        values = {field: self.number(name, None, float, 0, 1) for field, name in names.items()}
        return {field: value for field, value in values.items() if value is not None}

    def choices(self, name: str, allowed: tuple[str, ...], default: str) -> frozenset:
        """A comma-separated subset of `allowed` (empty: none)."""
        raw = self.env.get(name)
        value = default if raw is None else raw
        picked = frozenset(part.strip() for part in value.split(",") if part.strip())
        unknown = sorted(picked - set(allowed))
        if unknown:
            raise SettingsError(f"{name}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
        return picked

    def endpoint_name(self, name: str, default: str) -> str:
        """An Azure ML endpoint name (shared.domain.naming's rules)."""
        value = self.text(name, default)
        try:
            return validate_endpoint_name(value)
        except InvalidInput as error:
            raise SettingsError(f"{name}: {error.message}") from None

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{name}: expected an http(s) URL; got {value[:40]!r}")
        return value

    def optional_url(self, name: str) -> str:
        return self.url(name, "") if self._raw(name) else ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
