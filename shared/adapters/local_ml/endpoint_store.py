"""The local endpoints' state files (format: `emulator_formats.endpoint_state`), under file locks.

Besides endpoint.json, each endpoint folder holds the adapter's locks:

    <endpoint>/.lock              flock'ed around every read-modify-write of endpoint.json
    <endpoint>/locks/<dep>.lock   held for a whole create/update/delete of one deployment

endpoint.json is replaced atomically (temporary file + rename), so the router and
`get_endpoint` read it without locking; writers (threads or processes) serialize on an
exclusive `fcntl.flock` and each write increments `revision`.
"""
from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from emulator_formats import endpoint_state
from shared.domain.errors import Conflict, NotFound, PlatformError

log = logging.getLogger(__name__)


class EndpointStore:
    """endpoint.json files under one folder: atomic replacement, flock'ed read-modify-write."""

    def __init__(self, root: Path):
        self.root = root

    def folder(self, endpoint: str) -> Path:
        return self.root / endpoint

    def path(self, endpoint: str) -> Path:
        return endpoint_state.state_file(self.root, endpoint)

    def exists(self, endpoint: str) -> bool:
        return self.path(endpoint).exists()

    def endpoints(self) -> list[str]:
        """The names of the endpoints that have a state file, sorted."""
        return sorted(path.parent.name for path in self.root.glob(f"*/{endpoint_state.STATE_FILE}"))

    def create(self, endpoint: str) -> None:
        """Write the state of a new, empty endpoint unless it exists."""
        self.folder(endpoint).mkdir(parents=True, exist_ok=True)
        with self._locked(endpoint):
            if not self.exists(endpoint):
                self._write(endpoint, endpoint_state.new_endpoint(endpoint))
                log.info("created endpoint %r", endpoint)

    def read(self, endpoint: str) -> dict:
        """The endpoint's state as last written (no lock); NotFound, or PlatformError when unreadable."""
        try:
            return json.loads(self.path(endpoint).read_text())
        except FileNotFoundError:
            raise NotFound(f"endpoint {endpoint!r} does not exist") from None
        except (OSError, ValueError) as error:
            raise PlatformError(f"read endpoint {endpoint!r}: its state file is unreadable: {error}") from error

    @contextlib.contextmanager
    def transaction(self, endpoint: str, always_write: bool = False) -> Iterator[dict]:
        """The endpoint's state under the exclusive lock; written back (revision + 1) if changed
        (or always, for an update that counts even when it changes nothing)."""
        if not self.exists(endpoint):
            raise NotFound(f"endpoint {endpoint!r} does not exist")
        with self._locked(endpoint):
            state = self.read(endpoint)
            before = copy.deepcopy(state)
            yield state
            if always_write or state != before:
                state["revision"] = before.get("revision", 0) + 1
                self._write(endpoint, state)

    @contextlib.contextmanager
    def deployment_lock(self, endpoint: str, deployment: str, wait_seconds: float) -> Iterator[None]:
        """Exclusive right to create, update or delete one deployment; Conflict when another
        operation holds it for longer than `wait_seconds`."""
        if not self.exists(endpoint):
            raise NotFound(f"endpoint {endpoint!r} does not exist")
        locks = self.folder(endpoint) / "locks"
        locks.mkdir(exist_ok=True)
        with open(locks / f"{deployment}.lock", "a") as handle:
            deadline = time.monotonic() + wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise Conflict(f"deployment {endpoint}/{deployment}: another create, update or "
                                       "delete of it is in progress") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _locked(self, endpoint: str) -> Iterator[None]:
        with open(self.folder(endpoint) / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, endpoint: str, state: dict) -> None:
        target = self.path(endpoint)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temporary, "w") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
