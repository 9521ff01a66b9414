"""Process helpers for whatever starts local servers and jobs (these adapters, the dev stack):
the repository root, a free port, a log's tail, and liveness and signals that a reused pid
cannot fool.

A pid recorded in a file may, once its process has ended, be given to an unrelated process.
The start time (from /proc, in clock ticks since boot) recorded next to the pid tells the two
apart: `alive` and `signal_group` take it.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
TAIL_BYTES = 64 * 1024


def training_python(value: str | Path) -> Path:
    """The training environment's interpreter LOCAL_TRAINING_PYTHON names (the app's composition root
    and the dev stack both resolve it here): as given when absolute, else under the app folder, never
    resolved (a venv's python is a symlink that finds its venv from its own path). SettingsError
    naming the variable when nothing runnable is there."""
    from shared.settings.errors import SettingsError

    path = Path(value).expanduser()
    path = path if path.is_absolute() else REPO_ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise SettingsError(f"LOCAL_TRAINING_PYTHON: no Python interpreter at {str(value)!r} (relative to the "
                            "app folder); `make setup` builds the training environment .venv-train")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file (read from its end); "" when there is no such file."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    if size > TAIL_BYTES:
        text = text[1:]  # the first line read is cut
    return "\n".join(text[-lines:])


def start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), or None when it is gone or unknown."""
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def alive(pid: int | None, pid_start: int | None = None) -> bool:
    """The process runs (not a zombie) and, when its start time is known, is the same process."""
    if not pid:
        return False
    if not _has_procfs():
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


def signal_group(pid: int, sig: int, pid_start: int | None = None) -> bool:
    """Signal the process group led by `pid` (the leader's children too), unless `pid` now
    belongs to another process; whether a process got the signal. A leader that has exited
    still has its group signalled: the kernel does not hand out a pid again while a group of
    that id has members."""
    stat = _proc_stat(pid) if pid_start is not None else None
    if stat is not None and stat[1] != pid_start:
        return False
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _has_procfs() -> bool:
    return Path("/proc/self/stat").exists()


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks) of a process, or None when there is none."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()
    return fields[0], int(fields[19])
