"""OnlineEndpoints on the local machine (plays Azure ML managed online endpoints).

Each deployment is a real MLflow scoring server (`mlflow models serve`) on a free port,
started detached in its own session; the router process (`endpoint_router`) serves the
endpoint's scoring URI and splits traffic between the deployments.

State, one folder per endpoint under `state_dir`:

    <endpoint>/endpoint.json      name, revision, traffic, mirror_traffic,
                                  deployments {name: {model_name, model_version, port, pid, state, ...}}
    <endpoint>/.lock              flock'ed around every read-modify-write of endpoint.json
    <endpoint>/locks/<dep>.lock   held for a whole create/update/delete of one deployment
    <endpoint>/logs/<dep>-v<version>-<n>.log   each scoring server's output

endpoint.json is replaced atomically (temporary file + rename), so the router and
`get_endpoint` read it without locking; writers (threads or processes) serialize on
an exclusive `fcntl.flock` and each write increments `revision`.
"""
from __future__ import annotations

import contextlib
import copy
import fcntl
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from shared.domain.errors import Conflict, InvalidInput, NotFound, PlatformError
from shared.domain.naming import MAX_DEPLOYMENTS, validate_deployment_name, validate_endpoint_name
from shared.domain.traffic import check_split, model_ref, percent_map
from shared.ports import DeploymentInfo, EndpointInfo, ScoringResult

log = logging.getLogger(__name__)

CREATING, SUCCEEDED, FAILED, DELETING = "Creating", "Succeeded", "Failed", "Deleting"
STATE_FILE = "endpoint.json"
STOP_TIMEOUT_SECONDS = 10.0
PING_INTERVAL_SECONDS = 0.2
SCORING_TIMEOUT_SECONDS = 60
DEPLOYMENT_HEADER = "azureml-model-deployment"
ENDPOINT_KEY_ENV = "LOCAL_ENDPOINT_KEY"  # the router's key: not handed down to scoring servers
MLFLOW = Path(sys.executable).parent / "mlflow"


@dataclass(frozen=True)
class LocalScoringResult(ScoringResult):
    """A ScoringResult that also names the deployment that answered (the router's
    `azureml-model-deployment` response header), when there is one."""

    deployment: str | None = None


class LocalOnlineEndpoints:
    """Online endpoints whose deployments are local MLflow scoring servers behind the local router.

    `state_dir`: where endpoint folders live (shared with the router); `tracking_uri`: the
    MLflow server the models are loaded from; `router_url`: the router's base URL;
    `endpoint_key`: the key the router requires (sent as `Authorization: Bearer`, never logged).
    """

    def __init__(self, state_dir: str | Path, tracking_uri: str, router_url: str, endpoint_key: str):
        self.state_dir = Path(state_dir).resolve()
        self.tracking_uri = tracking_uri
        self.router_url = router_url.rstrip("/")
        self._key = endpoint_key
        self._store = EndpointStore(self.state_dir)
        self._children: dict[int, subprocess.Popen] = {}  # servers this process started (to reap them)
        self._children_lock = threading.Lock()
        self._connections = threading.local()

    def __repr__(self) -> str:
        return f"LocalOnlineEndpoints(state_dir={str(self.state_dir)!r}, router_url={self.router_url!r})"

    # ------------------------------------------------------------------ endpoints

    def ensure_endpoint(self, endpoint: str) -> EndpointInfo:
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
        state = self._store.read(endpoint)
        return self._endpoint_info(state)

    def scoring_uri(self, endpoint: str) -> str:
        return f"{self.router_url}/endpoints/{endpoint}/score"

    def captured_inputs(self, endpoint: str, deployment: str) -> Iterator[bytes]:
        """What the router captured of this deployment's live traffic (router: InputCapture)."""
        path = self._store.folder(validate_endpoint_name(endpoint)) / "captures" / f"{validate_deployment_name(deployment)}.csv"
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return
        with handle:
            while chunk := handle.read(4 * 1024 * 1024):
                yield chunk

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
            current = self._reserve(endpoint, deployment, model_name, model_version)
            if current is not None:
                return current
            process = None
            try:
                process, port, log_path = self._start_server(endpoint, deployment, model_name, model_version, step)
                self._record_pending(endpoint, deployment, process, port, log_path, model_name, model_version)
                self._wait_until_ready(process, port, log_path, timeout_seconds, step)
            except BaseException as error:  # a timeout, a crash, an interrupt: nothing half-started remains
                if process is not None:
                    self._stop_process(process.pid, _start_time(process.pid))
                self._record_failure(endpoint, deployment, getattr(error, "message", repr(error)))
                raise
            old = self._switch_to_pending(endpoint, deployment, step, process)
            if old:
                log.info("%s: stopping the previous server (pid %s)", step, old["pid"])
                self._stop_process(old["pid"], old.get("pid_start"))
            log.info("%s: ready on port %d", step, port)
            return self.get_endpoint(endpoint).deployment(deployment)

    def delete_deployment(self, endpoint: str, deployment: str) -> None:
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
            for pid, start in processes:
                self._stop_process(pid, start)
            with self._store.transaction(endpoint) as state:
                state["deployments"].pop(deployment, None)
                state["traffic"].pop(deployment, None)
                state["mirror_traffic"].pop(deployment, None)
        log.info("%s: done", step)

    # -------------------------------------------------------------------- traffic

    def set_traffic(self, endpoint: str, traffic: dict, mirror_traffic: dict | None = None) -> EndpointInfo:
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
               timeout_seconds: float = 30) -> ScoringResult:
        """POST the Azure ML MLflow body to the endpoint's scoring URI through the router.

        Returns the router's answer whatever its status (401, 404, 502... included);
        PlatformError only when the router cannot be reached.
        """
        endpoint = validate_endpoint_name(endpoint)
        if deployment is not None:
            deployment = validate_deployment_name(deployment)
        if not isinstance(body, dict):
            raise InvalidInput(f"invoke endpoint {endpoint!r}: the body must be a JSON object")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"}
        if deployment:
            headers[DEPLOYMENT_HEADER] = deployment
        payload = json.dumps(body).encode()
        path = urlsplit(self.scoring_uri(endpoint)).path
        started = time.perf_counter()
        status, response_headers, data = self._post_to_router(path, payload, headers, timeout_seconds, endpoint)
        latency_ms = (time.perf_counter() - started) * 1000
        return LocalScoringResult(status, _parse_body(data, response_headers), latency_ms,
                                  response_headers.get(DEPLOYMENT_HEADER))

    def _post_to_router(self, path: str, payload: bytes, headers: dict, timeout: float, endpoint: str):
        for attempt in (1, 2):  # a kept-alive connection the router has closed fails once
            connection = self._router_connection(timeout)
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self._drop_router_connection()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (http.client.HTTPException, OSError) as error:
                self._drop_router_connection()
                if attempt == 2 or isinstance(error, (TimeoutError, ConnectionRefusedError)):
                    raise PlatformError(f"invoke endpoint {endpoint!r}: router {self.router_url} "
                                        f"unreachable: {error.__class__.__name__}: {error}") from error
        raise AssertionError("unreachable")

    def _router_connection(self, timeout: float) -> http.client.HTTPConnection:
        connection = getattr(self._connections, "router", None)
        if connection is None:
            url = urlsplit(self.router_url)
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
            self._connections.router = connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop_router_connection(self) -> None:
        connection = getattr(self._connections, "router", None)
        if connection is not None:
            connection.close()
            self._connections.router = None

    def stop_servers(self) -> list[str]:
        """Stop every running scoring server recorded here (the local stack's shutdown). The state
        stays, so the stack can restart them; a recorded pid that is no longer ours is left alone."""
        stopped = []
        for state_file in sorted(self.state_dir.glob("*/endpoint.json")):
            state = self._store.read(state_file.parent.name)
            for name, entry in state["deployments"].items():
                for server in (entry, entry.get("pending") or {}):
                    if _alive(server.get("pid"), server.get("pid_start")):
                        self._stop_process(server["pid"], server.get("pid_start"))
                        stopped.append(name)
        return stopped

    # ------------------------------------------------------- deployment internals

    def _reserve(self, endpoint: str, deployment: str, model_name: str, model_version: str) -> DeploymentInfo | None:
        """Enter the deployment in the state (Creating when new); the current info when nothing is to do."""
        step = f"deploy {model_name} version {model_version} as {endpoint}/{deployment}"
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                if len(state["deployments"]) >= MAX_DEPLOYMENTS:
                    raise Conflict(f"{step}: endpoint already has the maximum of {MAX_DEPLOYMENTS} deployments")
                state["deployments"][deployment] = _entry(model_name, model_version, CREATING)
                state["traffic"][deployment] = 0
                return None
            serving = _alive(entry.get("pid"), entry.get("pid_start"))
            if (serving and entry["state"] == SUCCEEDED and entry["model_name"] == model_name
                    and entry["model_version"] == model_version):
                log.info("%s: already serving that version", step)
                return _deployment_info(deployment, entry)
            if not serving:  # nothing to keep running during the update: start over
                state["deployments"][deployment] = {**_entry(model_name, model_version, CREATING),
                                                    "pid": entry.get("pid"), "pid_start": entry.get("pid_start")}
            return None

    def _start_server(self, endpoint: str, deployment: str, model_name: str, model_version: str,
                      step: str) -> tuple[subprocess.Popen, int, Path]:
        logs = self._store.folder(endpoint) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{deployment}-v{model_version}-{uuid.uuid4().hex[:6]}.log"
        port = _free_port()
        args = [str(MLFLOW), "models", "serve", "-m", f"models:/{model_name}/{model_version}",
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                "--workers", "1", "--timeout", str(SCORING_TIMEOUT_SECONDS)]
        env = {**{k: v for k, v in os.environ.items() if k != ENDPOINT_KEY_ENV}, "MLFLOW_TRACKING_URI": self.tracking_uri,
               "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "PYTHONUNBUFFERED": "1",
               # mlflow runs `uvicorn` by name: the one next to this interpreter
               "PATH": os.pathsep.join([str(MLFLOW.parent), os.environ.get("PATH", os.defpath)])}
        try:
            with open(log_path, "ab") as output:
                process = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, cwd=self._store.folder(endpoint),
                                           start_new_session=True)
        except OSError as error:
            raise PlatformError(f"{step}: cannot start the scoring server: {error}") from error
        with self._children_lock:
            self._children[process.pid] = process
        log.info("%s: scoring server pid %d on port %d, log %s", step, process.pid, port, log_path)
        return process, port, log_path

    def _record_pending(self, endpoint: str, deployment: str, process: subprocess.Popen, port: int,
                        log_path: Path, model_name: str, model_version: str) -> None:
        """Write the starting server into the state, so that a delete or a crash report can find it."""
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                return
            server = {"port": port, "pid": process.pid, "pid_start": _start_time(process.pid), "log": str(log_path),
                      "model_name": model_name, "model_version": model_version}
            if entry["state"] == CREATING:
                entry.update(server)
            else:
                entry["pending"] = server

    def _wait_until_ready(self, process: subprocess.Popen, port: int, log_path: Path,
                          timeout: float, step: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise PlatformError(f"{step}: the scoring server exited with code {process.returncode}; "
                                    f"log tail:\n{_tail(log_path)}")
            if _pings(port) and process.poll() is None:
                return
            if time.monotonic() >= deadline:
                raise PlatformError(f"{step}: the scoring server did not answer GET /ping within "
                                    f"{timeout:.0f}s; log tail:\n{_tail(log_path)}")
            time.sleep(PING_INTERVAL_SECONDS)

    def _record_failure(self, endpoint: str, deployment: str, message: str) -> None:
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                return
            entry["state"] = FAILED
            entry["error"] = message[:2000]
            if entry.pop("pending", None) is None:  # a new deployment: nothing serves
                entry.update(port=None, pid=None, pid_start=None)

    def _switch_to_pending(self, endpoint: str, deployment: str, step: str,
                           process: subprocess.Popen) -> dict | None:
        """Point the deployment at the new server; return the previous server (to stop) if any."""
        with self._store.transaction(endpoint) as state:
            entry = state["deployments"].get(deployment)
            if entry is None:
                self._stop_process(process.pid, _start_time(process.pid))
                raise Conflict(f"{step}: the deployment was removed while it was starting")
            pending = entry.pop("pending", None)
            old = None
            if pending is not None:
                old = {"pid": entry.get("pid"), "pid_start": entry.get("pid_start")}
                entry.update(pending)
            entry["state"] = SUCCEEDED
            entry.pop("error", None)
            return old if old and old["pid"] and old["pid"] != process.pid else None

    def _stop_process(self, pid: int | None, pid_start: int | None) -> None:
        """Stop a scoring server's whole process group: SIGTERM, then SIGKILL after a grace period."""
        if not pid:
            return
        if _alive(pid, pid_start):
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while _alive(pid, pid_start) and time.monotonic() < deadline:
                self._reap(pid)
                time.sleep(0.05)
        _signal_group(pid, signal.SIGKILL)  # the leader's children too (uvicorn)
        self._reap(pid, wait=True)

    def _reap(self, pid: int, wait: bool = False) -> None:
        with self._children_lock:
            process = self._children.get(pid)
        if process is None:
            return
        try:
            if wait:
                process.wait(timeout=5)
            elif process.poll() is None:
                return
        except subprocess.TimeoutExpired:
            return
        with self._children_lock:
            self._children.pop(pid, None)

    # -------------------------------------------------------------------- reports

    def _endpoint_info(self, state: dict) -> EndpointInfo:
        deployments = tuple(_deployment_info(name, entry) for name, entry in sorted(state["deployments"].items()))
        return EndpointInfo(
            name=state["name"],
            scoring_uri=self.scoring_uri(state["name"]),
            traffic={name: state["traffic"].get(name, 0) for name in sorted(state["deployments"])},
            mirror_traffic=dict(state["mirror_traffic"]),
            deployments=deployments,
        )


# ------------------------------------------------------------------------- state


class EndpointStore:
    """endpoint.json files under one folder: atomic replacement, flock'ed read-modify-write."""

    def __init__(self, root: Path):
        self.root = root

    def folder(self, endpoint: str) -> Path:
        return self.root / endpoint

    def path(self, endpoint: str) -> Path:
        return self.folder(endpoint) / STATE_FILE

    def exists(self, endpoint: str) -> bool:
        return self.path(endpoint).exists()

    def create(self, endpoint: str) -> None:
        self.folder(endpoint).mkdir(parents=True, exist_ok=True)
        with self._locked(endpoint):
            if not self.exists(endpoint):
                self._write(endpoint, {"name": endpoint, "revision": 1, "traffic": {},
                                       "mirror_traffic": {}, "deployments": {}})
                log.info("created endpoint %r", endpoint)

    def read(self, endpoint: str) -> dict:
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
        temporary = target.with_name(f".{STATE_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temporary, "w") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)


# ----------------------------------------------------------------------- helpers


def _entry(model_name: str, model_version: str, state: str) -> dict:
    return {"model_name": model_name, "model_version": model_version, "port": None, "pid": None,
            "pid_start": None, "state": state}


def _deployment_info(name: str, entry: dict) -> DeploymentInfo:
    state = entry["state"]
    if state in (SUCCEEDED, CREATING) and entry.get("pid") and not _alive(entry["pid"], entry.get("pid_start")):
        state = FAILED
    elif state == SUCCEEDED and not entry.get("pid"):
        state = FAILED
    return DeploymentInfo(name, entry["model_name"], entry["model_version"], state)





def _parse_body(data: bytes, headers: dict) -> object:
    text = data.decode("utf-8", errors="replace")
    if "json" in headers.get("content-type", ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pings(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except (http.client.HTTPException, OSError):
        return False
    finally:
        connection.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a process, or None when there is none."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()
    return fields[0], int(fields[19])


def _start_time(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def _alive(pid: int | None, pid_start: int | None = None) -> bool:
    """The process runs (not a zombie) and, when its start time is known, is the same process."""
    if not pid:
        return False
    if not Path("/proc/self/stat").exists():  # no procfs: ask the kernel
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    stat = _proc_stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    return pid_start is None or stat[1] == pid_start


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
