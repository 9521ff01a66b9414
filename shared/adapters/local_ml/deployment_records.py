"""The local endpoint's deployment records in its state file: reserving a deployment, recording the
server that starts for it, its failure, and the switch to a server once it answers."""
from __future__ import annotations

import logging
import time
import subprocess
from pathlib import Path

from emulator_formats import endpoint_state
from shared.adapters.local_ml.endpoint_store import EndpointStore
from shared.adapters.local_ml.processes import alive, start_time
from shared.adapters.local_ml.scoring_servers import ScoringServers
from shared.domain.errors import Conflict
from shared.domain.naming import MAX_DEPLOYMENTS
from shared.ports import DeploymentInfo

log = logging.getLogger(__name__)

CREATING, SUCCEEDED, FAILED = "Creating", "Succeeded", "Failed"


class DeploymentRecords:
    def __init__(self, store: EndpointStore, servers: ScoringServers):
        self._store = store
        self.servers = servers


    def reserve(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo | None:
        """Enter the deployment in the state (Creating when new); the current info when nothing is to do."""
        step = f"deploy {model_name} version {model_version} as {endpoint}/{deployment}"
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                if len(state["deployments"]) >= MAX_DEPLOYMENTS:
                    raise Conflict(f"{step}: endpoint already has the maximum of {MAX_DEPLOYMENTS} deployments")
                state["deployments"][deployment] = endpoint_state.new_deployment(model_name, model_version, CREATING)
                state["traffic"][deployment] = 0
                return None
            serving = alive(entry.get("pid"), entry.get("pid_start"))
            if (serving and entry["state"] == SUCCEEDED and entry["model_name"] == model_name
                    and entry["model_version"] == model_version):
                log.info("%s: already serving that version", step)
                return deployment_info(deployment, entry)
            if not serving:  # nothing to keep running during the update: start over
                state["deployments"][deployment] = {
                    **endpoint_state.new_deployment(model_name, model_version, CREATING),
                    "pid": entry.get("pid"), "pid_start": entry.get("pid_start")}
            return None

    def record_pending(self, endpoint: str, deployment: str, process: subprocess.Popen, port: int,
                        log_path: Path, model_name: str, model_version: str) -> None:
        """Write the starting server into the state, so that a delete or a crash report can find it."""
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                return
            server = {"port": port, "pid": process.pid, "pid_start": start_time(process.pid), "log": str(log_path),
                      "model_name": model_name, "model_version": model_version, "started_at": time.time()}
            if entry["state"] == CREATING:
                entry.update(server)
            else:
                entry["pending"] = server

    def record_failure(self, endpoint: str, deployment: str, message: str) -> None:
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                return
            entry["state"] = FAILED
            entry["error"] = message[:2000]
            if entry.pop("pending", None) is None:  # a new deployment: nothing serves
                entry.update(port=None, pid=None, pid_start=None)

    def switch_to_pending(self, endpoint: str, deployment: str, step: str, pid: int) -> dict | None:
        """Point the deployment at the new server; return the previous server (to stop) if any."""
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                self.servers.stop(pid, start_time(pid))
                raise Conflict(f"{step}: the deployment was removed while it was starting")
            pending = entry.pop("pending", None)
            old = None
            if pending is not None:
                old = {"pid": entry.get("pid"), "pid_start": entry.get("pid_start")}
                entry.update(pending)
            entry["state"] = SUCCEEDED
            entry.pop("error", None)
            return old if old and old["pid"] and old["pid"] != pid else None


def deployment_info(name: str, entry: dict) -> DeploymentInfo:
    """A deployment as reported: Failed when its recorded server is gone (or it has none)."""
    state = entry["state"]
    if state in (SUCCEEDED, CREATING) and entry.get("pid") and not alive(entry["pid"], entry.get("pid_start")):
        state = FAILED
    elif state == SUCCEEDED and not entry.get("pid"):
        state = FAILED
    return DeploymentInfo(name, entry["model_name"], entry["model_version"], state)



def starting_server(entry: dict) -> dict | None:
    """The server being started for the deployment (an update's pending one, or a new deployment's own)."""
    if entry.get("pending"):
        return entry["pending"]
    return entry if entry.get("state") == CREATING else None
