"""Assemble the emulator: the router with the backbone's hooks, the shared context, each part's
routes (in the spec's order, for the parts present), the HTTPS and identity servers. `stop()`
stops the parts in parallel (threads): their grace periods overlap instead of adding up.

Hooks before routing: authentication (identity.Authenticator, which also applies the
"token_expired" fault), then "http" faults. After: the request trail. Parts add health checks
and state summaries through `context.extras["health"]` / `context.extras["state"]`
({name: callable}); the authenticator is `context.extras["auth"]` (exempt_path / exempt_host).
"""
from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from emulators.azure import children
from emulators.azure import faults as fault_api
from emulators.azure import tls
from emulators.azure.context import Context, EmulatorConfig
from emulators.azure.http import Request, Response, Router, serve
from emulators.azure.identity import Audiences, Authenticator, TokenIssuer, identity_router
from emulators.azure.store import ResourceStore
from emulators.azure.trail import Trail

log = logging.getLogger("azure_emulator")

PARTS = ("arm", "jobs", "mlflow_api", "online", "eventgrid")


class LoggedEvents:
    """Stands in for Event Grid (H5) until that part registers its publisher: logs each event."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        self.published.append((topic, event))
        log.info("event (no Event Grid part): %s %s %s", topic, event.get("eventType"), event.get("subject"))


class LoggedScoring:
    """Stands in for the online endpoints' ScoringHost (H6) until that part registers: deployments
    succeed at once and serve nothing."""

    def start_deployment(self, endpoint, deployment, model_name, model_version, data_collector=None) -> None:
        log.info("start_deployment (no online part): %s/%s %s:%s", endpoint, deployment, model_name, model_version)

    def deployment_state(self, endpoint: str, deployment: str) -> tuple[str, str]:
        return "Succeeded", ""

    def stop_deployment(self, endpoint: str, deployment: str) -> None:
        log.info("stop_deployment (no online part): %s/%s", endpoint, deployment)

    def set_endpoint(self, endpoint, keys, traffic, mirror) -> None:
        log.info("set_endpoint (no online part): %s traffic=%s mirror=%s", endpoint, traffic, mirror)

    def remove_endpoint(self, endpoint: str) -> None:
        log.info("remove_endpoint (no online part): %s", endpoint)


@dataclass
class Emulator:
    """The assembled emulator; `start()` serves it, `stop()` ends it."""

    config: EmulatorConfig
    router: Router
    context: Context
    parts: dict[str, str] = field(default_factory=dict)  # name → "registered" | "absent"
    _servers: list = field(default_factory=list)

    def start(self) -> "Emulator":
        tls_context = tls.server_context(self.config.root, self.config.location)
        self._servers.append(serve(self.router, self.config.https_port, tls_context))
        identity = identity_router(self.context.tokens, self.config.identity_header)
        identity.after.append(Trail(self.config.root / "requests.jsonl", self.config.identity_port, scheme="http"))
        self._servers.append(serve(identity, self.config.identity_port))
        return self

    def stop(self) -> None:
        """Stop the parts all at once (each may wait for its processes' grace periods), then the servers."""
        stoppers = [threading.Thread(target=_stop_part, args=(name, stopper), name=f"stop-{name}")
                    for name, stopper in self.context.extras.get("stop", {}).items()]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()


def _stop_part(name: str, stopper) -> None:
    try:
        stopper()
    except Exception:  # noqa: BLE001 - the other parts stop regardless
        log.exception("stopping part %s failed", name)


def build(config: EmulatorConfig) -> Emulator:
    """The router and context with every present part registered (nothing served yet); the
    processes parts start are recorded in <root>/children.json (emulators.azure.children)."""
    tls.ensure(config.root, config.location)
    children.install(config.root)
    faults = fault_api.Faults()
    tokens = TokenIssuer(config.tenant_id, config.token_lifetime_seconds)
    context = Context(config=config, store=ResourceStore(), events=LoggedEvents(), scoring=LoggedScoring(),
                      faults=faults, tokens=tokens, blob_service=_blob_service(config),
                      extras={"health": {}, "state": {}, "stop": {}})
    router = Router()
    auth = Authenticator(tokens, faults, config.tenant_id, Audiences(config.base_url + "/", config.location))
    context.extras["auth"] = auth
    router.before += [auth, fault_api.http_hook(faults)]
    router.after.append(Trail(config.root / "requests.jsonl", config.https_port))
    fault_api.register_control(router, faults)
    emulator = Emulator(config, router, context)
    _register_control(router, emulator)
    for name in PARTS:
        emulator.parts[name] = _register_part(name, router, context)
    return emulator


def _register_part(name: str, router: Router, context: Context) -> str:
    module_name = f"emulators.azure.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        log.warning("part %s is not there yet", name)
        return "absent"
    if not hasattr(module, "register"):
        log.warning("part %s has no register()", name)
        return "absent"
    module.register(router, context)
    return "registered"


def _register_control(router: Router, emulator: Emulator) -> None:
    def health(request: Request) -> Response:
        checks = {name: _check(check) for name, check in emulator.context.extras["health"].items()}
        healthy = all(checks.values())
        return Response(200 if healthy else 503, {"status": "ok" if healthy else "unhealthy",
                                                  "parts": emulator.parts, "checks": checks})

    def state(request: Request) -> Response:
        return Response(200, {name: summary() for name, summary in emulator.context.extras["state"].items()})

    router.route("GET", r"/_emulator/health/?", health)
    router.route("GET", r"/_emulator/state/?", state)


def _check(check) -> bool:
    try:
        return bool(check())
    except Exception:  # noqa: BLE001 - a failing check is an unhealthy part
        log.exception("health check failed")
        return False


def _blob_service(config: EmulatorConfig):
    """A lazily made BlobServiceClient on Azurite (account key), trusting the emulator's CA."""
    lock, made = threading.Lock(), []

    def client():
        with lock:
            if not made:
                from azure.storage.blob import BlobServiceClient

                made.append(BlobServiceClient.from_connection_string(
                    config.storage_connection, connection_verify=str(config.ca_file)))
            return made[0]

    return client
