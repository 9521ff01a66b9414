"""What every part of the emulator is given: its settings, the resource store, and the other parts'
interfaces (each part registers its routes with `register(router, context)`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol


class EventPublisher(Protocol):
    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Queue one event (Event Grid schema: id, topic, subject, eventType, eventTime, data,
        dataVersion, metadataVersion) from `topic` (a system topic's source resource id: the
        storage account or the workspace) for delivery to every matching subscription."""


class ScoringHost(Protocol):
    def start_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str,
                         data_collector: dict | None) -> None:
        """Start (or replace) the scoring server of a deployment; returns at once. `data_collector`
        is the deployment's properties.dataCollector (None: nothing collected)."""

    def deployment_state(self, endpoint: str, deployment: str) -> tuple[str, str]:
        """("Creating" | "Succeeded" | "Failed", a message when Failed)."""

    def stop_deployment(self, endpoint: str, deployment: str) -> None:
        """Stop and forget the deployment's scoring server (nothing when unknown)."""

    def set_endpoint(self, endpoint: str, keys: tuple[str, str], traffic: dict[str, int],
                     mirror: dict[str, int]) -> None:
        """The endpoint's keys and its live and mirror traffic, as the scoring front applies them."""

    def remove_endpoint(self, endpoint: str) -> None:
        """Forget the endpoint (its deployments are stopped first)."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the emulator listens, what it emulates and how fast time runs."""

    root: Path  # state, logs, job folders, TLS files: .local/azure-emulator (or a test's folder)
    repo_root: Path
    https_port: int  # ARM, Azure ML's MLflow API, scoring URIs, the control API (/_emulator/...)
    identity_port: int  # the managed-identity endpoint (plain HTTP on loopback, as App Service's is)
    identity_header: str  # the secret X-IDENTITY-HEADER the app must send (IDENTITY_HEADER)
    storage_connection: str  # Azurite (the storage account and the workspace's blob store)
    storage_account: str  # devstoreaccount1
    blob_suffix: str  # the cloud's storage suffix: "localhost:<blob port>" → https://<account>.blob.<suffix>
    mlflow_backing_url: str  # the real MLflow server behind Azure ML's MLflow API
    training_python: Path  # the training environment's python (jobs, scoring servers)
    host_url: str  # the Functions host that Event Grid delivers to
    blobs_extension_key: str  # the host's blobs_extension system key
    eventgrid_extension_key: str  # the host's eventgrid_extension system key
    subscription_id: str = "00000000-0000-0000-0000-000000000000"
    resource_group: str = "rg-retrain"
    workspace: str = "mlw-retrain"
    location: str = "eastus"
    tenant_id: str = "11111111-1111-1111-1111-111111111111"
    data_container: str = "data"
    dead_letter_container: str = "eventgrid-deadletter"
    workspace_container: str = "azureml-blobstore-00000000"
    time_scale: float = 0.01  # Event Grid's retry schedule and LRO durations are multiplied by this
    lro_seconds: float = 2.0  # how long an endpoint or deployment operation stays in progress
    token_lifetime_seconds: int = 3600  # managed-identity tokens
    delivery_timeout_seconds: float = 30.0  # Event Grid's response timeout (not scaled)
    # events.bicep's parameters as a deployment would set them (e.g. {"maxDeliveryAttempts": 3}); none: its defaults
    event_parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "ca.pem"

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def workspace_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace}")

    @property
    def storage_account_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.Storage/storageAccounts/{self.storage_account}")


@dataclass
class Context:
    config: EmulatorConfig
    store: Any  # emulators.azure.store.ResourceStore
    events: EventPublisher
    scoring: ScoringHost
    faults: Any  # emulators.azure.faults.Faults: take(kind, **match) -> dict | None
    tokens: Any  # emulators.azure.identity.TokenIssuer: issue(...)/validate(authorization) -> Principal | None
    blob_service: Callable[[], Any]  # an azure.storage.blob.BlobServiceClient on Azurite
    extras: dict[str, Any] = field(default_factory=dict)
