"""Notifier for a Microsoft Teams Workflows webhook ("When a Teams webhook request is received").

The message is one Adaptive Card (version 1.4): a title, the text, the facts, a side-by-side
comparison table (one ColumnSet per row, one Column per table column) and one Action.OpenUrl
per link. Action.Submit does not work through Workflows webhooks, so decisions are links
(which must only show a page: previewers and scanners open them; docs/platform-facts.md#teams-links).

Teams refuses messages over about 28 KB: long texts, values and cells are cut with an ellipsis,
and the card is shrunk further until its JSON is under `MAX_PAYLOAD_BYTES`.

The webhook URL carries a signature and the links carry signed tokens: neither is ever logged.
Delivery failures are logged and fall back to `LogNotifier`; `notify` never raises.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from shared.adapters.notifiers import LogNotifier
from shared.ports import Notification

log = logging.getLogger("notifications")

CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
TEAMS_LIMIT_BYTES = 28 * 1024
MAX_PAYLOAD_BYTES = 24 * 1024  # well under the Teams limit: leaves room for Teams' own envelope
MAX_URL_CHARS = 2048
MAX_ACTIONS = 6
ELLIPSIS = "…"


@dataclass(frozen=True)
class _Limits:
    title: int
    text: int
    fact_title: int
    fact_value: int
    facts: int
    rows: int
    columns: int
    cell: int


# Tried in order until the payload fits; the last one fits whatever the input (URLs are capped).
_LIMITS = (
    _Limits(title=200, text=4000, fact_title=80, fact_value=500, facts=30, rows=30, columns=6, cell=80),
    _Limits(title=150, text=2000, fact_title=60, fact_value=200, facts=20, rows=20, columns=6, cell=50),
    _Limits(title=120, text=1000, fact_title=40, fact_value=100, facts=12, rows=12, columns=5, cell=30),
    _Limits(title=100, text=400, fact_title=30, fact_value=60, facts=6, rows=6, columns=4, cell=20),
    _Limits(title=80, text=200, fact_title=20, fact_value=40, facts=3, rows=0, columns=0, cell=0),
)


def _cut(value, limit: int) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def _text_block(text: str, **extra) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _style(label: str) -> str | None:
    lowered = label.strip().lower()
    if lowered.startswith("approve"):
        return "positive"
    if lowered.startswith("reject"):
        return "destructive"
    return None


def _usable_url(url: str) -> bool:
    """An absolute http(s) URL of printable ASCII without characters JSON or URLs would escape."""
    return (url.startswith(("https://", "http://")) and len(url) <= MAX_URL_CHARS
            and url.isascii() and url.isprintable() and not any(c in url for c in ' "\\<>'))


def _actions(links: dict) -> list[dict]:
    actions = []
    for label, url in (links or {}).items():
        url = str(url)
        if not _usable_url(url):
            # Never log the URL itself: it carries a signed token.
            log.warning("notification link %r left out: not an http(s) URL of at most %d characters",
                        _cut(label, 40), MAX_URL_CHARS)
            continue
        if len(actions) == MAX_ACTIONS:
            log.warning("notification has more than %d links; the rest are left out", MAX_ACTIONS)
            break
        title = _cut(label, 40)
        action = {"type": "Action.OpenUrl", "title": title, "url": url}
        style = _style(title)
        if style:
            action["style"] = style
        actions.append(action)
    return actions


def _facts(facts: dict, limits: _Limits) -> list[dict]:
    items = list((facts or {}).items())
    shown = [{"title": _cut(k, limits.fact_title), "value": _cut(v, limits.fact_value)}
             for k, v in items[: limits.facts]]
    if len(items) > limits.facts:
        shown.append({"title": ELLIPSIS, "value": f"{len(items) - limits.facts} more"})
    return shown


def _table(table, limits: _Limits) -> list[dict]:
    rows = [list(row) if isinstance(row, (list, tuple)) else [row] for row in (table or ())]
    if not rows or limits.rows == 0:
        return []
    # The header row names the columns; without one, the widest row decides.
    width = min(len(rows[0]) or max(len(row) for row in rows), limits.columns)
    if width == 0:
        return []
    more_rows = len(rows) - 1 - limits.rows  # the header is always shown
    rows = rows[: limits.rows + 1]
    elements = []
    for index, row in enumerate(rows):
        cells = (row + [""] * width)[:width]
        header = index == 0
        columns = []
        for position, cell in enumerate(cells):
            block = {"type": "TextBlock", "text": _cut(cell, limits.cell) if cell is not None else "", "wrap": True}
            if header:
                block["weight"] = "Bolder"
            if position > 0:
                block["horizontalAlignment"] = "Right"
            columns.append({"type": "Column", "width": "stretch", "items": [block]})
        element = {"type": "ColumnSet", "columns": columns, "spacing": "Small"}
        if header:
            element["separator"] = True
            element["spacing"] = "Medium"
        elements.append(element)
    if more_rows > 0:
        elements.append(_text_block(f"{ELLIPSIS} {more_rows} more rows", isSubtle=True, size="Small"))
    return elements


def _card(notification: Notification, limits: _Limits) -> dict:
    body = [_text_block(_cut(notification.title, limits.title), size="Large", weight="Bolder")]
    if notification.text:
        body.append(_text_block(_cut(notification.text, limits.text)))
    facts = _facts(notification.facts, limits)
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    if notification.table:
        body.extend(_table(notification.table, limits))
    return {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "actions": _actions(notification.links),
    }


def message(card: dict) -> dict:
    """The Workflows webhook envelope around one Adaptive Card."""
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}]}


def encode(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def payload_size(payload: dict) -> int:
    """A conservative size: the ASCII-escaped JSON, never smaller than the UTF-8 bytes we send."""
    return len(json.dumps(payload))


def adaptive_card(notification: Notification) -> dict:
    """The Adaptive Card for a notification, shrunk until the whole message is under MAX_PAYLOAD_BYTES."""
    card = None
    for limits in _LIMITS:
        card = _card(notification, limits)
        if payload_size(message(card)) <= MAX_PAYLOAD_BYTES:
            return card
    return card  # the smallest form: bounded by its limits (≤ 6 links of ≤ 2048 characters)


class TeamsNotifier:
    """Posts each notification as an Adaptive Card to a Teams Workflows webhook; never raises."""

    def __init__(self, webhook_url: str, timeout: float = 5.0):
        self._url = webhook_url
        self.timeout = timeout

    def __repr__(self) -> str:
        return "TeamsNotifier(webhook_url=<hidden>)"

    def notify(self, notification: Notification) -> None:
        try:
            body = encode(message(adaptive_card(notification)))
            request = urllib.request.Request(
                self._url, body, {"Content-Type": "application/json; charset=utf-8"}, method="POST",
            )
            with urllib.request.urlopen(request, timeout=self.timeout):
                pass
        except Exception as error:  # noqa: BLE001 - best effort by contract: log, fall back, never raise
            # The webhook URL carries a signature: log only the failure kind (and HTTP status), never the URL.
            status = f" HTTP {error.code}" if isinstance(error, urllib.error.HTTPError) else ""
            log.error("teams notification %s could not be delivered (%s%s)",
                      notification.kind, error.__class__.__name__, status)
            try:
                LogNotifier().notify(notification)
            except Exception:  # noqa: BLE001
                log.error("teams notification %s could not be logged either", notification.kind)
