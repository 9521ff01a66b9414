"""Ports for what leaves the service: notifications, step messages and the audit log."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Notification:
    kind: str  # e.g. "data.rejected", "job.failed"
    title: str
    text: str
    facts: dict = field(default_factory=dict)
    links: dict = field(default_factory=dict)  # button label → URL (Approve / Reject / Details)
    table: tuple = ()  # rows of cells; the first row is the header (e.g. metric | candidate | champion)


class Notifier(Protocol):
    """Tells people what happened (Teams, a generic webhook, or the log)."""

    def notify(self, notification: Notification) -> None:
        """Best effort: must not raise for delivery failures (they are logged)."""


class StepQueue(Protocol):
    """The queue of pipeline steps (an Azure Storage queue; Azurite's locally), read by the
    queue-triggered function. Delivery is at least once: every step is idempotent."""

    def enqueue(self, body: str, delay_seconds: float = 0) -> None:
        """Send one message, visible after `delay_seconds` (at most 7 days)."""


class AuditLog(Protocol):
    """Append-only record of decisions, each entry hash-chained to the one before (shared.domain.audit_chain)."""

    def append(self, entry: dict) -> dict:
        """Add one entry (who, when, what, evidence) after the tail; returns it as stored, with seq, prev_hash, hash."""

    def read(self, limit: int = 100) -> list[dict]:
        """The newest `limit` entries, newest first."""
