"""The ScoringHost (emulators.azure.context): each deployment's scoring server and each endpoint's
keys and traffic, as the scoring front reads them. Names are matched case-insensitively, as ARM
treats them.

A (re)started deployment's new server takes over once it answers GET /ping (a watcher thread per
start); until then the previous one, if any, keeps serving, as an Azure ML update rolls instances.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from emulators.azure.online.collector import enabled_collections
from emulators.azure.online.servers import ScoringServer, ServerSpec

log = logging.getLogger("azure_emulator.online")

READY_TIMEOUT_SECONDS = 300.0  # a server silent this long after its start fails its deployment
WATCH_INTERVAL_SECONDS = 0.25


@dataclass
class Revision:
    """One started server of a deployment and what it collects."""

    server: ScoringServer
    collections: tuple[str, ...]


@dataclass
class Deployment:
    endpoint: str
    name: str
    current: Revision | None = None  # the server that answers
    next: Revision | None = None  # a server being started to take over
    state: str = "Creating"
    message: str = ""
    scored: int = 0
    mirrored: int = 0


@dataclass(frozen=True)
class Endpoint:
    name: str
    keys: tuple[str, ...]
    traffic: dict[str, int] = field(default_factory=dict)  # deployment (lower case) → live percent
    mirror: dict[str, int] = field(default_factory=dict)


class ScoringHost:
    """`python`: the training environment's interpreter; `tracking_uri`: the backing MLflow server;
    `folder`: where servers keep their logs."""

    def __init__(self, python: Path, tracking_uri: str, folder: Path,
                 ready_timeout: float = READY_TIMEOUT_SECONDS):
        self.python = Path(python)
        self.tracking_uri = tracking_uri
        self.folder = Path(folder)
        self.ready_timeout = ready_timeout
        self._deployments: dict[tuple[str, str], Deployment] = {}
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.RLock()
        self._starts = 0
        self._closed = False

    # ------------------------------------------------------------------ the Protocol

    def start_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str,
                         data_collector: dict | None) -> None:
        """Start a new server for the deployment (it takes over once it answers); ValueError, with
        nothing started or stopped, when `data_collector` is not a collector's shape."""
        collections = tuple(enabled_collections(data_collector))
        superseded = server = None
        try:
            with self._lock:
                self._starts += 1
                record = self._deployments.setdefault(_key(endpoint, deployment), Deployment(endpoint, deployment))
                if self._closed:
                    record.state, record.message = "Failed", "the emulator is stopping"
                    return
                spec = ServerSpec(endpoint, deployment, model_name, str(model_version), self.python,
                                  self.tracking_uri, self.folder / endpoint / deployment / str(self._starts))
                superseded, record.next = record.next, None
                try:
                    server = ScoringServer.start(spec)
                except OSError as error:
                    record.state, record.message = "Failed", f"the scoring server could not be started: {error}"
                    return
                revision = Revision(server, collections)
                record.next, record.state, record.message = revision, "Creating", ""
            threading.Thread(target=self._watch, args=(record, revision), daemon=True,
                             name=f"online-watch-{endpoint}-{deployment}").start()
        except BaseException as error:
            if server is not None:  # nothing started is left running, whatever went wrong
                server.stop()
                with self._lock:
                    if record.next is not None and record.next.server is server:
                        record.next = None
                        record.state, record.message = "Failed", f"the scoring server could not be started: {error}"
            raise
        finally:
            if superseded is not None:
                superseded.server.stop()

    def deployment_state(self, endpoint: str, deployment: str) -> tuple[str, str]:
        with self._lock:
            record = self._deployments.get(_key(endpoint, deployment))
            if record is None:
                return "Failed", f"deployment {endpoint}/{deployment} has no scoring server"
            if record.state == "Succeeded" and record.next is None and record.current.server.exited:
                return "Failed", record.current.server.failure()
            return record.state, record.message

    def stop_deployment(self, endpoint: str, deployment: str) -> None:
        with self._lock:
            record = self._deployments.pop(_key(endpoint, deployment), None)
        if record is not None:
            _stop(record)

    def set_endpoint(self, endpoint: str, keys: tuple[str, str], traffic: dict[str, int],
                     mirror: dict[str, int]) -> None:
        with self._lock:
            self._endpoints[endpoint.lower()] = Endpoint(
                endpoint, tuple(k for k in keys if k),
                {d.lower(): int(p) for d, p in (traffic or {}).items() if int(p) > 0},
                {d.lower(): int(p) for d, p in (mirror or {}).items() if int(p) > 0})

    def remove_endpoint(self, endpoint: str) -> None:
        with self._lock:
            records = [self._deployments.pop(k) for k in list(self._deployments) if k[0] == endpoint.lower()]
            self._endpoints.pop(endpoint.lower(), None)
        for record in records:
            _stop(record)

    # ------------------------------------------------------------------ for the scoring front

    def endpoint(self, name: str) -> Endpoint | None:
        with self._lock:
            return self._endpoints.get(name.lower())

    def deployment_names(self, endpoint: str) -> dict[str, str]:
        """Lower-case name → name, of the deployments started on the endpoint."""
        with self._lock:
            return {k[1]: d.name for k, d in self._deployments.items() if k[0] == endpoint.lower()}

    def serving(self, endpoint: str, deployment: str) -> tuple[Deployment | None, Revision | None]:
        """The deployment's record and the revision that answers now (None while none does)."""
        with self._lock:
            record = self._deployments.get(_key(endpoint, deployment))
            return record, record.current if record else None

    def count(self, record: Deployment, mirrored: bool = False) -> None:
        with self._lock:
            if mirrored:
                record.mirrored += 1
            else:
                record.scored += 1

    # ------------------------------------------------------------------ the emulator's own

    def state(self) -> dict:
        """Endpoints (keys left out), their traffic and deployments with their servers."""
        with self._lock:
            names = {k: e.name for k, e in self._endpoints.items()}
            names.update({k[0]: d.endpoint for k, d in self._deployments.items() if k[0] not in names})
            endpoints = {}
            for key, name in sorted(names.items()):
                known = self._endpoints.get(key)
                endpoints[name] = {
                    "traffic": dict(known.traffic) if known else {}, "mirror": dict(known.mirror) if known else {},
                    "deployments": {d.name: _summary(d) for k, d in sorted(self._deployments.items()) if k[0] == key},
                }
            running = sum(1 for d in self._deployments.values() for r in (d.current, d.next)
                          if r is not None and not r.server.exited)
        return {"endpoints": endpoints, "servers_running": running}

    def close(self) -> None:
        """Stop every server (the emulator is stopping)."""
        with self._lock:
            self._closed = True
            records = list(self._deployments.values())
            self._deployments.clear()
        for record in records:
            _stop(record)

    def _watch(self, record: Deployment, revision: Revision) -> None:
        """Until `revision` answers GET /ping (it takes over), exits or stays silent (it fails)."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            server = revision.server
            if server.stopped:
                return
            ready = server.check_ready()
            failure = server.failure() if server.exited else None
            if not ready and failure is None and time.monotonic() >= deadline:
                failure = (f"the scoring server did not answer GET /ping within {self.ready_timeout:.0f}s; "
                           f"log tail:\n{server.log_tail()}")
            if ready or failure is not None:
                break
            time.sleep(WATCH_INTERVAL_SECONDS)
        with self._lock:
            if record.next is not revision:
                return  # superseded or stopped meanwhile
            record.next = None
            if failure is None:
                replaced, record.current = record.current, revision
                record.state, record.message = "Succeeded", ""
            else:
                replaced = revision
                record.state, record.message = "Failed", failure
        log.info("%s/%s: %s", record.endpoint, record.name,
                 "scoring server ready" if failure is None else f"scoring server failed: {failure}")
        if replaced is not None:
            replaced.server.stop()


def _key(endpoint: str, deployment: str) -> tuple[str, str]:
    return endpoint.lower(), deployment.lower()


def _stop(record: Deployment) -> None:
    for revision in (record.next, record.current):
        if revision is not None:
            revision.server.stop()


def _summary(record: Deployment) -> dict:
    return {"state": record.state, "message": record.message[:500], "scored": record.scored,
            "mirrored": record.mirrored,
            "collections": list(record.current.collections) if record.current else [],
            "server": record.current.server.summary() if record.current else None,
            "starting": record.next.server.summary() if record.next else None}
