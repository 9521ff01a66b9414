from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import WEBHOOK_SECRET, FakeWorld
from tests.fakes import FakeDeliveryPlatform

DATA = Path(__file__).resolve().parents[2] / "data"
SECRET = WEBHOOK_SECRET


class World(FakeWorld):
    def __init__(self, **env: str):
        super().__init__(platform=FakeDeliveryPlatform(), **env)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture(scope="session")
def dev_csv() -> bytes:
    return (DATA / "diabetes-dev.csv").read_bytes()
