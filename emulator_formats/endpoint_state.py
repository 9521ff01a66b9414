"""An online endpoint's state folder: written by the app's local endpoint adapter, read by the
endpoint router emulator (which also writes the captures).

    <state dir>/<endpoint>/endpoint.json                                 the endpoint's state (below)
    <state dir>/<endpoint>/captures/<deployment>/<YYYY-MM-DDTHH>.csv     inputs of the live traffic a
                                                                         deployment served in that hour (UTC)

A captures file is CSV, header first (the columns of the first request captured in it), and
only grows: rows are appended, whole lines at a time, as Azure ML's data collector rolls its
files per hour (docs/platform-facts.md#data-collection).

endpoint.json, replaced atomically (temporary file + rename) so that readers need no lock:

    {"name": <endpoint>, "revision": <+1 on every write>,
     "traffic": {<deployment>: <live percent>},      every deployment, 0 included
     "mirror_traffic": {<deployment>: <percent>},    at most one deployment, only when > 0
     "deployments": {<deployment>: {
         "model_name", "model_version", "state",     Creating, Succeeded, Failed or Deleting
         "port", "pid", "pid_start",                 its scoring server (None while it has none)
         "log", "error",                             the server's log file; why it failed
         "pending": {"port", "pid", "pid_start", "log", "model_name", "model_version"}
     }}}                                             a replacement server still starting (an update)
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

STATE_FILE = "endpoint.json"
CAPTURES_FOLDER = "captures"
CAPTURE_HOUR_FORMAT = "%Y-%m-%dT%H"
_CAPTURE_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2})\.csv")


def state_file(state_dir: Path, endpoint: str) -> Path:
    return state_dir / endpoint / STATE_FILE


def captures_folder(state_dir: Path, endpoint: str, deployment: str) -> Path:
    return state_dir / endpoint / CAPTURES_FOLDER / deployment


def capture_file_name(at: datetime) -> str:
    """The name of the captures file of the hour (UTC) that `at` falls in."""
    return f"{at.astimezone(timezone.utc).strftime(CAPTURE_HOUR_FORMAT)}.csv"


def capture_hour(name: str) -> datetime | None:
    """The start of the hour (UTC) a captures file covers; None for a name that is not one."""
    match = _CAPTURE_NAME.fullmatch(name)
    if not match:
        return None
    try:
        return datetime.strptime(match[1], CAPTURE_HOUR_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def new_endpoint(endpoint: str) -> dict:
    """The state of an endpoint with no deployments and no traffic."""
    return {"name": endpoint, "revision": 1, "traffic": {}, "mirror_traffic": {}, "deployments": {}}


def new_deployment(model_name: str, model_version: str, state: str) -> dict:
    """A deployment entry with no scoring server yet."""
    return {"model_name": model_name, "model_version": model_version, "port": None, "pid": None,
            "pid_start": None, "state": state}


@dataclass(frozen=True)
class Routing:
    """What of an endpoint's state decides where a scoring request goes."""

    ports: dict  # deployment → its scoring server's port (None while it has none)
    live: dict  # deployment → live weight, for the deployments with a positive weight
    mirror: tuple | None  # (deployment, percent) that gets copies of un-named requests


def routing(state: dict) -> Routing:
    """The routing of a parsed endpoint.json; weights of unknown deployments are ignored."""
    deployments = state.get("deployments", {})
    live = {name: p for name, p in state.get("traffic", {}).items() if p > 0 and name in deployments}
    mirror = [(name, p) for name, p in state.get("mirror_traffic", {}).items() if p > 0 and name in deployments]
    return Routing(
        ports={name: entry.get("port") for name, entry in deployments.items()},
        live=live,
        mirror=mirror[0] if mirror else None,
    )
