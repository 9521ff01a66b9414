"""The deployments' scoring servers: `mlflow models serve` processes, each in its own session
(so that stopping one stops its uvicorn workers too), its output in the endpoint's logs folder:

    <endpoint>/logs/<deployment>-v<version>-<n>.log
"""
from __future__ import annotations

import http.client
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from shared.adapters.local_ml.processes import alive, free_port, signal_group, tail
from shared.domain.errors import PlatformError

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0
PING_INTERVAL_SECONDS = 0.2
SCORING_TIMEOUT_SECONDS = 60
ENDPOINT_KEY_ENV = "LOCAL_ENDPOINT_KEY"  # the router's key: not handed down to scoring servers


class ScoringServers:
    """Starts, waits for and stops scoring servers; reaps those this process started.

    `python`: the training environment's interpreter. `--env-manager local` serves a model in
    the environment the server runs in, and a model's pinned requirements are the training
    environment's (as Azure ML builds a no-code deployment's environment from them), so the
    servers run there, not in the app's environment."""

    def __init__(self, tracking_uri: str, python: Path):
        self.tracking_uri = tracking_uri
        self.python = Path(python)
        self._children: dict[int, subprocess.Popen] = {}
        self._children_lock = threading.Lock()

    def start(self, endpoint_folder: Path, deployment: str, model_name: str, model_version: str,
              step: str) -> tuple[subprocess.Popen, int, Path]:
        """Start a server for that registered model version on a free port: (process, port, log file)."""
        logs = endpoint_folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{deployment}-v{model_version}-{uuid.uuid4().hex[:6]}.log"
        port = free_port()
        args = [str(self.python), "-m", "mlflow", "models", "serve", "-m", f"models:/{model_name}/{model_version}",
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                "--workers", "1", "--timeout", str(SCORING_TIMEOUT_SECONDS)]
        env = {**{k: v for k, v in os.environ.items() if k != ENDPOINT_KEY_ENV}, "MLFLOW_TRACKING_URI": self.tracking_uri,
               "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "PYTHONUNBUFFERED": "1",
               # mlflow runs `uvicorn` by name: the one next to the training environment's interpreter
               "PATH": os.pathsep.join([str(self.python.parent), os.environ.get("PATH", os.defpath)])}
        try:
            with open(log_path, "ab") as output:
                process = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, cwd=endpoint_folder,
                                           start_new_session=True)
        except OSError as error:
            raise PlatformError(f"{step}: cannot start the scoring server: {error}") from error
        with self._children_lock:
            self._children[process.pid] = process
        log.info("%s: scoring server pid %d on port %d, log %s", step, process.pid, port, log_path)
        return process, port, log_path

    @staticmethod
    def answers(port: int) -> bool:
        """Whether the server on that port answers GET /ping now."""
        return _pings(port)

    @staticmethod
    def log_tail(path: str | Path) -> str:
        return _log_tail(Path(path))

    def wait_until_ready(self, process: subprocess.Popen, port: int, log_path: Path,
                         timeout: float, step: str) -> None:
        """Return once the server answers GET /ping; PlatformError with its log tail if it exits
        or stays silent for `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise PlatformError(f"{step}: the scoring server exited with code {process.returncode}; "
                                    f"log tail:\n{_log_tail(log_path)}")
            if _pings(port) and process.poll() is None:
                return
            if time.monotonic() >= deadline:
                raise PlatformError(f"{step}: the scoring server did not answer GET /ping within "
                                    f"{timeout:.0f}s; log tail:\n{_log_tail(log_path)}")
            time.sleep(PING_INTERVAL_SECONDS)

    def stop(self, pid: int | None, pid_start: int | None) -> None:
        """Stop a scoring server's whole process group: SIGTERM, then SIGKILL after a grace period.
        A pid that now belongs to another process is left alone."""
        if not pid:
            return
        if alive(pid, pid_start):
            signal_group(pid, signal.SIGTERM, pid_start)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while alive(pid, pid_start) and time.monotonic() < deadline:
                self._reap(pid)
                time.sleep(0.05)
        signal_group(pid, signal.SIGKILL, pid_start)  # the leader's children too (uvicorn)
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


def _pings(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except (http.client.HTTPException, OSError):
        return False
    finally:
        connection.close()


def _log_tail(path: Path) -> str:
    return tail(path, 30) or "(no log)"
