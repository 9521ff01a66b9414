"""One deployment's scoring server: an `mlflow models serve` process of a registered model version,
in the training environment, in its own session (stopping it stops its uvicorn workers too), its
output in <root>/online/<endpoint>/<deployment>/<n>/server.log."""
from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from emulators.azure import children

log = logging.getLogger("azure_emulator.online")

SCORING_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 5.0
TAIL_BYTES = 16 * 1024


@dataclass(frozen=True)
class ServerSpec:
    """What a server serves and how it is started."""

    endpoint: str
    deployment: str
    model_name: str
    model_version: str
    python: Path  # the training environment's interpreter
    tracking_uri: str  # the backing MLflow server, where models:/<name>/<version> resolves
    folder: Path  # the server's working folder (its log goes there)


@dataclass
class ScoringServer:
    """A started `mlflow models serve` process; `ready` once it answered GET /ping."""

    spec: ServerSpec
    process: subprocess.Popen
    port: int
    log_path: Path
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started: float = field(default_factory=time.time)
    ready: bool = False
    stopped: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, spec: ServerSpec) -> "ScoringServer":
        """Start the process on a free port; OSError when it cannot be started."""
        spec.folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log_path = spec.folder / "server.log"
        args = [str(spec.python), "-m", "mlflow", "models", "serve",
                "-m", f"models:/{spec.model_name}/{spec.model_version}", "--env-manager", "local",
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--timeout", str(SCORING_TIMEOUT_SECONDS)]
        env = {**os.environ, "MLFLOW_TRACKING_URI": spec.tracking_uri, "PYTHONUNBUFFERED": "1",
               # mlflow starts `uvicorn` by name: the one next to the training environment's python
               "PATH": os.pathsep.join([str(spec.python.parent), os.environ.get("PATH", os.defpath)])}
        with open(log_path, "ab") as output:
            process = subprocess.Popen(args, env=env, cwd=spec.folder, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        children.add(process.pid, f"scoring {spec.endpoint}/{spec.deployment}")  # swept if the emulator is killed
        log.info("%s/%s: scoring server pid %d on port %d (models:/%s/%s), log %s", spec.endpoint,
                 spec.deployment, process.pid, port, spec.model_name, spec.model_version, log_path)
        return cls(spec, process, port, log_path)

    @property
    def exited(self) -> bool:
        return self.process.poll() is not None

    def check_ready(self) -> bool:
        """Whether the server answers GET /ping now (remembered once it did)."""
        if not self.ready and not self.exited and pings(self.port):
            self.ready = True
        return self.ready

    def failure(self) -> str:
        """Why the server is of no use: its exit code and log tail."""
        return f"the scoring server exited with code {self.process.returncode}; log tail:\n{self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - TAIL_BYTES))
                text = handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:]) or "(no log)"

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after a grace period; idempotent."""
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.process.pid, signal.SIGKILL)  # the workers too, even when the leader is gone
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("scoring server pid %d did not exit after SIGKILL", self.process.pid)
            return
        children.remove(self.process.pid)

    def summary(self) -> dict:
        return {"model": f"{self.spec.model_name}:{self.spec.model_version}", "pid": self.process.pid,
                "port": self.port, "instance_id": self.instance_id, "ready": self.ready,
                "running": not self.exited, "log": str(self.log_path)}


def pings(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except (http.client.HTTPException, OSError):
        return False
    finally:
        connection.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the server leads its own session: its group id is its pid
    except (ProcessLookupError, PermissionError):
        pass
