"""Services for unit tests, built by the production composition root on in-memory fakes."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.bootstrap import Services, build_services
from shared.settings import Settings
from tests.fakes import (
    FakeAuditLog, FakeCapturedInputs, FakeClock, FakeDeliveryPlatform, FakeDocumentStore, FakeFileStore, FakeNotifier,
    FakeOnlineEndpoints, FakeStepQueue,
)

MODEL = "diabetes-classifier"
ENDPOINT = "diabetes-endpoint"
WEBHOOK_SECRET = "unit-test-webhook-secret"
SIGNING_KEY = "signing-key-for-tests-0123456789"
START = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)

UNIT_ENV = {
    "ML_BACKEND": "local",
    "MODEL_NAME": MODEL,
    "ENDPOINT_NAME": ENDPOINT,
    "MLFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "APPROVAL_SIGNING_KEY": SIGNING_KEY,
    "LOCAL_ENDPOINT_KEY": "unit-test-endpoint-key",
    "PUBLIC_BASE_URL": "https://retrain.example",
    "TRAINING_QUIET_PERIOD_SECONDS": "10",
    "TRAINING_ALGORITHM": "logistic_regression",
}


def unit_settings(**overrides: str) -> Settings:
    return Settings.from_env({**UNIT_ENV, **overrides})


class FakeWorld:
    """Every port faked, the services wired as in production; tests reach the fakes and the services."""

    def __init__(self, platform=None, reader=None, inline_steps: bool = True, **env: str):
        self.clock = FakeClock(START)
        self.documents, self.files = FakeDocumentStore(), FakeFileStore()
        self.platform = platform or FakeDeliveryPlatform()
        self.notifier, self.endpoints, self.audit = FakeNotifier(), FakeOnlineEndpoints(), FakeAuditLog(self.clock)
        self.queue = FakeStepQueue(inline=inline_steps)
        self.captures = FakeCapturedInputs()
        self.services: Services = build_services(
            unit_settings(**env), documents=self.documents, files=self.files, platform=self.platform,
            notifier=self.notifier, endpoints=self.endpoints, audit=self.audit, reader=reader, queue=self.queue,
            clock=self.clock, captures=self.captures,
        )
        self.queue.runner = self.services.steps
        self.repos = self.services.repos

    def __getattr__(self, name: str):
        return getattr(self.services, name)
