from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shared.services.ingestion import DataIngestion, IngestionConfig
from shared.services.model_events import ModelEvents
from shared.services.training import TrainingConfig, TrainingService
from tests.fakes import FakeClock, FakeDocumentStore, FakeFileStore, FakeMLPlatform, FakeNotifier

DATA = Path(__file__).resolve().parents[2] / "data"
SECRET = "unit-test-webhook-secret"


class World:
    def __init__(self):
        from shared.domain.data_contract import DIABETES_CONTRACT

        self.clock = FakeClock(datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc))
        self.documents = FakeDocumentStore()
        self.files = FakeFileStore()
        self.platform = FakeMLPlatform()
        self.notifier = FakeNotifier()
        self.training = TrainingService(
            self.documents, self.platform, self.notifier,
            TrainingConfig("diabetes-classifier", 10, {"algorithm": "logistic_regression"}), clock=self.clock,
        )
        self.ingestion = DataIngestion(
            self.files, self.documents, self.notifier, self.training,
            IngestionConfig("quarantine", DIABETES_CONTRACT),
        )
        self.model_events = ModelEvents(self.documents, self.training, "diabetes-classifier", SECRET, 300)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture(scope="session")
def dev_csv() -> bytes:
    return (DATA / "diabetes-dev.csv").read_bytes()
