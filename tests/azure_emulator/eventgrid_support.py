"""Event Grid tests' support: a scripted loopback receiver standing in for the Functions host's
webhooks (it records every POST: path, query, headers, events, and answers by a script; by
default the validation handshake as the host answers it and 202 for notifications), and the
Context the tests give the part."""
from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

from azure.storage.blob import BlobServiceClient

from emulators.azure.context import Context, EmulatorConfig
from emulators.azure.faults import Faults
from emulators.azure.store import ResourceStore


@dataclass
class Received:
    path: str
    query: dict
    headers: dict  # lower-case names
    events: list


@dataclass
class Receiver:
    url: str
    received: "queue.Queue[Received]" = field(default_factory=queue.Queue)
    # (Received) -> (status, body, delay seconds) or None for the default answer
    script: list[Callable[[Received], tuple | None]] = field(default_factory=list)

    def next(self, timeout: float = 10.0) -> Received:
        return self.received.get(timeout=timeout)

    def answer(self, request: Received) -> tuple[int, object, float]:
        for step in list(self.script):
            reply = step(request)
            if reply is not None:
                return reply
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            return 200, {"validationResponse": request.events[0]["data"]["validationCode"]}, 0.0
        return 202, None, 0.0


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    """A Receiver on a free loopback port; stopped on exit."""
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            split = urlsplit(self.path)
            request = Received(split.path, {k: v[0] for k, v in parse_qs(split.query).items()},
                               {k.lower(): v for k, v in self.headers.items()}, json.loads(body))
            box[0].received.put(request)
            status, answer, delay = box[0].answer(request)
            time.sleep(delay)
            payload = json.dumps(answer).encode() if answer is not None else b""
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the sender stopped waiting

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(f"http://127.0.0.1:{server.server_port}"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()


ROOT = Path(__file__).resolve().parents[2]
BLOBS_KEY, EVENTGRID_KEY = "blobs-key-" + uuid.uuid4().hex, "eventgrid-key-" + uuid.uuid4().hex


def make_context(root: Path, host_url: str, storage_connection: str = "", time_scale: float = 0.001,
                 dead_letter_container: str = "eventgrid-deadletter", data_container: str = "data") -> Context:
    """A Context for the Event Grid part alone: real fault registry, Azurite's blob client."""
    config = EmulatorConfig(
        root=root, repo_root=ROOT, https_port=0, identity_port=0, identity_header="-",
        storage_connection=storage_connection, storage_account="devstoreaccount1", blob_suffix="localhost:10000",
        mlflow_backing_url="", training_python=Path("python"), host_url=host_url,
        blobs_extension_key=BLOBS_KEY, eventgrid_extension_key=EVENTGRID_KEY, time_scale=time_scale,
        dead_letter_container=dead_letter_container, data_container=data_container)
    service = (lambda: BlobServiceClient.from_connection_string(storage_connection)) if storage_connection else None
    return Context(config=config, store=ResourceStore(), events=None, scoring=None, faults=Faults(), tokens=None,
                   blob_service=service)


def wait_for(check: Callable[[], object], timeout: float = 15.0):
    """Poll `check` until it returns something truthy; that value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true after {timeout} s: {check}")
