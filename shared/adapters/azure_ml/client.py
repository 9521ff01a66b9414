"""Builds the MLClient (azure.ai.ml and azure.identity are imported here, on first use only)."""
from __future__ import annotations

from typing import Any

from shared.adapters.azure_ml.config import AzureMLConfig


def ml_client_options(config: AzureMLConfig) -> dict[str, Any]:
    """Keyword arguments every Azure ML service client gets: an explicit azure-core retry policy
    (429 with Retry-After honoured, 408/500/502/503/504 on idempotent methods, exponential
    back-off), no console progress bars, no SDK telemetry."""
    return {
        "retry_total": config.retry_total,
        "retry_backoff_factor": config.retry_backoff_factor,
        "retry_backoff_max": config.retry_backoff_max,
        "show_progress": False,
        "enable_telemetry": False,
    }


def build_ml_client(config: AzureMLConfig, credential=None, transport=None):
    """`MLClient(DefaultAzureCredential(), subscription, resource group, workspace)`;
    `credential` and `transport` (an azure-core HttpTransport) replace the defaults (tests)."""
    from azure.ai.ml import MLClient

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    options = ml_client_options(config)
    if transport is not None:
        options["transport"] = transport
    return MLClient(credential, config.subscription_id, config.resource_group, config.workspace, **options)


def build_azure_ml(config: AzureMLConfig, credential=None, transport=None):
    """(AzureMLPlatform, AzureOnlineEndpoints) sharing one MLClient."""
    from shared.adapters.azure_ml.endpoints import AzureOnlineEndpoints
    from shared.adapters.azure_ml.platform import AzureMLPlatform

    ml_client = build_ml_client(config, credential=credential, transport=transport)
    return (AzureMLPlatform(ml_client, config),
            AzureOnlineEndpoints(ml_client, config, scoring_transport=transport))
