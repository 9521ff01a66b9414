"""Injected failures: a registry the parts consult (`context.faults.take(kind, **attrs)`) and the
control API that fills it (POST/GET/DELETE /_emulator/faults).

A fault is {"kind", "match": {...}, "times": N, ...kind-specific fields}. `match` keys compare
with the attributes a part passes to `take`: "path" is a regex searched in the request path,
"host" a regex matched in full, anything else equal (case-insensitive). A fault without "times"
stays until deleted. The generic "http" kind ({"status", "headers", "body"}) answers a request
instead of routing it (`http_hook`).
"""
from __future__ import annotations

import copy
import re
import threading
import uuid
from typing import Any

from emulators.azure.http import HttpError, Request, Response, Router

KINDS = {"http", "token_expired", "deployment_failed", "eventgrid_timeout", "eventgrid_unreachable", "job_failed"}
REGEX_KEYS = {"path": "search", "host": "fullmatch"}


class Faults:
    """The thread-safe fault registry (`context.faults`)."""

    def __init__(self) -> None:
        self._faults: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, fault: dict[str, Any]) -> dict[str, Any]:
        """Register a fault (validated); the stored copy, with its id."""
        fault = _validated(fault)
        with self._lock:
            self._faults.append(fault)
            return copy.deepcopy(fault)

    def take(self, kind: str, **attrs: Any) -> dict[str, Any] | None:
        """The first fault of `kind` matching `attrs`, one use of it consumed; None when none applies."""
        with self._lock:
            for fault in self._faults:
                if fault["kind"] != kind or not _matches(fault["match"], attrs):
                    continue
                if fault.get("times") is not None:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self._faults.remove(fault)
                fault["taken"] = fault.get("taken", 0) + 1
                return copy.deepcopy(fault)
        return None

    def pending(self) -> list[dict[str, Any]]:
        """The faults not used up yet."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def clear(self, kind: str | None = None, fault_id: str | None = None) -> int:
        """Remove all faults (or those of `kind`, or the one with `fault_id`); how many went."""
        with self._lock:
            keep = [f for f in self._faults if (kind and f["kind"] != kind) or (fault_id and f["id"] != fault_id)]
            removed = len(self._faults) - len(keep)
            self._faults = keep
            return removed


def _validated(fault: Any) -> dict[str, Any]:
    if not isinstance(fault, dict) or fault.get("kind") not in KINDS:
        raise HttpError(400, "InvalidFault", f"A fault needs a 'kind', one of {sorted(KINDS)}.")
    match = fault.get("match") or {}
    times = fault.get("times")
    if not isinstance(match, dict) or (times is not None and (not isinstance(times, int) or times < 1)):
        raise HttpError(400, "InvalidFault", "'match' must be an object and 'times' a positive integer.")
    for key, how in REGEX_KEYS.items():
        if key in match:
            try:
                re.compile(str(match[key]))
            except re.error as error:
                raise HttpError(400, "InvalidFault", f"match.{key} is not a regular expression: {error}")
    if fault["kind"] == "http" and not isinstance(fault.get("status"), int):
        raise HttpError(400, "InvalidFault", "An 'http' fault needs an integer 'status'.")
    return {**copy.deepcopy(fault), "match": dict(match), "id": fault.get("id") or uuid.uuid4().hex[:12]}


def _matches(match: dict[str, Any], attrs: dict[str, Any]) -> bool:
    for key, expected in match.items():
        actual = attrs.get(key)
        if actual is None:
            return False
        if key in REGEX_KEYS:
            finder = getattr(re.compile(str(expected), re.I), REGEX_KEYS[key])
            if not finder(str(actual)):
                return False
        elif str(actual).lower() != str(expected).lower():
            return False
    return True


def http_hook(faults: Faults):
    """The before-hook answering requests that an "http" fault matches (never the control API)."""

    def hook(request: Request) -> Response | None:
        if request.path.startswith("/_emulator"):
            return None
        fault = faults.take("http", method=request.method, path=request.path, host=request.host)
        if fault is None:
            return None
        body = fault.get("body")
        if body is None and fault["status"] >= 400:
            body = {"error": {"code": "InjectedFault", "message": f"Injected fault {fault['id']}."}}
        return Response(fault["status"], body, {str(k): str(v) for k, v in (fault.get("headers") or {}).items()})

    return hook


def register_control(router: Router, faults: Faults) -> None:
    """POST /_emulator/faults (add), GET (what is left), DELETE (all, ?kind=, or /{id})."""

    def add(request: Request) -> Response:
        return Response(201, faults.add(request.json()))

    def listing(request: Request) -> Response:
        return Response(200, {"value": faults.pending()})

    def clear(request: Request) -> Response:
        removed = faults.clear(kind=request.query.get("kind"), fault_id=request.params.get("id"))
        return Response(200, {"removed": removed})

    router.route("POST", r"/_emulator/faults/?", add)
    router.route("GET", r"/_emulator/faults/?", listing)
    router.route("DELETE", r"/_emulator/faults/?", clear)
    router.route("DELETE", r"/_emulator/faults/(?P<id>[^/]+)", clear)
