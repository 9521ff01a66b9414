"""Session fixtures: a real Azurite and a real MLflow server, started once and stopped after."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.domain import records  # noqa: E402

records.STRICT = True  # a stored document with an unknown field fails the test instead of being dropped

from devstack.processes import (  # noqa: E402
    azurite_connection_string,
    free_port,
    start_azurite,
    start_mlflow,
)


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def azurite(stack_dir) -> str:
    """Connection string of a real Azurite (blob + queue) on free ports."""
    blob_port, queue_port = free_port(), free_port()
    process = start_azurite(stack_dir / "azurite", stack_dir / "logs", blob_port, queue_port).wait_ready()
    yield azurite_connection_string(blob_port, queue_port)
    process.stop()


@pytest.fixture(scope="session")
def mlflow_server(stack_dir) -> str:
    """Tracking URI of a real MLflow tracking server + registry on SQLite, webhooks enabled."""
    port = free_port()
    process = start_mlflow(stack_dir / "mlflow", stack_dir / "logs", port).wait_ready(120)
    yield f"http://127.0.0.1:{port}"
    process.stop()
