"""Settings of the Azure ML adapter (standard library only: importing this costs nothing)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class AzureMLConfig:
    """Where and how the adapter works in Azure ML.

    `environment`: a registered environment (`azureml:<name>@latest`, `azureml:<name>:<version>`,
    `<name>@latest`) or a conda file (a path ending in .yml/.yaml, relative to
    `training_code_dir`, e.g. `environment/conda.yml`) built on `environment_image`.
    `data_datastore`: the Azure ML datastore registered over the data container; a batch blob
    `<name>` is read as `azureml://datastores/<data_datastore>/paths/<name>`.
    `data_collection`: the data collector's collection every deployment is created with (its
    model inputs).
    """

    subscription_id: str
    resource_group: str
    workspace: str
    compute: str = "cpu-cluster"
    environment: str = "azureml:diabetes-train-env@latest"
    training_code_dir: Path = REPO_ROOT / "training"
    experiment: str = "diabetes-training"
    instance_type: str = "Standard_DS3_v2"
    instance_count: int = 1
    data_datastore: str = "retraindata"
    lro_timeout_seconds: float = 1800
    data_collection: str = "model_inputs"
    environment_image: str = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    # azure-core retry policy of every Azure ML (ARM) request: 429 (honouring Retry-After),
    # 408/5xx on idempotent methods, connection errors.
    retry_total: int = 4
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 60
