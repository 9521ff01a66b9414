"""UTC time for the domain: now, and ISO-8601 text with milliseconds both ways."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds") if moment else None


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
