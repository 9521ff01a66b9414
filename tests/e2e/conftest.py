from __future__ import annotations

import json
import queue
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devstack.client import ApiClient
from devstack.local_settings import generated_values
from devstack.processes import free_port
from devstack.stack import LocalStack, Ports


def stack_values(**overrides: str) -> dict[str, str]:
    # A queue message whose host died reappears after 10 s here (the real host, like devhost's
    # default, receives messages invisible for 10 minutes).
    defaults = {"TRAINING_QUIET_PERIOD_SECONDS": "2", "TRAINING_ALGORITHM": "logistic_regression",
                "GATE_MAX_DROP": "0.05", "APPROVAL_SWEEPER_SCHEDULE": "0 0 0 1 1 *",
                "DEVHOST_QUEUE_VISIBILITY_SECONDS": "10"}
    return generated_values(**{**defaults, **overrides})


class TeamsReceiver:
    """A loopback stand-in for a Teams Workflows webhook: keeps every message it is sent."""

    def __init__(self):
        self.messages: queue.Queue = queue.Queue()
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/workflows/teams"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def cards(self) -> list[dict]:
        found = []
        while not self.messages.empty():
            found.append(self.messages.get()["attachments"][0]["content"])
        return found

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def teams():
    receiver = TeamsReceiver()
    yield receiver
    receiver.close()


@contextmanager
def running_stack(root, teams: TeamsReceiver):
    """The whole local stack on free ports: Azurite, MLflow (webhook → app), the endpoint router
    and the local Functions host; Teams messages go to a loopback receiver. (tests/browser starts
    its own, for its package only.)"""
    ports = Ports(blob=free_port(), queue=free_port(), mlflow=free_port(), host=free_port(), endpoint=free_port())
    stack = LocalStack(root, stack_values(TEAMS_WEBHOOK_URL=teams.url), ports)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory, teams):
    with running_stack(tmp_path_factory.mktemp("e2e-stack"), teams) as stack:
        yield stack


@pytest.fixture(scope="session")
def api(local_stack) -> ApiClient:
    return ApiClient(local_stack.host_url, local_stack.values["LOCAL_HOST_FUNCTION_KEY"])
