"""Start, wait for and stop the local stack's processes.

Each component is a real server process whose output goes to a log file; the
launchers return a `ManagedProcess` that the caller stops (tests in a fixture,
`make up` on Ctrl-C). Processes run in their own session so that stopping one
also stops the children it spawned (MLflow's workers, uvicorn, ...).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

# REPO_ROOT and free_port are imported from here by the dev tools, tests and benchmarks.
from shared.adapters.local_ml.processes import REPO_ROOT, free_port, signal_group, start_time, tail

PYTHON = sys.executable  # the app's environment: the local host, the router
TRAINING_PYTHON = "LOCAL_TRAINING_PYTHON"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def azurite_connection_string(blob_port: int, queue_port: int | None = None) -> str:
    parts = [
        "DefaultEndpointsProtocol=http",
        f"AccountName={AZURITE_ACCOUNT}",
        f"AccountKey={AZURITE_KEY}",
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/{AZURITE_ACCOUNT}",
    ]
    if queue_port:
        parts.append(f"QueueEndpoint=http://127.0.0.1:{queue_port}/{AZURITE_ACCOUNT}")
    return ";".join(parts) + ";"


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class StartupError(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    name: str
    process: subprocess.Popen
    log_path: Path
    ready_url: str | None = None
    _log_file: object = field(default=None, repr=False)
    stop_timeout: float = 10.0
    start_time: int | None = None  # of the process, so that a reused pid is never signalled

    def wait_ready(self, timeout: float = 60.0) -> "ManagedProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(
                    f"{self.name} exited with code {self.process.returncode}; "
                    f"last log lines:\n{self.log_tail()}"
                )
            if self.ready_url and _answers(self.ready_url):
                return self
            time.sleep(0.2)
        self.stop()
        raise StartupError(f"{self.name} not ready after {timeout:.0f}s; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return tail(self.log_path, lines) or "(no log)"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float | None = None) -> None:
        timeout = self.stop_timeout if timeout is None else timeout
        if self.process.poll() is None:
            signal_group(self.process.pid, signal.SIGTERM, self.start_time)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.process.pid, signal.SIGKILL, self.start_time)
                self.process.wait(timeout=5)
        else:
            # The leader is gone, but children of its session may still run.
            signal_group(self.process.pid, signal.SIGKILL, self.start_time)
        if self._log_file:
            self._log_file.close()
            self._log_file = None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def start_process(
    name: str,
    args: list[str],
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    ready_url: str | None = None,
) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "ab")
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return ManagedProcess(name, process, log_path, ready_url, log_file, start_time=start_time(process.pid))


def start_azurite(data_dir: Path, log_dir: Path, blob_port: int = 10000, queue_port: int = 10001) -> ManagedProcess:
    binary = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise StartupError(f"{binary} is missing: run `npm ci` (or `make setup`) first")
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(binary),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--location", str(data_dir),
        "--blobHost", "127.0.0.1", "--blobPort", str(blob_port),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue_port),
        "--tableHost", "127.0.0.1", "--tablePort", "0",
    ]
    process = start_process(
        "azurite", args, log_dir,
        ready_url=f"http://127.0.0.1:{blob_port}/{AZURITE_ACCOUNT}?comp=list",
    )
    # Azurite's graceful stop waits for every client keep-alive connection to close.
    process.stop_timeout = 3.0
    return process


# How long the MLflow server may deliver a model event to the webhooks it listed before: a webhook
# created less than this before an event can miss it.
WEBHOOK_CACHE_TTL_SECONDS = 1


def mlflow_server_env(webhook_encryption_key: str) -> dict[str, str]:
    return {
        "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": webhook_encryption_key,
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        # The server caches its webhook list (60 s by default): a webhook registered or
        # re-keyed after the first model event would otherwise be ignored for a minute.
        "MLFLOW_WEBHOOK_CACHE_TTL": str(WEBHOOK_CACHE_TTL_SECONDS),
    }


def training_python(values: Mapping[str, str] | None = None) -> Path:
    """The training environment's interpreter, as the app resolves LOCAL_TRAINING_PYTHON (from
    `values`, else this process's environment, else its declared default); SettingsError naming
    the variable when there is none."""
    from shared.adapters.local_ml.processes import training_python as resolve
    from shared.settings.declaration import BY_NAME

    values = os.environ if values is None else values
    return resolve(values.get(TRAINING_PYTHON) or BY_NAME[TRAINING_PYTHON].default)


def start_mlflow(data_dir: Path, log_dir: Path, port: int = 5000, webhook_encryption_key: str | None = None,
                 python: Path | None = None) -> ManagedProcess:
    """The MLflow tracking server and registry (full mlflow: the training environment's, as the app has
    MLflow's client only)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = webhook_encryption_key or os.environ.get("MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY") or _fernet_key(data_dir)
    args = [
        str(python or training_python()), "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{data_dir / 'mlflow.db'}",
        "--artifacts-destination", str(data_dir / "artifacts"),
        "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]
    return start_process(
        "mlflow", args, log_dir, env=mlflow_server_env(key),
        ready_url=f"http://127.0.0.1:{port}/health",
    )


def _fernet_key(data_dir: Path) -> str:
    """One Fernet key per MLflow data folder, so stored webhook secrets stay readable across restarts."""
    key_file = data_dir / "webhook-encryption.key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        key_file.write_text(Fernet.generate_key().decode())
    return key_file.read_text().strip()


def start_endpoint_router(state_dir: Path, log_dir: Path, port: int, key: str) -> ManagedProcess:
    """The local online endpoint: routes scoring requests to the deployments' MLflow scoring servers."""
    state_dir.mkdir(parents=True, exist_ok=True)
    process = start_process(
        "endpoint-router",
        [PYTHON, "-m", "emulators.local_ml.endpoint_router", "--state-dir", str(state_dir), "--port", str(port)],
        log_dir,
        env={"LOCAL_ENDPOINT_KEY": key, "PYTHONPATH": str(REPO_ROOT)},  # the router reads its key from the environment
        ready_url=f"http://127.0.0.1:{port}/health",
    )
    process.stop_timeout = 5.0
    return process


class StackProcesses:
    """What a stack (a dataclass with `root`, `processes`, `ports.host`, `log_dir` and `app_env()`) does with
    the processes it starts: add them in order, find one that exited, stop them in reverse, record their pids
    in <root>/stack.pids for `--down` from another shell."""

    root: Path
    processes: list[ManagedProcess]

    def start_host(self, port: int | None = None, name: str = "functions-host") -> ManagedProcess:
        """A local Functions host serving the app with the stack's app settings (`app_env()`); another one
        on `port`: two hosts on one storage."""
        port = port or self.ports.host
        host = start_process(
            name, [PYTHON, "-m", "devhost", "--app-dir", str(REPO_ROOT), "--port", str(port)],
            self.log_dir, env={**self.app_env(), "PYTHONUNBUFFERED": "1"},
            ready_url=f"http://127.0.0.1:{port}/admin/host/status",
        )
        return self._add(host).wait_ready(60)

    def kill_host(self, name: str = "functions-host") -> None:
        """SIGKILL the host, as a crash would: nothing it was doing gets to finish."""
        host = next(p for p in self.processes if p.name == name)
        host.process.kill()
        host.process.wait(10)
        self.processes.remove(host)

    def failed(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.running()), None)

    def _add(self, process: ManagedProcess) -> ManagedProcess:
        self.processes.append(process)
        return process

    def _stop_processes(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def _pid_file(self) -> Path:
        return self.root / "stack.pids"

    def _write_pids(self) -> None:
        self._pid_file().write_text(json.dumps(
            {p.name: {"pid": p.process.pid, "start_time": p.start_time} for p in self.processes}))

    def run_until_interrupted(self) -> int:
        """Watch the started stack until Ctrl-C (0) or one of its processes exits (1, with its log
        tail); stop everything either way."""
        try:
            while True:
                failed = self.failed()
                if failed:
                    print(f"{failed.name} exited; last log lines:\n{failed.log_tail()}", file=sys.stderr)
                    return 1
                time.sleep(1)
        except KeyboardInterrupt:
            print("stopping ...")
            return 0
        finally:
            self.stop()

