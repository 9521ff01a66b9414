"""Contract-test fixtures: the real azure-ai-ml MLClient on a fake ARM transport."""
from __future__ import annotations

import pytest

from shared.adapters.azure_ml import AzureMLConfig, build_azure_ml
from tests.contract.fake_arm import RG, SUB, WS, FakeArm, FakeCredential


@pytest.fixture
def arm() -> FakeArm:
    fake = FakeArm()
    yield fake
    for operation in fake.operations.values():  # let never-ending pollers finish
        operation.outcome, operation.polls_left = "Succeeded", 0


@pytest.fixture
def config() -> AzureMLConfig:
    return AzureMLConfig(subscription_id=SUB, resource_group=RG, workspace=WS, lro_timeout_seconds=10,
                         data_datastore="retrain_data", retry_total=3, retry_backoff_factor=0.5)


@pytest.fixture
def adapters(arm, config):
    return build_azure_ml(config, credential=FakeCredential(), transport=arm)


@pytest.fixture
def platform(adapters):
    return adapters[0]


@pytest.fixture
def endpoints(adapters):
    return adapters[1]
