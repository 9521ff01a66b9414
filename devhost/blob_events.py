"""The blobs extension's webhook (``/runtime/webhooks/blobs``) for ``source=EventGrid`` blob triggers.

Event Grid posts ``Microsoft.Storage.BlobCreated`` events to
``/runtime/webhooks/blobs?functionName=Host.Functions.<name>&code=<blobs_extension key>``. The
real host (Microsoft.Azure.WebJobs.Extensions.Storage.Blobs, ``BlobsExtensionConfigProvider``
and its ``HttpRequestProcessor``) answers by the ``aeg-event-type`` header:
``SubscriptionValidation`` → 200 ``{"validationResponse": <data.validationCode>}``;
``Notification`` → each event's ``data.url`` names the blob (container and name parsed from the
URL), the blob is queued for the function and the reply is 202 at once, before the function
runs; ``Unsubscribe`` → 202; anything else → 400.
"""
from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import unquote, urlsplit

from .eventgrid import Reply, header

log = logging.getLogger("devhost")

FUNCTION_ID_PREFIX = "Host.Functions."


@dataclass(frozen=True)
class BlobEvent:
    """The blob one event names."""

    container: str
    name: str


def function_name(function_id: str) -> str:
    """``Host.Functions.<name>`` (what Event Grid is given) → ``<name>``; a bare name stays as it is."""
    return function_id[len(FUNCTION_ID_PREFIX):] if function_id.startswith(FUNCTION_ID_PREFIX) else function_id


def blob_of(event: Mapping[str, Any]) -> BlobEvent:
    """The container and blob name of an Event Grid blob event (from ``data.url``); ValueError if it has none."""
    data = event.get("data")
    url = data.get("url") if isinstance(data, Mapping) else None
    if not isinstance(url, str) or not url:
        raise ValueError("event without data.url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("data.url is not a blob URL")
    segments = parts.path.lstrip("/").split("/")
    if _path_style(parts):
        segments = segments[1:]  # the account is the first segment
    container, name = segments[0] if segments else "", unquote("/".join(segments[1:]))
    if not container or not name:
        raise ValueError("data.url names no blob")
    return BlobEvent(container, name)


# Azure.Storage's BlobUriBuilder (the real host's parser): the account is the first path segment when the
# host is an IP address or the port is one of the storage emulators' (UriExtensions.IsHostIPEndPointStyle,
# Constants.Sas.PathStylePorts); otherwise it is the host's first label (…blob.core.windows.net,
# devstoreaccount1.blob.localhost:10200).
PATH_STYLE_PORTS = frozenset((*range(10000, 10005), *range(10100, 10105), *range(11000, 11005), *range(11100, 11105)))


def _path_style(parts) -> bool:
    try:
        ipaddress.ip_address(parts.hostname)
        return True
    except ValueError:
        return parts.port in PATH_STYLE_PORTS


def handle_post(headers: Mapping[str, str], body: bytes, enqueue: Callable[[BlobEvent], None]) -> Reply:
    """Answer one webhook POST; ``enqueue`` hands each named blob to the blob trigger (it must not wait for the run)."""
    event_type = (header(headers, "aeg-event-type") or "").strip().lower()
    if event_type == "unsubscribe":
        return Reply(202)
    if event_type not in ("subscriptionvalidation", "notification"):
        return Reply(400, {"error": "missing or unsupported aeg-event-type header"})
    try:
        payload = json.loads(body.decode("utf-8-sig") or "null")
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Reply(400, {"error": "body is not JSON"})
    events = payload if isinstance(payload, list) else [payload]
    if not events or not all(isinstance(e, Mapping) for e in events):
        return Reply(400, {"error": "body must be an event object or an array of event objects"})
    if event_type == "subscriptionvalidation":
        data = events[0].get("data")
        code = data.get("validationCode") if isinstance(data, Mapping) else None
        if not code:
            return Reply(400, {"error": "validation event without data.validationCode"})
        return Reply(200, {"validationResponse": code})
    try:
        blobs = [blob_of(event) for event in events]
    except ValueError as error:
        return Reply(400, {"error": str(error)})
    try:
        for blob in blobs:
            enqueue(blob)
    except Exception:  # noqa: BLE001 - storage unreachable: Event Grid retries on a 5xx (the scan also finds it)
        log.warning("Could not queue blob events for %s", [f"{b.container}/{b.name}" for b in blobs], exc_info=True)
        return Reply(503, {"error": "could not queue the blobs; retry"})
    return Reply(202)
