"""The process groups the emulator started (job processes, scoring servers), recorded in
<root>/children.json so that whoever stops the emulator from outside (AzureStack.stop,
`python -m devstack.azure_stack --down`) can end what it left behind when the emulator itself
was killed before its own stop ended them.

Each child runs in a session of its own (its group id is its pid). Parts call `add(pid, name)`
once the process started and `remove(pid)` once its group is gone (`add` also drops groups with
no member left, so a part that never removes keeps the file short); both do nothing until the
backbone `install`s the root (in-process tests without a root record nothing). Each entry keeps
the leader's start time, so a pid the kernel has given to another process is never signalled.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

FILE_NAME = "children.json"

_lock = threading.Lock()
_root: list[Path] = []  # the installed root (none, or one)


def install(root: Path) -> Path:
    """Record children in `root`/children.json from now on (the backbone calls this at build)."""
    with _lock:
        _root[:] = [Path(root)]
    return Path(root) / FILE_NAME


def add(pid: int, name: str) -> None:
    """Record the process group led by `pid` (a child started in its own session)."""
    with _lock:
        if not _root:
            return
        entries = {key: entry for key, entry in _read(_root[0]).items() if _has_members(entry["pgid"])}
        entries[str(pid)] = {"pgid": pid, "name": name, "start_time": start_time(pid)}
        _write(_root[0], entries)


def remove(pid: int) -> None:
    """Forget the group led by `pid` (it has been ended)."""
    with _lock:
        if not _root:
            return
        entries = _read(_root[0])
        if entries.pop(str(pid), None) is not None:
            _write(_root[0], entries)


def recorded(root: Path) -> list[dict]:
    """The groups recorded in `root`/children.json: [{"pgid", "name", "start_time"}]."""
    return list(_read(Path(root)).values())


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc), None when unknown."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rfind(")") + 2:].split()[19])


def _has_members(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _read(root: Path) -> dict[str, dict]:
    try:
        entries = json.loads((root / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _write(root: Path, entries: dict[str, dict]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f"{FILE_NAME}.tmp"
    temporary.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    os.replace(temporary, root / FILE_NAME)  # a reader never sees half a file
