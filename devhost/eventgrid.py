"""The Event Grid webhook (``/runtime/webhooks/eventgrid``) and event conversion."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

import azure.functions as func

CLOUD_EVENT_KNOWN = {"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "dataschema", "data"}


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    # .NET writes 7 fractional digits; Python takes at most 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def is_cloud_event(element: Any) -> bool:
    return isinstance(element, Mapping) and "specversion" in element


def to_trigger_value(element: Mapping[str, Any], annotation: Any = None) -> Any:
    """An Event Grid or CloudEvents JSON object as the value the function receives.

    A function annotated with ``func.CloudEvent`` gets CloudEvents as such; otherwise
    every event is an ``EventGridEvent`` (CloudEvent fields mapped: type→event_type,
    source→topic, time→event_time, specversion→data_version).
    """
    if is_cloud_event(element):
        if annotation is func.CloudEvent:
            extensions = {k: v for k, v in element.items() if k not in CLOUD_EVENT_KNOWN}
            return func.CloudEvent(
                id=element.get("id"),
                source=element.get("source"),
                type=element.get("type"),
                specversion=element.get("specversion"),
                time=parse_time(element.get("time")),
                subject=element.get("subject"),
                datacontenttype=element.get("datacontenttype"),
                dataschema=element.get("dataschema"),
                data=element.get("data"),
                **extensions,
            )
        return func.EventGridEvent(
            id=element.get("id"),
            data=element.get("data"),
            topic=element.get("source"),
            subject=element.get("subject"),
            event_type=element.get("type"),
            event_time=parse_time(element.get("time")),
            data_version=element.get("specversion"),
        )
    return func.EventGridEvent(
        id=element.get("id"),
        data=element.get("data"),
        topic=element.get("topic"),
        subject=element.get("subject"),
        event_type=element.get("eventType"),
        event_time=parse_time(element.get("eventTime")),
        data_version=element.get("dataVersion"),
    )


def handle_options(headers: Mapping[str, str]) -> Reply:
    """CloudEvents webhook validation (abuse protection handshake)."""
    origin = header(headers, "WebHook-Request-Origin")
    if not origin:
        return Reply(400, {"error": "missing WebHook-Request-Origin header"})
    return Reply(200, None, {"WebHook-Allowed-Origin": origin, "Allow": "POST, OPTIONS"})


def handle_post(headers: Mapping[str, str], body: bytes, deliver: Callable[[Mapping[str, Any]], bool]) -> Reply:
    """Answer one webhook POST; ``deliver(element)`` runs one invocation and says whether it succeeded."""
    try:
        payload = json.loads(body.decode("utf-8-sig") or "null")
    except (UnicodeDecodeError, ValueError, RecursionError):  # nesting too deep, a number too long
        return Reply(400, {"error": "body is not JSON"})
    elements = payload if isinstance(payload, list) else [payload]
    if not elements or not all(isinstance(e, Mapping) for e in elements):
        return Reply(400, {"error": "body must be an event object or an array of event objects"})

    event_type = (header(headers, "aeg-event-type") or "").strip().lower()
    if event_type == "subscriptionvalidation":
        data = elements[0].get("data") or {}
        code = data.get("validationCode") if isinstance(data, Mapping) else None
        if not code:
            return Reply(400, {"error": "validation event without data.validationCode"})
        return Reply(200, {"validationResponse": code})
    if event_type != "notification" and not (event_type == "" and all(map(is_cloud_event, elements))):
        return Reply(400, {"error": "missing or unsupported aeg-event-type header"})

    results = [deliver(element) for element in elements]
    return Reply(202) if all(results) else Reply(500, {"error": "one or more events failed"})


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by name, case-insensitive (None when absent)."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
