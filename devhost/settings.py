"""App settings, host.json and binding expressions."""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Mapping, MutableMapping

log = logging.getLogger("devhost")

_EXPRESSION = re.compile(r"%([^%\s]+)%")


def load_local_settings(path: Path) -> dict[str, str]:
    """The ``Values`` of a local.settings.json (empty when the file is missing)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    values = data.get("Values") or {}
    return {str(k): "" if v is None else str(v) for k, v in values.items()}


def apply_settings(values: Mapping[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Copy settings into the environment; variables already set win, as with `func start`.

    Returns the names it added, so they can be removed again on stop.
    """
    added = []
    for key, value in values.items():
        if key not in environ:
            environ[key] = value
            added.append(key)
    return added


def load_host_json(app_dir: Path) -> dict[str, Any]:
    path = app_dir / "host.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8-sig"))


def nested(config: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    """``nested(host_json, "extensions", "http", "routePrefix")`` with a default; keys match case-insensitively."""
    node: Any = config
    for key in keys:
        if not isinstance(node, Mapping):
            return default
        match = next((k for k in node if k.lower() == key.lower()), None)
        if match is None:
            return default
        node = node[match]
    return node


def resolve(text: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Replace ``%SETTING%`` binding expressions by app settings; unknown settings are an error."""
    if text is None:
        return None
    environ = os.environ if environ is None else environ

    def setting(match: re.Match) -> str:
        name = match.group(1)
        if name not in environ:
            raise KeyError(f"app setting {name!r} used in binding expression {text!r} is not set")
        return environ[name]

    return _EXPRESSION.sub(setting, text)


def storage_connection_string(connection: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The connection string a binding's ``connection`` names (default ``AzureWebJobsStorage``)."""
    environ = os.environ if environ is None else environ
    return environ[connection_setting_name(connection, environ, required=True)]


def connection_setting_name(connection: str | None, environ: Mapping[str, str] | None = None,
                            required: bool = False) -> str:
    """The app setting a binding's ``connection`` resolves to: the name itself or ``AzureWebJobs<name>``.

    When neither is set, the name as given (or KeyError if ``required``): SDK-type bindings then
    look for identity-based settings (``<name>__blobServiceUri``) themselves.
    """
    environ = os.environ if environ is None else environ
    name = connection or "AzureWebJobsStorage"
    for candidate in (name, f"AzureWebJobs{name}"):
        if environ.get(candidate):
            return candidate
    if required:
        raise KeyError(f"connection setting {name!r} is not set")
    return name


def is_truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def timespan_seconds(value: Any, name: str) -> float:
    """A host.json TimeSpan (``"[d.]hh:mm:ss[.fff]"``) in seconds; a bare number is milliseconds (v1 style)."""
    if isinstance(value, bool):
        raise ValueError(f"host.json {name}: expected a TimeSpan like '00:00:30', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value) / 1000.0
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)", str(value).strip())
    if not match:
        raise ValueError(f"host.json {name}: expected a TimeSpan like '00:00:30', got {value!r}")
    days, hours, minutes, seconds = match.groups()
    return ((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + float(seconds)
