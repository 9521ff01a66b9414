"""``FunctionsHost``: loads a v2-model function app and wires its triggers."""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Mapping

from . import ncrontab
from .functions import BLOB, EVENT_GRID, HTTP, TIMER, FunctionInfo, Invocation, index_functions, invoke, load_app
from .http_server import MAX_BODY_BYTES, Dispatcher, make_server
from .routes import RouteTemplate
from .settings import apply_settings, load_host_json, load_local_settings, nested, resolve

log = logging.getLogger("devhost")

MANUAL_REASON = "This function was programmatically called via the host APIs."


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
    ):
        self.app_dir = Path(app_dir).resolve()
        self.port = port
        self.env = dict(env or {})
        self.settings_path = Path(settings_path) if settings_path else self.app_dir / "local.settings.json"
        self._blob_poll_interval = blob_poll_interval
        self._blob_workers = blob_workers
        self.max_body_bytes = max_body_bytes
        self.functions: list[FunctionInfo] = []
        self.http_routes: list[tuple[FunctionInfo, RouteTemplate]] = []
        self.route_prefix = "api"
        self.host_id = ""
        self._saved_env: dict[str, str | None] = {}
        self._server = None
        self._server_thread: threading.Thread | None = None
        self._timers: list = []
        self._poller = None
        self._manual_runs: list[threading.Thread] = []
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
            host_json = load_host_json(self.app_dir)
            self.route_prefix = str(nested(host_json, "extensions", "http", "routePrefix", default="api")).strip("/")
            self.host_id = _host_id(host_json, self.app_dir)
            self.functions = index_functions(load_app(self.app_dir), os.environ)
            self._wire_http()
            self._server = make_server(Dispatcher(self), self.port, max_body=self.max_body_bytes)
            self.port = self._server.server_address[1]
            self._server_thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="devhost-http", daemon=True
            )
            self._server_thread.start()
            self._started = True
            self._log_functions()
            self._start_timers()
            self._start_blob_poller(host_json)
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
        for timer in self._timers:
            timer.stop()
        self._timers = []
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        for thread in self._manual_runs:
            thread.join(10)
            if thread.is_alive():
                log.warning("Manual run %s still running after 10s; not waiting for it", thread.name)
        self._manual_runs = []
        self._restore_env()
        if self._started:
            log.info("Host stopped")
        self._started = False

    def __enter__(self) -> "FunctionsHost":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- used by the HTTP front end -------------------------------------------------------
    def function(self, name: str) -> FunctionInfo | None:
        return next((f for f in self.functions if f.name.lower() == name.lower() and not f.disabled), None)

    def run(self, fn: FunctionInfo, value: Any, reason: str) -> Invocation:
        return invoke(fn, value, reason, str(self.app_dir))

    def run_manual(self, fn: FunctionInfo, text: str) -> None:
        """Run a non-HTTP function in the background with the admin API's input."""
        thread = threading.Thread(target=self._manual, args=(fn, text), name=f"manual-{fn.name}", daemon=True)
        self._manual_runs = [t for t in self._manual_runs if t.is_alive()] + [thread]
        thread.start()

    def _manual(self, fn: FunctionInfo, text: str) -> None:
        from azure.functions.timer import TimerRequest

        from . import eventgrid

        try:
            if fn.trigger_type == TIMER:
                self.run(fn, TimerRequest(past_due=False), MANUAL_REASON)
            elif fn.trigger_type == EVENT_GRID:
                self.run(fn, eventgrid.to_trigger_value(json.loads(text), fn.trigger_annotation), MANUAL_REASON)
            elif fn.trigger_type == BLOB:
                from .blob_poller import BlobPoller

                (self._poller or BlobPoller([], self.host_id, self.run)).run_manual(fn, text)
        except Exception:  # noqa: BLE001 - e.g. the named blob does not exist
            log.exception("Manual run of 'Functions.%s' could not start", fn.name)

    def describe(self, fn: FunctionInfo) -> dict[str, Any]:
        info: dict[str, Any] = {"name": fn.name, "trigger": fn.trigger_type, "disabled": fn.disabled}
        if fn.trigger_type == HTTP:
            info["route"] = self._route_of(fn)
            info["methods"] = [str(getattr(m, "value", m)) for m in fn.trigger.methods or []] or None
            info["authLevel"] = str(getattr(fn.trigger.auth_level, "value", fn.trigger.auth_level))
        elif fn.trigger_type == TIMER:
            info["schedule"] = fn.trigger.schedule
        elif fn.trigger_type == BLOB:
            info["path"] = fn.trigger.path
        return info

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

    def _route_of(self, fn: FunctionInfo) -> str:
        return resolve(fn.trigger.route) if fn.trigger.route is not None else fn.name

    def _wire_http(self) -> None:
        routes = []
        for fn in self.functions:
            if fn.trigger_type == HTTP and not fn.disabled:
                routes.append((fn, RouteTemplate(self._route_of(fn))))
        self.http_routes = sorted(routes, key=lambda item: item[1].sort_key())

    def _start_timers(self) -> None:
        from .timers import TimerRunner

        for fn in self.functions:
            if fn.trigger_type != TIMER or fn.disabled:
                continue
            try:
                schedule = ncrontab.parse(resolve(fn.trigger.schedule))
            except (KeyError, ValueError) as error:
                log.error("Timer 'Functions.%s' disabled: %s", fn.name, error)
                continue
            timer = TimerRunner(fn, schedule, self.run)
            self._timers.append(timer)
            timer.start()

    def _start_blob_poller(self, host_json: Mapping[str, Any]) -> None:
        blob_functions = [f for f in self.functions if f.trigger_type == BLOB and not f.disabled]
        if not blob_functions:
            return
        from .blob_poller import DEFAULT_POISON_THRESHOLD, BlobPoller

        interval = self._blob_poll_interval or float(os.environ.get("DEVHOST_BLOB_POLL_SECONDS", "1"))
        workers = self._blob_workers or int(os.environ.get("DEVHOST_BLOB_WORKERS", "4"))
        threshold = int(nested(host_json, "extensions", "blobs", "poisonBlobThreshold",
                               default=DEFAULT_POISON_THRESHOLD))
        self._poller = BlobPoller(blob_functions, self.host_id, self.run, interval, workers, threshold)
        self._poller.start()

    def _log_functions(self) -> None:
        log.info("Functions:")
        for fn in self.functions:
            state = " (disabled)" if fn.disabled else ""
            if fn.trigger_type == HTTP:
                methods = ",".join(str(getattr(m, "value", m)) for m in fn.trigger.methods or []) or "ALL"
                prefix = f"/{self.route_prefix}" if self.route_prefix else ""
                log.info("  %s: [%s] %s%s/%s%s", fn.name, methods, self.url, prefix, self._route_of(fn), state)
            else:
                log.info("  %s: %s%s", fn.name, fn.trigger_type, state)


def _host_id(host_json: Mapping[str, Any], app_dir: Path) -> str:
    """The id receipts are filed under: setting, host.json ``id``, else the app folder's name."""
    raw = os.environ.get("AzureFunctionsWebHost__hostid") or host_json.get("id") or app_dir.name
    host_id = re.sub(r"[^a-z0-9-]+", "-", str(raw).lower()).strip("-")[:32]
    return host_id or "devhost"
