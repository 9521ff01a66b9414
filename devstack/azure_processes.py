"""The Azure emulator stack's own launchers: Azurite in HTTPS + OAuth mode, the emulator process,
and waiting for a server that answers only over TLS verified with the emulator's CA; and the
stopping of what a stack left: its recorded processes (`--down`) and the emulator's children."""
from __future__ import annotations

import json
import signal
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

from devstack.processes import AZURITE_ACCOUNT, PYTHON, REPO_ROOT, ManagedProcess, StartupError, start_process
from emulators.azure import children as emulator_children
from shared.adapters.local_ml.processes import alive, signal_group


EMULATOR_STOP_SECONDS = 60.0


def start_azurite_https(data_dir: Path, log_dir: Path, blob_port: int, queue_port: int, cert: Path, key: Path,
                        ca_file: Path) -> ManagedProcess:
    """Azurite serving HTTPS with our certificate and accepting bearer tokens (`--oauth basic`);
    production-style hosts (<account>.blob.localhost:<port>) name the account."""
    binary = REPO_ROOT / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise StartupError(f"{binary} is missing: run `npm ci` (or `make setup`) first")
    data_dir.mkdir(parents=True, exist_ok=True)
    process = start_process("azurite", [
        str(binary), "--silent", "--skipApiVersionCheck", "--loose", "--location", str(data_dir),
        "--blobHost", "127.0.0.1", "--blobPort", str(blob_port),
        "--queueHost", "127.0.0.1", "--queuePort", str(queue_port),
        "--tableHost", "127.0.0.1", "--tablePort", "0",
        "--cert", str(cert), "--key", str(key), "--oauth", "basic",
    ], log_dir)
    process.stop_timeout = 3.0  # its graceful stop waits for every keep-alive connection
    return wait_https(process, f"https://127.0.0.1:{blob_port}/{AZURITE_ACCOUNT}?comp=list", ca_file, 60)


def start_emulator(config_file: Path, base_url: str, log_dir: Path, env: dict[str, str],
                   ca_file: Path) -> ManagedProcess:
    """`python -m emulators.azure --config <file>`, ready when /_emulator/health answers 200."""
    process = start_process(
        "azure-emulator", [PYTHON, "-m", "emulators.azure", "--config", str(config_file)], log_dir,
        env={**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT)})
    # Its stop ends jobs and scoring servers, each with a grace period: killed sooner it would orphan them.
    process.stop_timeout = EMULATOR_STOP_SECONDS
    return wait_https(process, f"{base_url}/_emulator/health", ca_file, 90, ok_only=True)


def wait_https(process: ManagedProcess, url: str, ca_file: Path, timeout: float, ok_only: bool = False) -> ManagedProcess:
    """Wait until `url` answers over TLS verified with `ca_file` (< 500, or 200 only when `ok_only`)."""
    deadline = time.monotonic() + timeout
    context = ssl.create_default_context(cafile=str(ca_file))
    while time.monotonic() < deadline:
        if not process.running():
            raise StartupError(f"{process.name} exited with code {process.process.returncode}; "
                               f"last log lines:\n{process.log_tail()}")
        status = https_status(url, context)
        if status is not None and (status == 200 if ok_only else status < 500):
            return process
        time.sleep(0.2)
    process.stop()
    raise StartupError(f"{process.name} not ready after {timeout:.0f}s; log:\n{process.log_tail()}")


def https_status(url: str, context: ssl.SSLContext) -> int | None:
    """The status `url` answers with; None when it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def kill_children(emulator_root: Path) -> list[str]:
    """SIGKILL the process groups the emulator recorded in children.json and has not ended (it
    was killed before its stop finished); the file goes. The names of the groups signalled."""
    killed = [child["name"] for child in emulator_children.recorded(emulator_root)
              if signal_group(child["pgid"], signal.SIGKILL, child.get("start_time"))]
    (emulator_root / emulator_children.FILE_NAME).unlink(missing_ok=True)
    return killed


def stop_recorded_stack(root: Path) -> int:
    """`--down`: SIGTERM the recorded processes, wait for them (the emulator ends its jobs and
    scoring servers meanwhile), SIGKILL what is left, then the emulator's leftover children."""
    pid_file = root / "stack.pids"
    if not pid_file.exists():
        print("no Azure emulator stack is recorded as running")
        return 0
    recorded = json.loads(pid_file.read_text())
    for name, entry in recorded.items():
        if signal_group(entry["pid"], signal.SIGTERM, entry["start_time"]):
            print(f"stopping {name} (pid {entry['pid']})")
    deadline = time.monotonic() + EMULATOR_STOP_SECONDS
    while any(alive(e["pid"], e["start_time"]) for e in recorded.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for name, entry in recorded.items():
        if alive(entry["pid"], entry["start_time"]) and signal_group(entry["pid"], signal.SIGKILL, entry["start_time"]):
            print(f"killed {name} (pid {entry['pid']}): it did not stop in time")
    for name in kill_children(root / "emulator"):
        print(f"killed {name}, left running by the emulator")
    pid_file.unlink()
    return 0
