"""Function keys of the local host.

Keys come from the environment (the real host keeps them in its key store):
``LOCAL_HOST_FUNCTION_KEY`` opens function-level HTTP triggers, ``LOCAL_HOST_MASTER_KEY``
opens everything (function and admin level, admin API, Event Grid webhook) and
``LOCAL_HOST_EVENTGRID_KEY`` (optional) opens only the Event Grid webhook, like the real
``eventgrid_extension`` system key, and ``LOCAL_HOST_BLOBS_KEY`` (optional) only the blobs
webhook, like ``blobs_extension``. A key is sent as ``x-functions-key`` header or ``code``
query parameter. A level whose key is not configured admits nobody (fails closed).
"""
from __future__ import annotations

import hmac
import os
from typing import Mapping

FUNCTION_KEY_ENV = "LOCAL_HOST_FUNCTION_KEY"
MASTER_KEY_ENV = "LOCAL_HOST_MASTER_KEY"
EVENTGRID_KEY_ENV = "LOCAL_HOST_EVENTGRID_KEY"
BLOBS_KEY_ENV = "LOCAL_HOST_BLOBS_KEY"

ANONYMOUS, FUNCTION, ADMIN, EVENTGRID, BLOBS = "anonymous", "function", "admin", "eventgrid", "blobs"


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries (header wins over query)."""
    for name, value in headers.items():
        if name.lower() == "x-functions-key" and value:
            return value
    return query.get("code") or None


def accepted_keys(level: str, environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    names = {
        FUNCTION: [FUNCTION_KEY_ENV, MASTER_KEY_ENV],
        ADMIN: [MASTER_KEY_ENV],
        EVENTGRID: [EVENTGRID_KEY_ENV, MASTER_KEY_ENV],
        BLOBS: [BLOBS_KEY_ENV, MASTER_KEY_ENV],
    }.get(level, [MASTER_KEY_ENV])
    return [environ[n] for n in names if environ.get(n)]


def is_authorized(level: str, key: str | None, environ: Mapping[str, str] | None = None) -> bool:
    level = normalize_level(level)
    if level == ANONYMOUS:
        return True
    if not key:
        return False
    # Compare against every key without short-circuiting, so timing does not tell which matched.
    matches = [hmac.compare_digest(key.encode(), k.encode()) for k in accepted_keys(level, environ)]
    return any(matches)


def normalize_level(level: object) -> str:
    """AuthLevel enum, its value or None (= function, the decorator default) to a level name."""
    if level is None:
        return FUNCTION
    value = getattr(level, "value", level)
    return str(value).lower()
