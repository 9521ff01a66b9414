from __future__ import annotations

import pytest

from devstack.client import ApiClient
from devstack.local_settings import generated_values
from devstack.processes import free_port
from devstack.stack import LocalStack, Ports


def stack_values(**overrides: str) -> dict[str, str]:
    defaults = {"TRAINING_QUIET_PERIOD_SECONDS": "2", "TRAINING_ALGORITHM": "logistic_regression"}
    return generated_values(**{**defaults, **overrides})


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The whole local stack on free ports: Azurite, MLflow (webhook → app) and the local Functions host."""
    ports = Ports(blob=free_port(), queue=free_port(), mlflow=free_port(), host=free_port())
    stack = LocalStack(tmp_path_factory.mktemp("e2e-stack"), stack_values(), ports)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def api(local_stack) -> ApiClient:
    return ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_FUNCTION_KEY"])
