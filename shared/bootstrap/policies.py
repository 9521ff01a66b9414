"""The composition root's policies: the services' configuration objects read from settings."""
from __future__ import annotations

import dataclasses

from shared.domain.drift import DriftPolicy
from shared.domain.evaluation import parse_slices
from shared.domain.gate import GatePolicy
from shared.services.monitoring import DriftConfig
from shared.services.monitoring.windows import WindowRule
from shared.services.promotion import DeliveryConfig
from shared.settings import Settings, SettingsError


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
