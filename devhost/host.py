"""``FunctionsHost``: loads a v2-model function app and wires its triggers."""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

from . import easy_auth, ncrontab
from .dispatcher import Dispatcher
from .functions import BLOB, HTTP, QUEUE, TIMER, index_functions, load_app
from .http_server import MAX_BODY_BYTES, make_server
from .manual_runs import ManualRuns
from .registry import FunctionRegistry, http_methods
from .queue_options import QueueOptions
from .settings import apply_settings, load_host_json, load_local_settings, nested, resolve
from .singleton import BLOB_SCAN_LOCK, SingletonOptions, instance_lease_id, timer_lock_id

log = logging.getLogger("devhost")


class FunctionsHost:
    """A local Functions host serving ``function_app.app`` from ``app_dir`` on 127.0.0.1.

    ``env`` is merged into ``os.environ`` on ``start()`` (functions read their settings
    from there) and taken out again on ``stop()``; local.settings.json ``Values`` fill in
    what is still unset. ``port=0`` picks a free port (see ``.port`` / ``.url`` after start).
    """

    def __init__(
        self,
        app_dir: Path,
        port: int = 7071,
        env: Mapping[str, str] | None = None,
        *,
        settings_path: Path | None = None,
        blob_poll_interval: float | None = None,
        blob_workers: int | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        queue_message_visibility: int | None = None,
    ):
        self.app_dir = Path(app_dir).resolve()
        self.port = port
        self.env = dict(env or {})
        self.settings_path = Path(settings_path) if settings_path else self.app_dir / "local.settings.json"
        self._blob_poll_interval = blob_poll_interval
        self._blob_workers = blob_workers
        self.max_body_bytes = max_body_bytes
        self._queue_message_visibility = queue_message_visibility
        self.registry = FunctionRegistry([])  # the app's functions, once started
        self.host_id = ""
        self._saved_env: dict[str, str | None] = {}
        self._server = None
        self._server_thread: threading.Thread | None = None
        self.timers: list = []
        self._poller = None
        self.queue_listeners: list = []
        self._lease_id = ""
        self._manual_runs: ManualRuns | None = None
        self._started = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> "FunctionsHost":
        """Load the app and start serving in background threads; returns self."""
        if self._started:
            return self
        try:
            self._apply_env()
            easy_auth.check(os.environ)  # a bad test principal fails the start, not each request
            host_json = load_host_json(self.app_dir)
            route_prefix = str(nested(host_json, "extensions", "http", "routePrefix", default="api")).strip("/")
            self.host_id = _host_id(host_json, self.app_dir)
            functions = index_functions(load_app(self.app_dir), os.environ)
            self.registry = FunctionRegistry(functions, route_prefix, str(self.app_dir))
            self._manual_runs = ManualRuns(self.registry.run)
            dispatcher = Dispatcher(self.registry, self.host_id, self._manual_runs.start, self._blob_event)
            self._server = make_server(dispatcher.handle, self.port, max_body=self.max_body_bytes)
            self.port = self._server.server_address[1]
            self._server_thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="devhost-http", daemon=True
            )
            self._server_thread.start()
            self._started = True
            self._log_functions()
            self._lease_id = instance_lease_id(str(self.app_dir), self.port)
            singleton = SingletonOptions.from_host_json(host_json)
            self._start_timers(singleton)
            self._start_blob_poller(host_json, singleton)
            self._start_queue_listeners(host_json)
        except BaseException:
            self.stop()
            raise
        log.info("Host started on %s (hostId %s)", self.url, self.host_id)
        return self

    def stop(self) -> None:
        """Stop accepting requests, stop triggers, wait for running invocations, restore the environment."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for timer in self.timers:
            timer.stop()
        self.timers = []
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        for listener in self.queue_listeners:
            listener.stop()
        self.queue_listeners = []
        if self._manual_runs is not None:
            self._manual_runs.join(10)
            self._manual_runs = None
        self._restore_env()
        if self._started:
            log.info("Host stopped")
        self._started = False

    def __enter__(self) -> "FunctionsHost":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- wiring ------------------------------------------------------------------------
    def _apply_env(self) -> None:
        for key, value in self.env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = str(value)
        for key in apply_settings(load_local_settings(self.settings_path), os.environ):
            self._saved_env.setdefault(key, None)

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _once_per_app(self, lock_id: str, make_listener: Callable[[], Any], options: SingletonOptions) -> Any:
        """The listener behind a singleton lock on AzureWebJobsStorage (none set: this host runs it alone)."""
        connection = os.environ.get("AzureWebJobsStorage")
        if not connection:
            return make_listener()
        from .singleton import ListenerLock, SingletonListener

        lock = ListenerLock(connection, self.host_id, lock_id, self._lease_id, options.listener_lock_period)
        return SingletonListener(lock, make_listener, options)

    def _start_timers(self, singleton: SingletonOptions) -> None:
        from .timers import TimerRunner

        for fn in self.registry.enabled(TIMER):
            try:
                schedule = ncrontab.parse(resolve(fn.trigger.schedule))
            except (KeyError, ValueError) as error:
                log.error("Timer 'Functions.%s' disabled: %s", fn.name, error)
                continue
            timer = self._once_per_app(
                timer_lock_id(fn.name), lambda fn=fn, schedule=schedule: TimerRunner(fn, schedule, self.registry.run),
                singleton)
            self.timers.append(timer)
            timer.start()

    def _start_blob_poller(self, host_json: Mapping[str, Any], singleton: SingletonOptions) -> None:
        blob_functions = self.registry.enabled(BLOB)
        if not blob_functions:
            return
        from .blob_poller import DEFAULT_POISON_THRESHOLD, BlobPoller

        interval = self._blob_poll_interval or float(os.environ.get("DEVHOST_BLOB_POLL_SECONDS", "1"))
        workers = self._blob_workers or int(os.environ.get("DEVHOST_BLOB_WORKERS", "4"))
        threshold = int(nested(host_json, "extensions", "blobs", "poisonBlobThreshold",
                               default=DEFAULT_POISON_THRESHOLD))
        self._poller = self._once_per_app(BLOB_SCAN_LOCK, lambda: BlobPoller(
            blob_functions, self.host_id, self.registry.run, interval, workers, threshold,
            scan_event_grid_sources=os.environ.get("DEVHOST_EVENTGRID_BLOB_SCAN", "1") != "0"), singleton)
        self._poller.start()

    def _blob_event(self, fn: Any, container: str, name: str) -> None:
        """A blob named by the blobs webhook goes to the blob scan's pool (receipts and poisoning shared)."""
        poller = getattr(self._poller, "listener", self._poller)  # a SingletonListener holds it only with the lock
        if poller is None:
            log.info("Blob event for 'Functions.%s' (%s/%s) left to the host holding the blob scan lock",
                     fn.name, container, name)
        elif not poller.notify(fn.name, container, name):
            log.warning("Blob event for 'Functions.%s' names %s/%s, which it does not watch: ignored",
                        fn.name, container, name)

    def _start_queue_listeners(self, host_json: Mapping[str, Any]) -> None:
        queue_functions = self.registry.enabled(QUEUE)
        if not queue_functions:
            return
        from .queue_listener import QueueListener

        visibility = self._queue_message_visibility or int(os.environ.get("DEVHOST_QUEUE_VISIBILITY_SECONDS", "0"))
        options = QueueOptions.from_host_json(host_json, visibility or None)
        for fn in queue_functions:
            try:
                listener = QueueListener(fn, options, self.registry.run)
            except (KeyError, ValueError) as error:
                log.error("Queue trigger 'Functions.%s' disabled: %s", fn.name, error)
                continue
            self.queue_listeners.append(listener)
            listener.start()

    def _log_functions(self) -> None:
        log.info("Functions:")
        prefix = f"/{self.registry.route_prefix}" if self.registry.route_prefix else ""
        for fn in self.registry.functions:
            state = " (disabled)" if fn.disabled else ""
            if fn.trigger_type == HTTP:
                methods = ",".join(http_methods(fn)) or "ALL"
                log.info("  %s: [%s] %s%s/%s%s", fn.name, methods, self.url, prefix, self.registry.route_of(fn), state)
            else:
                log.info("  %s: %s%s", fn.name, fn.trigger_type, state)


def _host_id(host_json: Mapping[str, Any], app_dir: Path) -> str:
    """The id receipts are filed under: setting, host.json ``id``, else the app folder's name."""
    raw = os.environ.get("AzureFunctionsWebHost__hostid") or host_json.get("id") or app_dir.name
    host_id = re.sub(r"[^a-z0-9-]+", "-", str(raw).lower()).strip("-")[:32]
    return host_id or "devhost"
