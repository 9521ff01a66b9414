"""Helpers for the devhost tests: the sample app, hosts that are always stopped, polling waits."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from devhost.host import FunctionsHost

SAMPLE_APP = Path(__file__).resolve().parent / "sample_app"
FUNCTION_KEY = "test-function-key"
MASTER_KEY = "test-master-key"


def sample_env(record_file: Path, storage: str, container: str, schedule: str = "0 0 0 1 1 *",
               queue: str | None = None) -> dict[str, str]:
    return {
        "SAMPLE_QUEUE": queue or f"q{uuid.uuid4().hex[:12]}",
        "LOCAL_HOST_FUNCTION_KEY": FUNCTION_KEY,
        "LOCAL_HOST_MASTER_KEY": MASTER_KEY,
        "SAMPLE_RECORD_FILE": str(record_file),
        "SAMPLE_TIMER_SCHEDULE": schedule,
        "SAMPLE_CONTAINER": container,
        "AzureWebJobsStorage": storage,
    }


def read_records(record_file: Path, kind: str | None = None) -> list[dict]:
    if not record_file.exists():
        return []
    lines = [json.loads(line) for line in record_file.read_text().splitlines() if line.strip()]
    return [r for r in lines if kind is None or r["kind"] == kind]


def wait_for(check: Callable[[], object], timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def unique_container() -> str:
    return f"c{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_host():
    """Start sample-app hosts on free ports; all of them are stopped after the test."""
    hosts: list[FunctionsHost] = []

    def start(env: dict[str, str], **kwargs) -> FunctionsHost:
        host = FunctionsHost(SAMPLE_APP, 0, env, **kwargs)
        hosts.append(host)
        return host.start()

    yield start
    for host in reversed(hosts):
        host.stop()
