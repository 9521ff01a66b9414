"""Notifier adapters: a generic JSON webhook, or the log when no webhook is set."""
from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import asdict

from shared.ports import Notification

log = logging.getLogger("notifications")


class LogNotifier:
    def notify(self, notification: Notification) -> None:
        log.warning("[%s] %s: %s %s", notification.kind, notification.title, notification.text,
                    json.dumps(notification.facts, default=str))


class WebhookNotifier:
    """POSTs the notification as JSON; failures are logged, never raised."""

    def __init__(self, url: str, timeout: float = 5.0):
        self._url = url
        self.timeout = timeout

    def notify(self, notification: Notification) -> None:
        body = json.dumps(asdict(notification), default=str).encode()
        request = urllib.request.Request(self._url, body, {"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                pass
        except OSError as error:
            # The URL may embed a token: log only the failure kind, never the URL.
            log.error("notification %s could not be delivered (%s)", notification.kind, error.__class__.__name__)
            LogNotifier().notify(notification)
