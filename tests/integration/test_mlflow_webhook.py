"""Real MLflow registry webhooks: their signature format is the one the service verifies."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from devstack.processes import WEBHOOK_CACHE_TTL_SECONDS
from shared.domain.errors import Unauthorized
from shared.domain.event_parsing import parse_mlflow_webhook
from shared.domain.signatures import verify_mlflow_signature
from tests.http_receiver import post_receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    with post_receiver() as receiving:
        yield receiving


def test_model_version_created_delivery_verifies_and_parses(mlflow_server, receiver):
    from mlflow import MlflowClient

    url, received = receiver
    client = MlflowClient(mlflow_server)
    secret = uuid.uuid4().hex
    webhook = client.create_webhook(f"test-{uuid.uuid4().hex[:6]}", url, events=["model_version.created"], secret=secret)
    name = f"model-{uuid.uuid4().hex[:6]}"
    # Another test's model event may have just cached the server's webhook list without this one.
    time.sleep(WEBHOOK_CACHE_TTL_SECONDS + 0.5)
    try:
        experiment = client.create_experiment(name)
        run = client.create_run(experiment)
        client.create_registered_model(name)
        client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id, tags={"job_name": "train-x"})

        headers, body = received.get(timeout=30)
    finally:
        client.delete_webhook(webhook.webhook_id)

    delivery_id = verify_mlflow_signature(secret, headers, body, time.time(), 300)
    event = parse_mlflow_webhook(json.loads(body), delivery_id)
    assert (event.model_name, event.version, event.run_id) == (name, "1", run.info.run_id)
    assert event.tags.get("job_name") == "train-x"
    with pytest.raises(Unauthorized):
        verify_mlflow_signature("another-secret", headers, body, time.time(), 300)
