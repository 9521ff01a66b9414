"""OnlineEndpoints on the local machine (plays Azure ML managed online endpoints): the control plane.

Each deployment is a real MLflow scoring server (`scoring_servers`) on a free port, started
detached in its own session. The router emulator (`python -m emulators.local_ml.endpoint_router`,
started by the dev stack) serves the endpoint's scoring URI and splits traffic between the
deployments as the endpoint's state file says (`emulator_formats.endpoint_state`, read and
written under locks by `endpoint_store`); `invoke` goes through it (`router_client`).
"""
from __future__ import annotations

import logging
import time

from pathlib import Path

from shared.adapters.local_ml.deployment_records import DeploymentRecords, deployment_info, starting_server
from shared.adapters.local_ml.endpoint_store import EndpointStore
from shared.adapters.local_ml.processes import alive, start_time
from shared.adapters.local_ml.router_client import LocalScoringResult, RouterClient
from shared.adapters.local_ml.scoring_servers import ScoringServers
from shared.domain.errors import Conflict, InvalidInput, PlatformError, redact
from shared.domain.naming import validate_deployment_name, validate_endpoint_name
from shared.domain.traffic import check_split, model_ref, percent_map
from shared.ports import DeploymentInfo, EndpointInfo

log = logging.getLogger(__name__)

CREATING, SUCCEEDED, FAILED, DELETING = "Creating", "Succeeded", "Failed", "Deleting"

class LocalOnlineEndpoints:
    """Online endpoints whose deployments are local MLflow scoring servers behind the local router.

    `state_dir`: where endpoint folders live (shared with the router); `tracking_uri`: the
    MLflow server the models are loaded from; `router_url`: the router's base URL;
    `endpoint_key`: the key the router requires (sent as `Authorization: Bearer`, never logged);
    `python`: the training environment's interpreter, which runs the scoring servers.
    """

    def __init__(self, state_dir: str | Path, tracking_uri: str, router_url: str, endpoint_key: str,
                 deployment_min_seconds: float = 0, *, python: Path):
        self.state_dir = Path(state_dir).resolve()
        self.tracking_uri = tracking_uri
        self.servers = ScoringServers(tracking_uri, python)
        self._store = EndpointStore(self.state_dir)
        self._records = DeploymentRecords(self._store, self.servers)
        self._router = RouterClient(router_url, endpoint_key)
        self.deployment_min_seconds = deployment_min_seconds  # Azure-like slowness on purpose (benchmarks)

    def __repr__(self) -> str:
        return f"LocalOnlineEndpoints(state_dir={str(self.state_dir)!r}, router_url={self._router.router_url!r})"

    # ------------------------------------------------------------------ endpoints

    def ensure_endpoint(self, endpoint: str, wait: bool = True) -> EndpointInfo:
        """Create the endpoint (no deployments, no traffic) if missing; return its current state."""
        endpoint = validate_endpoint_name(endpoint)
        try:
            self._store.create(endpoint)
        except OSError as error:
            raise PlatformError(f"create endpoint {endpoint!r}: cannot write its state: {error}") from error
        return self.get_endpoint(endpoint)

    def get_endpoint(self, endpoint: str) -> EndpointInfo:
        """Current deployments and traffic; a deployment whose server process is gone shows as Failed."""
        endpoint = validate_endpoint_name(endpoint)
        return self._endpoint_info(self._store.read(endpoint))

    def scoring_uri(self, endpoint: str) -> str:
        return self._router.scoring_uri(endpoint)

    # ---------------------------------------------------------------- deployments

    def create_or_update_deployment(self, endpoint: str, deployment: str, model_name: str,
                                    model_version: str, timeout_seconds: float = 600) -> DeploymentInfo:
        """Deploy that model version under that name (0% traffic when new) and wait until it answers.

        An update starts the new server first, switches the state to it, then stops the old
        one, so traffic keeps flowing. Asking again for what is already running is a no-op.
        """
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        model_name, model_version = model_ref(model_name, model_version)
        step = f"deploy {model_name} version {model_version} as {endpoint}/{deployment}"
        with self._store.deployment_lock(endpoint, deployment, wait_seconds=timeout_seconds):
            current = self._records.reserve(endpoint, deployment, model_name, model_version)
            if current is not None:
                return current
            process = None
            try:
                process, port, log_path = self.servers.start(self._store.folder(endpoint), deployment,
                                                             model_name, model_version, step)
                self._records.record_pending(endpoint, deployment, process, port, log_path, model_name, model_version)
                self.servers.wait_until_ready(process, port, log_path, timeout_seconds, step)
            except BaseException as error:  # a timeout, a crash, an interrupt: nothing half-started remains
                if process is not None:
                    self.servers.stop(process.pid, start_time(process.pid))
                self._records.record_failure(endpoint, deployment, redact(getattr(error, "message", repr(error))))
                raise
            old = self._records.switch_to_pending(endpoint, deployment, step, process.pid)
            if old:
                log.info("%s: stopping the previous server (pid %s)", step, old["pid"])
                self.servers.stop(old["pid"], old.get("pid_start"))
            log.info("%s: ready on port %d", step, port)
            return self.get_endpoint(endpoint).deployment(deployment)

    def begin_deployment(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo:
        """Start the scoring server and return at once (Creating); `get_deployment` sees it answer."""
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        model_name, model_version = model_ref(model_name, model_version)
        step = f"deploy {model_name} version {model_version} as {endpoint}/{deployment}"
        with self._store.deployment_lock(endpoint, deployment, wait_seconds=30):
            current = self._records.reserve(endpoint, deployment, model_name, model_version)
            if current is not None:
                return current
            starting = starting_server(self._store.read(endpoint)["deployments"][deployment])
            if starting and starting.get("model_version") == model_version and alive(starting.get("pid"),
                                                                                    starting.get("pid_start")):
                return DeploymentInfo(deployment, model_name, model_version, CREATING)
            process, port, log_path = self.servers.start(self._store.folder(endpoint), deployment,
                                                         model_name, model_version, step)
            self._records.record_pending(endpoint, deployment, process, port, log_path, model_name, model_version)
        return DeploymentInfo(deployment, model_name, model_version, CREATING)

    def get_deployment(self, endpoint: str, deployment: str) -> DeploymentInfo | None:
        """The deployment's state; a starting server that answers now completes it (Succeeded), one
        that exited fails it (Failed, with its log tail)."""
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        if not self._store.exists(endpoint):
            return None
        entry = self._store.read(endpoint)["deployments"].get(deployment)
        starting = starting_server(entry) if entry else None
        if starting and starting.get("pid"):
            step = f"deploy {starting.get('model_name')} version {starting.get('model_version')} as {endpoint}/{deployment}"
            if not alive(starting["pid"], starting.get("pid_start")):
                self._records.record_failure(endpoint, deployment, f"{step}: the scoring server exited; log tail:\n"
                                                           f"{self.servers.log_tail(starting.get('log', ''))}")
            elif self._old_enough(starting) and self.servers.answers(starting["port"]):
                old = self._records.switch_to_pending(endpoint, deployment, step, starting["pid"])
                if old:
                    self.servers.stop(old["pid"], old.get("pid_start"))
        entry = self._store.read(endpoint)["deployments"].get(deployment)
        return deployment_info(deployment, entry) if entry else None

    def _old_enough(self, starting: dict) -> bool:
        return time.time() - float(starting.get("started_at") or 0) >= self.deployment_min_seconds

    def delete_deployment(self, endpoint: str, deployment: str, wait: bool = True) -> None:
        """Stop and remove a deployment; a no-op when it (or the endpoint) is absent;
        Conflict while it has live or mirrored traffic or another operation on it runs."""
        endpoint = validate_endpoint_name(endpoint)
        deployment = validate_deployment_name(deployment)
        if not self._store.exists(endpoint):
            return
        step = f"delete deployment {endpoint}/{deployment}"
        with self._store.deployment_lock(endpoint, deployment, wait_seconds=0):
            with self._store.transaction(endpoint) as state:
                entry = state["deployments"].get(deployment)
                if entry is None:
                    return
                live, mirror = state["traffic"].get(deployment, 0), state["mirror_traffic"].get(deployment, 0)
                if live or mirror:
                    raise Conflict(f"{step}: it still has {live}% live and {mirror}% mirrored traffic; "
                                   "move the traffic first")
                entry["state"] = DELETING
                processes = [(p["pid"], p.get("pid_start")) for p in (entry, entry.get("pending") or {}) if p.get("pid")]
            for pid, pid_start in processes:
                self.servers.stop(pid, pid_start)
            with self._store.transaction(endpoint) as state:
                state["deployments"].pop(deployment, None)
                state["traffic"].pop(deployment, None)
                state["mirror_traffic"].pop(deployment, None)
        log.info("%s: done", step)

    def stop_servers(self) -> list[str]:
        """Stop every running scoring server recorded here (the local stack's shutdown). The state
        stays, so the stack can restart them; a recorded pid that is no longer ours is left alone."""
        stopped = []
        for endpoint in self._store.endpoints():
            for name, entry in self._store.read(endpoint)["deployments"].items():
                for server in (entry, entry.get("pending") or {}):
                    if alive(server.get("pid"), server.get("pid_start")):
                        self.servers.stop(server["pid"], server.get("pid_start"))
                        stopped.append(name)
        return stopped

    # -------------------------------------------------------------------- traffic

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None,
                    wait: bool = True) -> EndpointInfo:
        """Replace the live split (and the mirror split when given) in one update.

        Deployments left out get 0%. Live percents sum to 0 or 100; the mirror goes to at
        most one deployment, at most 50%, and never to one that has live traffic.
        """
        endpoint = validate_endpoint_name(endpoint)
        step = f"set traffic of endpoint {endpoint!r}"
        live = percent_map(traffic, f"{step}: traffic")
        mirror = None if mirror_traffic is None else percent_map(mirror_traffic, f"{step}: mirror_traffic")
        check_split(live, mirror, step)
        with self._store.transaction(endpoint, always_write=True) as state:
            deployments = state["deployments"]
            mirror_now = state["mirror_traffic"] if mirror is None else mirror
            for name in list(live) + list(mirror_now if mirror is not None else {}):
                if name not in deployments:
                    raise InvalidInput(f"{step}: no deployment named {name!r} (known: {sorted(deployments)})")
            check_split(live, mirror_now, step)
            for name, percent in {**live, **mirror_now}.items():
                if percent and deployments.get(name, {}).get("state") == DELETING:
                    raise Conflict(f"{step}: deployment {name!r} is being deleted")
            state["traffic"] = {name: live.get(name, 0) for name in deployments}
            state["mirror_traffic"] = {name: p for name, p in mirror_now.items() if p}
            info = self._endpoint_info(state)
        log.info("%s: live %s, mirror %s", step, info.traffic, info.mirror_traffic)
        return info

    # -------------------------------------------------------------------- scoring

    def invoke(self, endpoint: str, body: dict, deployment: str | None = None,
               timeout_seconds: float = 30) -> LocalScoringResult:
        """POST the Azure ML MLflow body to the endpoint's scoring URI through the router.

        Returns the router's answer whatever its status (401, 404, 502... included);
        PlatformError only when the router cannot be reached.
        """
        endpoint = validate_endpoint_name(endpoint)
        if deployment is not None:
            deployment = validate_deployment_name(deployment)
        if not isinstance(body, dict):
            raise InvalidInput(f"invoke endpoint {endpoint!r}: the body must be a JSON object")
        return self._router.score(endpoint, body, deployment, timeout_seconds)

    def _endpoint_info(self, state: dict) -> EndpointInfo:
        deployments = tuple(deployment_info(name, entry) for name, entry in sorted(state["deployments"].items()))
        return EndpointInfo(
            name=state["name"],
            scoring_uri=self.scoring_uri(state["name"]),
            traffic={name: state["traffic"].get(name, 0) for name in sorted(state["deployments"])},
            mirror_traffic=dict(state["mirror_traffic"]),
            deployments=deployments,
        )

