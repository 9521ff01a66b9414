"""Listeners that run on one host per app, like the real host's singleton listener locks.

Timers and the blob scan are singleton listeners in the Functions host: the host that holds
a blob lease on ``azure-webjobs-hosts/locks/<hostId>/<lock id>`` runs the listener, the
others try again every ``listenerLockRecoveryPollingInterval``. Lock ids are the real ones:
``Host.Functions.<name>.Listener`` for a timer, ``WebJobs.Internal.Blobs.Listener`` for the
blob scan. The lease lasts ``listenerLockPeriod`` (15-60 s) and is renewed at half of it; a
host that cannot renew before the lease ends stops its listener; ``stop()`` releases the lease.

The proposed lease id is derived from the instance id (``WEBSITE_INSTANCE_ID``, else the
machine, app folder and port), so a host restarted after a crash takes its own lock back
at once instead of waiting for the lease to run out.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

from .settings import nested, timespan_seconds

log = logging.getLogger("devhost")

LOCKS_CONTAINER = "azure-webjobs-hosts"
BLOB_SCAN_LOCK = "WebJobs.Internal.Blobs.Listener"


def timer_lock_id(function_name: str) -> str:
    return f"Host.Functions.{function_name}.Listener"


def instance_lease_id(app_dir: str, port: int, environ: Mapping[str, str] | None = None) -> str:
    """The lease id this host instance proposes for all its locks (a GUID, as leases need)."""
    environ = os.environ if environ is None else environ
    instance = environ.get("WEBSITE_INSTANCE_ID") or f"{socket.gethostname()}|{app_dir}|{port}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"devhost-instance:{instance}"))


@dataclass(frozen=True)
class SingletonOptions:
    """host.json ``singleton``: the listener lease period and how often others retry."""

    listener_lock_period: float = 60.0
    recovery_interval: float = 60.0

    @classmethod
    def from_host_json(cls, host_json: Mapping[str, Any]) -> "SingletonOptions":
        section = nested(host_json, "singleton", default={}) or {}
        period = timespan_seconds(nested(section, "listenerLockPeriod", default="00:01:00"),
                                  "singleton.listenerLockPeriod")
        if not 15 <= period <= 60:
            raise ValueError(f"host.json singleton.listenerLockPeriod must be 15-60 seconds (a blob lease), got {period:g}")
        recovery = timespan_seconds(nested(section, "listenerLockRecoveryPollingInterval", default="00:01:00"),
                                    "singleton.listenerLockRecoveryPollingInterval")
        if recovery <= 0:
            raise ValueError("host.json singleton.listenerLockRecoveryPollingInterval must be positive")
        return cls(period, recovery)


class Listener(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class ListenerLock:
    """One lock blob and this host's lease on it."""

    def __init__(self, connection_string: str, host_id: str, lock_id: str, lease_id: str, period: float):
        from .blob_storage import service_client

        self.name = f"locks/{host_id}/{lock_id}"
        self._container = service_client(connection_string).get_container_client(LOCKS_CONTAINER)
        self._blob = self._container.get_blob_client(self.name)
        self._lease_id = lease_id
        self._period = int(period)
        self._lease = None

    def acquire(self) -> bool:
        """Take the lease (or take back our own); False while another host holds it."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            try:
                self._lease = self._blob.acquire_lease(lease_duration=self._period, lease_id=self._lease_id)
            except ResourceNotFoundError:
                self._create()
                self._lease = self._blob.acquire_lease(lease_duration=self._period, lease_id=self._lease_id)
        except HttpResponseError as error:
            if error.status_code == 409:  # leased by another host
                return False
            raise
        return True

    def renew(self) -> None:
        """Extend the lease; raises when it was lost or storage cannot be reached."""
        self._lease.renew()

    def forget(self) -> None:
        """The lease is gone (another host may hold the lock now)."""
        self._lease = None

    def release(self) -> None:
        if self._lease is None:
            return
        try:
            self._lease.release()
        except Exception as error:  # noqa: BLE001 - the lease then simply runs out
            log.warning("Releasing singleton lock '%s' failed: %s", self.name, error)
        self._lease = None

    def _create(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        try:
            self._blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass


class SingletonListener:
    """Runs a fresh listener from ``make_listener()`` only while this host holds ``lock``."""

    def __init__(self, lock: ListenerLock, make_listener: Callable[[], Listener], options: SingletonOptions,
                 clock: Callable[[], float] | None = None):
        import time

        self.lock = lock
        self._make_listener = make_listener
        self._options = options
        self._clock = clock or time.monotonic
        self.listener: Listener | None = None
        self.acquisitions = 0
        self._renewed_at = 0.0
        self._next_renewal = options.listener_lock_period / 2
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"singleton-{lock.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self._stop_listener()
        self.lock.release()

    def _loop(self) -> None:
        waiting_logged = False
        while not self._stop.is_set():
            if self.listener is None:
                if self._try_acquire():
                    waiting_logged = False
                    continue
                if not waiting_logged:
                    log.info("Singleton lock '%s' is held by another host; retrying every %gs",
                             self.lock.name, self._options.recovery_interval)
                    waiting_logged = True
                self._stop.wait(self._options.recovery_interval)
            elif not self._stop.wait(self._next_renewal):
                self._keep()

    def _try_acquire(self) -> bool:
        try:
            acquired = self.lock.acquire()
        except Exception as error:  # noqa: BLE001 - storage down: retry at the recovery interval
            log.warning("Acquiring singleton lock '%s' failed: %s", self.lock.name, error)
            return False
        if acquired:
            self._renewed_at = self._clock()
            self._next_renewal = self._options.listener_lock_period / 2
            self.acquisitions += 1
            log.info("Singleton lock '%s' acquired; starting its listener", self.lock.name)
            self.listener = self._make_listener()
            self.listener.start()
        return acquired

    def _keep(self) -> None:
        """Renew the lease; stop the listener once it is lost or about to run out unrenewed."""
        from azure.core.exceptions import HttpResponseError

        try:
            self.lock.renew()
        except Exception as error:  # noqa: BLE001 - lost, or storage down: retry until the lease ends
            taken = isinstance(error, HttpResponseError) and error.status_code in (409, 412)
            if not taken and self._clock() - self._renewed_at < self._options.listener_lock_period - 2:
                if self._next_renewal != 1.0:  # once per outage, then every second quietly
                    log.warning("Renewing singleton lock '%s' failed (will retry): %s", self.lock.name, error)
                self._next_renewal = 1.0
                return
            log.error("Singleton lock '%s' lost (%s); stopping its listener", self.lock.name, error)
            self._stop_listener()
            self.lock.forget()
            return
        self._renewed_at = self._clock()
        self._next_renewal = self._options.listener_lock_period / 2

    def _stop_listener(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
